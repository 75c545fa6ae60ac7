"""Where alerts go: Slack incoming webhooks, signed webhooks, email over SMTP, a JSON-lines file.

Destinations hold their credentials as `Secret`s; no error, log line or delivery-log row ever
carries a URL, signing secret or password (`scrub`).

Signed webhooks. Each POST carries these headers:

- `X-WarRoom-Timestamp`: Unix seconds when the request was signed.
- `X-WarRoom-Signature`: `v1=` + hex HMAC-SHA256 of `<timestamp>.<raw body>` keyed with the
  destination's signing secret.
- `Idempotency-Key` (and `X-WarRoom-Idempotency-Key`): `<incident id>:<destination>:v<version>`.

A receiver verifies with

    expected = "v1=" + hmac.new(secret, f"{timestamp}.".encode() + body, "sha256").hexdigest()
    ok = hmac.compare_digest(signature, expected)

rejects timestamps more than 5 minutes away from its clock (replays), and drops a request
whose idempotency key it has already processed: War Room delivers at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from warroom_pipelines import clock
from warroom_pipelines.alerts.messages import (
    Notice,
    email_message,
    slack_payload,
    webhook_document,
)
from warroom_pipelines.sentry.severity import severity_rank
from warroom_pipelines.vault.redact import redact
from warroom_pipelines.vault.secret import Secret

HTTP_TIMEOUT_S = 5.0
SMTP_TIMEOUT_S = 10.0
TIMESTAMP_HEADER = "X-WarRoom-Timestamp"
SIGNATURE_HEADER = "X-WarRoom-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>)]+")


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """A delivery error as stored and shown: redacted first, then without URLs (a webhook's
    URL is its credential), then cut."""
    return _URL.sub("<url>", redact(text, secrets))[:500]


class DeliveryError(Exception):
    """A send failed; the message is scrubbed and `response_code` is the receiver's answer."""

    def __init__(
        self, message: str, *, response_code: int | None = None, unsafe_to_repeat: bool = False
    ) -> None:
        super().__init__(message)
        self.response_code = response_code
        # The receiver may have taken it and would show a repeat twice (no idempotency key):
        # the dispatcher re-sends such a send at most once.
        self.unsafe_to_repeat = unsafe_to_repeat


class Destination(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def min_severity(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def secrets(self) -> list[str]:
        """The credential values, only so that error texts can be scrubbed of them."""
        ...

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        """Deliver one notice; returns the receiver's response code; raises DeliveryError."""
        ...


def accepts(destination: Destination, severity: str) -> bool:
    return severity_rank(severity) >= severity_rank(destination.min_severity)


def _post(
    destination: Destination,
    body: bytes,
    headers: dict[str, str],
    url: Secret,
    *,
    deduplicates: bool,
) -> int:
    """POST the alert; `deduplicates` says whether the receiver drops a repeated key."""
    try:
        response = requests.post(url.reveal(), data=body, headers=headers, timeout=HTTP_TIMEOUT_S)
    except requests.RequestException as exc:
        # requests' own message quotes the URL path (a Slack token is in it): name the type only.
        message = f"{destination.kind} destination {destination.name!r}: {type(exc).__name__}"
        # A read timeout came after the request was sent: the receiver may have processed it.
        unsafe = isinstance(exc, requests.ReadTimeout) and not deduplicates
        if unsafe:
            message += " (it may have arrived: re-sent at most once, as a repeat shows twice)"
        raise DeliveryError(message, unsafe_to_repeat=unsafe) from None
    if not 200 <= response.status_code < 300:
        raise DeliveryError(
            f"{destination.kind} destination {destination.name!r} answered HTTP "
            f"{response.status_code}",
            response_code=response.status_code,
        )
    return response.status_code


def _validated(name: str, min_severity: str) -> None:
    severity_rank(min_severity)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name):
        raise ValueError(f"destination name {name!r} must be a lowercase slug")


@dataclass(frozen=True)
class SlackDestination:
    name: str
    url: Secret
    min_severity: str = "warning"
    kind = "slack"

    def __post_init__(self) -> None:
        _validated(self.name, self.min_severity)

    def secrets(self) -> list[str]:
        return [self.url.reveal()]

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        body = json.dumps(slack_payload(notice)).encode()
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: key}
        # Slack's incoming webhooks ignore the key and return no message id to check against.
        return _post(self, body, headers, self.url, deduplicates=False)


