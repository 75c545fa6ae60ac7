"""The integration manager: set, read, list (masked), delete and rotate brand credentials.

`BrandVault` is what a run gets: the manager bound to the run's brand. It refuses to hand
out another brand's credentials (`TenantIsolationError`) and logs the attempt, without any
secret material, on the "warroom.vault" logger.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from warroom_pipelines.brand_keys import validate_brand_key
from warroom_pipelines.vault.crypto import (
    DecryptionError,
    MasterKeyring,
    UnsupportedFormat,
    VaultError,
    new_data_key,
    seal,
    unseal,
    unwrap_data_key,
    wrap_data_key,
)
from warroom_pipelines.vault.models import (
    ALERT_DESTINATIONS,
    Integration,
    IntegrationError,
    parse_integration,
)
from warroom_pipelines.vault.stores import DataKeyChanged, KeyStore

log = logging.getLogger("warroom.vault")

T = TypeVar("T", bound=Integration)

_WRITE_ATTEMPTS = 5


class IntegrationNotFound(VaultError):
    """The brand has no credentials stored for that integration."""


class TenantIsolationError(VaultError):
    """A vault bound to one brand was asked for another brand's credentials."""


@dataclass(frozen=True)
class IntegrationSummary:
    """One stored integration as `warroom keys list` shows it: secrets masked."""

    brand: str
    integration: str
    master_key_id: str
    fields: dict[str, Any]
    problem: str | None = None  # why the record cannot be read; the others still list


@dataclass(frozen=True)
class RotationResult:
    rewrapped: list[str] = field(default_factory=list)
    already_current: list[str] = field(default_factory=list)


class IntegrationManager:
    """Credentials of every brand, encrypted in a key store under the keyring's master keys."""

    def __init__(self, store: KeyStore, keyring: MasterKeyring) -> None:
        self.store = store
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"IntegrationManager(store={type(self.store).__name__})"

    def set(self, brand: str, integration: str, data: Mapping[str, Any]) -> Integration:
        """Validate and store one integration's credentials, replacing any previous ones."""
        brand = validate_brand_key(brand)
        credentials = parse_integration(brand, integration, data)
        plaintext = json.dumps(credentials.to_json(), sort_keys=True).encode()
        for _ in range(_WRITE_ATTEMPTS):
            data_key_id, data_key = self._data_key_for_write(brand)
            sealed = seal(data_key_id, data_key, brand, integration, plaintext)
            try:
                self.store.put_integration(brand, integration, sealed)
                return credentials
            except DataKeyChanged:
                continue  # a concurrent delete removed the brand's key: start again
        raise VaultError(f"the data key of brand {brand!r} kept changing while writing")

    def _data_key_for_write(self, brand: str) -> tuple[str, bytes]:
        wrapped = self.store.get_data_key(brand)
        if wrapped is None:
            data_key_id, data_key = new_data_key()
            candidate = wrap_data_key(self.keyring, brand, data_key_id, data_key)
            wrapped = self.store.create_data_key(brand, candidate)
            if wrapped == candidate:
                return data_key_id, data_key
        return wrapped.data_key_id, unwrap_data_key(self.keyring, brand, wrapped)

    def get(self, brand: str, integration: str) -> Integration:
        """Decrypt and validate one integration's credentials."""
        brand = validate_brand_key(brand)
        sealed = self.store.get_integration(brand, integration)
        wrapped = self.store.get_data_key(brand)
        if sealed is None or wrapped is None:
            raise IntegrationNotFound(f"brand {brand!r} has no {integration!r} credentials")
        if sealed.data_key_id != wrapped.data_key_id:
            raise DecryptionError(
                f"integration {integration!r} of brand {brand!r} was sealed under data key "
                f"{sealed.data_key_id}, not the brand's data key {wrapped.data_key_id}"
            )
        data_key = unwrap_data_key(self.keyring, brand, wrapped)
        plaintext = unseal(data_key, brand, integration, sealed)
        try:
            return parse_integration(brand, integration, json.loads(plaintext))
        except IntegrationError as exc:
            raise DecryptionError(f"stored credentials no longer validate: {exc}") from None

    def list(self, brand: str | None = None) -> list[IntegrationSummary]:
        """Every stored integration (of one brand, or of all), secrets masked."""
        brands = [validate_brand_key(brand)] if brand else self.store.list_brands()
        summaries = []
        for name in brands:
            wrapped = self.store.get_data_key(name)
            for integration in self.store.list_integrations(name):
                key_id = wrapped.master_key_id if wrapped else "-"
                try:
                    masked = self.get(name, integration).masked()
                # One record's fault (a missing master key is everyone's: it still raises).
                except (DecryptionError, UnsupportedFormat, IntegrationError) as exc:
                    summaries.append(
                        IntegrationSummary(name, integration, key_id, {}, type(exc).__name__)
                    )
                    continue
                summaries.append(IntegrationSummary(name, integration, key_id, masked))
        return summaries

    def delete(self, brand: str, integration: str) -> bool:
        """Remove one integration; the brand's last removes its data key too."""
        return self.store.delete_integration(validate_brand_key(brand), integration)

    def rotate_master(self) -> RotationResult:
        """Re-wrap every brand's data key with the current master key.

        Safe to interrupt and re-run: each brand's wrap is replaced atomically and names
        the master key it needs, so with old and new keys both configured every secret
        stays readable midway. Secrets themselves are untouched.
        """
        result = RotationResult()
        current = self.keyring.current.key_id
        for brand in self.store.list_brands():
            while (wrapped := self.store.get_data_key(brand)) is not None:
                if wrapped.master_key_id == current:
                    result.already_current.append(brand)
                    break
                data_key = unwrap_data_key(self.keyring, brand, wrapped)
                rewrapped = wrap_data_key(self.keyring, brand, wrapped.data_key_id, data_key)
                if self.store.replace_data_key(brand, wrapped, rewrapped):
                    log.info("re-wrapped the data key of brand %s with master key %s",
                             brand, current)  # fmt: skip
                    result.rewrapped.append(brand)
                    break
        return result

    def for_brand(self, brand: str) -> BrandVault:
        return BrandVault(self, validate_brand_key(brand))


class BrandVault:
    """The credentials of exactly one brand: what a run of that brand may read."""

    def __init__(self, manager: IntegrationManager, brand: str) -> None:
        self._manager = manager
        self.brand = brand

    def __repr__(self) -> str:
        return f"BrandVault(brand={self.brand!r})"

    @overload
    def get(self, integration: type[T], *, brand: str | None = None) -> T: ...

    @overload
    def get(self, integration: str, *, brand: str | None = None) -> Integration: ...

    def get(self, integration: str | type[Integration], *, brand: str | None = None) -> Any:
        """This brand's credentials for `integration` (a name or a credentials class)."""
        name = integration if isinstance(integration, str) else integration.name
        if brand is not None and brand != self.brand:
            log.warning(
                "tenant isolation: the vault of brand %r refused %r credentials of brand %r",
                self.brand,
                name,
                brand,
            )
            raise TenantIsolationError(
                f"the vault of brand {self.brand!r} cannot read credentials of brand {brand!r}"
            )
        return self._manager.get(self.brand, name)

    def integrations(self) -> list[str]:
        return self._manager.store.list_integrations(self.brand)

    def alert_destinations(self) -> list[Integration]:
        """The brand's stored alert destinations (Slack, webhook, email)."""
        return [self.get(n) for n in self.integrations() if n in ALERT_DESTINATIONS]
