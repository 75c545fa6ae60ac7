"""Envelope encryption of brand credentials with AES-256-GCM.

Each brand has its own random 256-bit *data key*; every secret of the brand is encrypted
with it. The data key is stored only *wrapped* (encrypted) by a *master key*, so rotating
the master key re-wraps one small record per brand and never touches the secrets.

Associated data (authenticated, not stored) binds every ciphertext to where it lives:

- a wrapped data key to its brand, the purpose "data-key", the format version, its own
  data key id and the id of the master key that wrapped it;
- a secret to its brand, its integration name and the format version.

It is built from the *location* the caller asks for, never from the record itself, so a
record copied to another brand or integration fails authentication. Every encryption uses a
fresh random 96-bit nonce.

Master keys come from the environment:

- ``PERFORMANCE_ENCRYPTION_KEY``: the current master key, standard base64 of 32 random bytes
  (``python -c "import base64,os; print(base64.b64encode(os.urandom(32)).decode())"``).
- ``PERFORMANCE_ENCRYPTION_KEY_PREVIOUS`` (optional): older master keys, comma-separated,
  each in the same base64 form. They only unwrap; new wraps always use the current key.

A master key's id is the first 8 hex digits of SHA-256 over a fixed label and the key. It is
stored beside every wrap, so a record names the key it needs and a missing or wrong key is a
clear `UnknownMasterKey` error instead of a bare authentication failure. Rotation: put the new
key in ``PERFORMANCE_ENCRYPTION_KEY``, move the old one to ``..._PREVIOUS``, run
``warroom keys rotate-master``, then remove the old key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ENV = "PERFORMANCE_ENCRYPTION_KEY"
PREVIOUS_KEYS_ENV = "PERFORMANCE_ENCRYPTION_KEY_PREVIOUS"


class VaultError(Exception):
    """Base of every key-vault error; messages never carry key or secret material."""


class InvalidMasterKey(VaultError):
    """A configured master key is not base64 of exactly 32 bytes."""


class MissingEncryptionKey(VaultError):
    """The production profile was started without PERFORMANCE_ENCRYPTION_KEY."""


class UnknownMasterKey(VaultError):
    """A record was wrapped by a master key that is not on the keyring."""


class DecryptionError(VaultError):
    """Authentication failed: wrong key, a tampered record, or a record moved elsewhere."""


class UnsupportedFormat(VaultError):
    """A stored record has a format version this code does not read."""


def parse_master_key(encoded: str, source: str) -> MasterKey:
    """Decode one base64 master key; `source` names where it came from (never the value)."""
    try:
        raw = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMasterKey(f"{source} is not valid base64") from None
    if len(raw) != KEY_BYTES:
        raise InvalidMasterKey(
            f"{source} must decode to {KEY_BYTES} bytes, got {len(raw)} "
            f'(generate one with: python -c "import base64,os; '
            f'print(base64.b64encode(os.urandom(32)).decode())")'
        )
    return MasterKey(raw)


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit master key; its repr shows only its id."""

    material: bytes = field(repr=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise InvalidMasterKey(f"a master key must be {KEY_BYTES} bytes")
        digest = hashlib.sha256(b"warroom-master-key-id\x00" + self.material).hexdigest()
        object.__setattr__(self, "key_id", digest[:8])

    def __reduce__(self) -> NoReturn:
        # Pickling would carry the key into whatever stores the pickle: refuse it.
        raise TypeError("master keys are not serialisable")


@dataclass(frozen=True)
class MasterKeyring:
    """The current master key (wraps) and older ones (unwrap only), by id."""

    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MasterKeyring:
        env = os.environ if environ is None else environ
        encoded = env.get(KEY_ENV, "").strip()
        if not encoded:
            raise MissingEncryptionKey(f"{KEY_ENV} is not set")
        return cls.from_strings(encoded, env.get(PREVIOUS_KEYS_ENV, ""))

    @classmethod
    def from_strings(
        cls, current: str, previous: str = "", *, current_source: str = KEY_ENV
    ) -> MasterKeyring:
        """`current_source` names where the current key came from, for its error messages."""
        parts = [p for p in (previous or "").split(",") if p.strip()]
        return cls(
            parse_master_key(current, current_source),
            tuple(
                parse_master_key(p, f"{PREVIOUS_KEYS_ENV} (entry {i})")
                for i, p in enumerate(parts, start=1)
            ),
        )

    @property
    def key_ids(self) -> tuple[str, ...]:
        return (self.current.key_id, *(k.key_id for k in self.previous))

    def get(self, key_id: str, brand: str) -> MasterKey:
        for key in (self.current, *self.previous):
            if key.key_id == key_id:
                return key
        raise UnknownMasterKey(
            f"the data key of brand {brand!r} is wrapped by master key id {key_id}, which is not "
            f"configured (configured ids: {', '.join(self.key_ids)}); set {KEY_ENV} or "
            f"{PREVIOUS_KEYS_ENV} to the master key that wrote it"
        )


@dataclass(frozen=True)
class WrappedDataKey:
    """A brand's data key, encrypted by one master key. The brand is where it is stored."""

    data_key_id: str
    master_key_id: str
    nonce: bytes
    ciphertext: bytes
    format_version: int = FORMAT_VERSION


@dataclass(frozen=True)
class SealedSecret:
    """One integration's credentials, encrypted with its brand's data key."""

    data_key_id: str
    nonce: bytes
    ciphertext: bytes
    format_version: int = FORMAT_VERSION


def _associated_data(**parts: str | int) -> bytes:
    # Canonical JSON: unambiguous (no "a|b" vs "a" + "|b" confusion) and stable.
    return json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()


def _check_format(version: int, what: str) -> None:
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(
            f"{what} has format version {version}; this War Room reads version {FORMAT_VERSION}"
        )


def new_data_key() -> tuple[str, bytes]:
    """A fresh data key and its id (random, so two brands never share one)."""
    return secrets.token_hex(8), AESGCM.generate_key(bit_length=256)


def wrap_data_key(
    keyring: MasterKeyring, brand: str, data_key_id: str, data_key: bytes
) -> WrappedDataKey:
    master = keyring.current
    nonce = os.urandom(NONCE_BYTES)
    aad = _data_key_aad(brand, data_key_id, master.key_id, FORMAT_VERSION)
    return WrappedDataKey(
        data_key_id, master.key_id, nonce, AESGCM(master.material).encrypt(nonce, data_key, aad)
    )


def unwrap_data_key(keyring: MasterKeyring, brand: str, wrapped: WrappedDataKey) -> bytes:
    _check_format(wrapped.format_version, f"the data key of brand {brand!r}")
    master = keyring.get(wrapped.master_key_id, brand)
    aad = _data_key_aad(brand, wrapped.data_key_id, wrapped.master_key_id, wrapped.format_version)
    try:
        return AESGCM(master.material).decrypt(wrapped.nonce, wrapped.ciphertext, aad)
    except InvalidTag:
        raise DecryptionError(
            f"the data key of brand {brand!r} does not authenticate under master key id "
            f"{master.key_id}: the record was altered or belongs to another brand"
        ) from None


def _data_key_aad(brand: str, data_key_id: str, master_key_id: str, version: int) -> bytes:
    return _associated_data(
        purpose="data-key",
        brand=brand,
        data_key_id=data_key_id,
        master_key_id=master_key_id,
        format_version=version,
    )


def _secret_aad(brand: str, integration: str, version: int) -> bytes:
    return _associated_data(
        purpose="integration", brand=brand, integration=integration, format_version=version
    )


def seal(
    data_key_id: str, data_key: bytes, brand: str, integration: str, plaintext: bytes
) -> SealedSecret:
    nonce = os.urandom(NONCE_BYTES)
    aad = _secret_aad(brand, integration, FORMAT_VERSION)
    return SealedSecret(data_key_id, nonce, AESGCM(data_key).encrypt(nonce, plaintext, aad))


def unseal(data_key: bytes, brand: str, integration: str, sealed: SealedSecret) -> bytes:
    _check_format(sealed.format_version, f"integration {integration!r} of brand {brand!r}")
    aad = _secret_aad(brand, integration, sealed.format_version)
    try:
        return AESGCM(data_key).decrypt(sealed.nonce, sealed.ciphertext, aad)
    except InvalidTag:
        raise DecryptionError(
            f"integration {integration!r} of brand {brand!r} does not authenticate: the record "
            "was altered, moved from another brand or integration, or written under another "
            "data key"
        ) from None