def sign(secret: Secret, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.reveal().encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


@dataclass(frozen=True)
class WebhookDestination:
    name: str
    url: Secret
    signing_secret: Secret
    min_severity: str = "warning"
    kind = "webhook"

    def __post_init__(self) -> None:
        _validated(self.name, self.min_severity)

    def secrets(self) -> list[str]:
        return [self.url.reveal(), self.signing_secret.reveal()]

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        body = json.dumps(webhook_document(notice, key), sort_keys=True).encode()
        timestamp = str(int(clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.signing_secret, timestamp, body),
            IDEMPOTENCY_HEADER: key,
            "X-WarRoom-Idempotency-Key": key,
        }
        return _post(self, body, headers, self.url, deduplicates=True)


@dataclass(frozen=True)
class EmailDestination:
    """SMTP with STARTTLS and login; `ca_file` trusts a private CA (system CAs otherwise)."""

    name: str
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(""))
    starttls: bool = True
    ca_file: str | None = None
    min_severity: str = "warning"
    kind = "email"

    def __post_init__(self) -> None:
        _validated(self.name, self.min_severity)
        if not self.recipients:
            raise ValueError(f"email destination {self.name!r} has no recipients")
        if self.username and not self.starttls:
            raise ValueError(f"email destination {self.name!r}: refusing to log in without TLS")

    def secrets(self) -> list[str]:
        return [self.password.reveal()]

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        message = email_message(notice, key, first_key, self.sender, list(self.recipients))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_S) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.ca_file))
                    smtp.ehlo()
                if self.username:
                    smtp.login(self.username, self.password.reveal())
                smtp.send_message(message)
                return 250
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"email destination {self.name!r}: SMTP {exc.smtp_code}: "
                f"{scrub(repr(exc.smtp_error), self.secrets())}",
                response_code=exc.smtp_code,
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"email destination {self.name!r}: {type(exc).__name__}: "
                f"{scrub(str(exc), self.secrets())}"
            ) from None


@dataclass(frozen=True)
class FileDestination:
    """JSON lines, one object per delivered alert; the local profile's default destination.

    The sink is its own receiver: it skips a key it already holds, so a retry after a crash
    between writing and logging does not write the alert twice.
    """

    name: str
    path: Path
    min_severity: str = "info"
    kind = "file"

    def __post_init__(self) -> None:
        _validated(self.name, self.min_severity)

    def secrets(self) -> list[str]:
        return []

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            with self.path.open(encoding="utf-8") as existing:
                if any(json.loads(line).get("idempotency_key") == key for line in existing):
                    return None
        record = webhook_document(notice, key)
        record["delivered_at"] = clock.now().isoformat()
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(record, sort_keys=True) + "\n")
        return None


class DestinationProvider(Protocol):
    """A brand's destinations; the vault implements this with the brand's stored credentials."""

    def destinations(self, brand: str) -> list[Destination]: ...


@dataclass(frozen=True)
class FileSinkDestinations:
    """The local profile: every brand writes to `<directory>/<brand>.jsonl`."""

    directory: Path
    min_severity: str = "info"

    def destinations(self, brand: str) -> list[Destination]:
        return [FileDestination("file", self.directory / f"{brand}.jsonl", self.min_severity)]


@dataclass(frozen=True)
class ChainedDestinations:
    """Several providers at once (e.g. the local file sink and the vault's destinations)."""

    providers: tuple[DestinationProvider, ...]

    def destinations(self, brand: str) -> list[Destination]:
        found = [d for provider in self.providers for d in provider.destinations(brand)]
        names = [d.name for d in found]
        if len(set(names)) != len(names):
            raise ValueError(f"brand {brand!r} has two destinations with the same name: {names}")
        return found


def destination_from_integration(integration: Any) -> Destination:
    """A vault alert integration (SlackAlerts, WebhookAlerts, EmailAlerts) as a destination
    named after the integration; read by attribute so that alerts does not import the vault."""
    kind = integration.name
    if kind == "slack":
        return SlackDestination("slack", integration.webhook_url, integration.min_severity)
    if kind == "webhook":
        return WebhookDestination(
            "webhook", integration.url, integration.signing_secret, integration.min_severity
        )
    if kind == "email":
        return EmailDestination(
            name="email",
            host=integration.host,
            port=integration.port,
            sender=integration.sender,
            recipients=tuple(integration.recipients),
            username=integration.username or "",
            password=integration.password or Secret(""),
            starttls=integration.starttls,
            min_severity=integration.min_severity,
        )
    raise ValueError(f"vault integration {kind!r} is not an alert destination")


@dataclass(frozen=True)
class VaultDestinations:
    """Each brand's destinations as stored in the vault, e.g.
    `VaultDestinations(lambda brand: vault.for_brand(brand).alert_destinations())`."""

    alert_integrations: Callable[[str], Sequence[Any]]

    def destinations(self, brand: str) -> list[Destination]:
        return [destination_from_integration(i) for i in self.alert_integrations(brand)]
