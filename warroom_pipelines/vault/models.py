"""Typed, validated credentials of every integration a brand can bring.

Parsed from a JSON object (what `warroom keys set` reads); unknown fields are refused so a
misspelt key never silently does nothing. Errors name brand, integration and field, never
the value: a value that fails validation may well be a secret pasted in the wrong place.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar
from urllib.parse import urlsplit

from warroom_pipelines.sentry.severity import SEVERITIES
from warroom_pipelines.vault.crypto import VaultError
from warroom_pipelines.vault.secret import Secret


class IntegrationError(VaultError):
    """Credentials that do not validate; names brand, integration and field."""

    def __init__(self, problem: str, *, brand: str, integration: str, field: str | None = None):
        self.brand, self.integration, self.field = brand, integration, field
        what = f"field {field!r} " if field is not None else ""
        super().__init__(f"brand {brand!r}, integration {integration!r}: {what}{problem}")


_TOKEN = re.compile(r"\S{8,4096}")
_EMAIL = re.compile(r"[^@\s,;<>]+@[^@\s,;<>]+")
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]")


class _Fields:
    """Reads and checks one JSON object's fields, raising IntegrationError on the first fault."""

    def __init__(self, data: Mapping[str, Any], brand: str, integration: str, names: set[str]):
        self.brand, self.integration = brand, integration
        if not isinstance(data, Mapping):
            raise self.error("credentials must be a JSON object", None)
        unknown = sorted(set(data) - names)
        if unknown:
            raise self.error(f"unknown field; expected some of {sorted(names)}", unknown[0])
        self.data = data

    def error(self, problem: str, field: str | None) -> IntegrationError:
        return IntegrationError(
            problem, brand=self.brand, integration=self.integration, field=field
        )

    def _raw(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            raise self.error("is required", name)
        return value

    def text(self, name: str, pattern: re.Pattern[str], hint: str, required: bool = True) -> Any:
        value = self._raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            raise self.error(f"must be {hint}", name)
        return value.strip()

    def secret(self, name: str, required: bool = True) -> Any:
        value = self.text(name, _TOKEN, "a string of 8+ characters without spaces", required)
        return None if value is None else Secret(value)

    def url(self, name: str) -> Secret:
        value = self._raw(name, True)
        if not isinstance(value, str) or not _is_allowed_url(value.strip()):
            raise self.error("must be an https:// URL (http:// only to a loopback host)", name)
        return Secret(value.strip())

    def ids(self, name: str, normalize: Callable[[str], str | None], hint: str) -> tuple[str, ...]:
        value = self._raw(name, True)
        if not isinstance(value, list) or not value:
            raise self.error("must be a non-empty list", name)
        out = []
        for item in value:
            normal = normalize(str(item).strip()) if isinstance(item, str | int) else None
            if normal is None:
                raise self.error(f"every entry must be {hint}", name)
            out.append(normal)
        if len(set(out)) != len(out):
            raise self.error("has duplicate entries", name)
        return tuple(out)

    def severity(self) -> str:
        value = self.data.get("min_severity", "warning")
        if value not in SEVERITIES:
            raise self.error(f"must be one of {', '.join(SEVERITIES)}", "min_severity")
        return str(value)


def _is_allowed_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if not parts.hostname or any(c.isspace() for c in value):
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    try:
        return parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _digits(value: str, length: int | None = None) -> str | None:
    digits = value.replace("-", "") if length else value
    if not digits.isascii() or not digits.isdigit() or (length and len(digits) != length):
        return None
    return digits


def _meta_account(value: str) -> str | None:
    number = _digits(value.removeprefix("act_"))
    return None if number is None else f"act_{number}"


def _google_customer(value: str) -> str | None:
    return _digits(value, length=10)


class Integration:
    """Base of the credential models: the registry and (de)serialisation shared by all."""

    name: ClassVar[str]
    registry: ClassVar[dict[str, type[Integration]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Integration.registry[cls.name] = cls

    @classmethod
    def parse(cls, f: _Fields) -> Integration:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        """Plain JSON with secrets revealed: only ever fed to the encryption."""
        return {
            f.name: _plain(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }

    def masked(self) -> dict[str, Any]:
        """Safe to print: secrets as their masked hint."""
        return {
            f.name: v.masked() if isinstance(v, Secret) else _plain(v)
            for f in fields(self)  # type: ignore[arg-type]
            if (v := getattr(self, f.name)) is not None
        }

    def secrets(self) -> list[str]:
        """Every secret value, so that callers can scrub or search for them."""
        return [
            v.reveal()
            for f in fields(self)  # type: ignore[arg-type]
            if isinstance(v := getattr(self, f.name), Secret)
        ]


def _plain(value: Any) -> Any:
    if isinstance(value, Secret):
        return value.reveal()
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class MetaAdsCredentials(Integration):
    name: ClassVar[str] = "meta_ads"
    access_token: Secret
    ad_account_ids: tuple[str, ...]

    @classmethod
    def parse(cls, f: _Fields) -> MetaAdsCredentials:
        return cls(
            f.secret("access_token"),
            f.ids("ad_account_ids", _meta_account, "an ad account id (act_<digits> or digits)"),
        )


@dataclass(frozen=True)
class GoogleAdsCredentials(Integration):
    name: ClassVar[str] = "google_ads"
    developer_token: Secret
    client_id: str
    client_secret: Secret
    refresh_token: Secret
    customer_ids: tuple[str, ...]
    login_customer_id: str | None = None

    @classmethod
    def parse(cls, f: _Fields) -> GoogleAdsCredentials:
        login = f.text(
            "login_customer_id", re.compile(r"\d{3}-?\d{3}-?\d{4}"), "10 digits", required=False
        )
        return cls(
            f.secret("developer_token"),
            f.text("client_id", re.compile(r"[\w.-]{8,256}"), "an OAuth client id"),
            f.secret("client_secret"),
            f.secret("refresh_token"),
            f.ids("customer_ids", _google_customer, "a 10-digit customer id"),
            None if login is None else login.replace("-", ""),
        )


@dataclass(frozen=True)
class TikTokAdsCredentials(Integration):
    name: ClassVar[str] = "tiktok_ads"
    access_token: Secret
    advertiser_ids: tuple[str, ...]

    @classmethod
    def parse(cls, f: _Fields) -> TikTokAdsCredentials:
        return cls(
            f.secret("access_token"),
            f.ids("advertiser_ids", _digits, "a numeric advertiser id"),
        )


@dataclass(frozen=True)
class SlackAlerts(Integration):
    """A Slack incoming webhook; its URL is the credential."""

    name: ClassVar[str] = "slack"
    webhook_url: Secret
    min_severity: str = "warning"

    @classmethod
    def parse(cls, f: _Fields) -> SlackAlerts:
        return cls(f.url("webhook_url"), f.severity())


@dataclass(frozen=True)
class WebhookAlerts(Integration):
    """A generic webhook whose requests are signed with the brand's signing secret."""

    name: ClassVar[str] = "webhook"
    url: Secret
    signing_secret: Secret
    min_severity: str = "warning"

    @classmethod
    def parse(cls, f: _Fields) -> WebhookAlerts:
        return cls(f.url("url"), f.secret("signing_secret"), f.severity())


@dataclass(frozen=True)
class EmailAlerts(Integration):
    """Email through the brand's own SMTP server."""

    name: ClassVar[str] = "email"
    recipients: tuple[str, ...]
    sender: str
    host: str
    port: int = 587
    username: str | None = None
    password: Secret | None = None
    starttls: bool = True
    min_severity: str = "warning"

    @classmethod
    def parse(cls, f: _Fields) -> EmailAlerts:
        email = "an email address"
        recipients = f.ids("recipients", lambda v: v if _EMAIL.fullmatch(v) else None, email)
        port = f.data.get("port", 587)
        if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
            raise f.error("must be a port number (1-65535)", "port")
        starttls = f.data.get("starttls", True)
        if not isinstance(starttls, bool):
            raise f.error("must be true or false", "starttls")
        username = f.text("username", re.compile(r"\S{1,256}"), "a user name", required=False)
        password = f.secret("password", required=username is not None)
        if password is not None and username is None:
            raise f.error("is required when a password is given", "username")
        if username is not None and not starttls:
            raise f.error("must be true when logging in (no passwords in clear text)", "starttls")
        return cls(
            recipients,
            f.text("sender", _EMAIL, email),
            f.text("host", _HOST, "a host name"),
            port,
            username,
            password,
            starttls,
            f.severity(),
        )


INTEGRATIONS: tuple[str, ...] = tuple(Integration.registry)
ALERT_DESTINATIONS: tuple[str, ...] = ("slack", "webhook", "email")


def parse_integration(brand: str, integration: str, data: Mapping[str, Any]) -> Integration:
    """Validate one integration's JSON object into its typed credentials."""
    model = Integration.registry.get(integration)
    if model is None:
        raise IntegrationError(
            f"unknown integration; use one of {', '.join(INTEGRATIONS)}",
            brand=brand,
            integration=integration,
        )
    names = {f.name for f in fields(model)}  # type: ignore[arg-type]
    return model.parse(_Fields(data, brand, integration, names))
