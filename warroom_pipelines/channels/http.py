"""The one HTTP layer of the channel connectors: bounded retries, back-off, rate limits.

Each platform signals trouble differently (Meta: HTTP 400 with error codes and usage
headers; Google: HTTP 429 RESOURCE_EXHAUSTED with a retry delay; TikTok: HTTP 200 with a
non-zero body code), so each platform module supplies a classifier that turns a reply into
a `Verdict`; the waiting, counting and giving up live here once. Sleep, clock and jitter
are injectable so that tests run against real local servers without waiting.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import requests

from warroom_pipelines.channels.errors import (
    ChannelAuthError,
    ChannelRequestError,
    ChannelResponseError,
    ChannelRetriesExhausted,
    safe_url,
)
from warroom_pipelines.vault.redact import redact
from warroom_pipelines.vault.secret import Secret

log = logging.getLogger(__name__)

_TRANSIENT_FAILURES = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class _ScrubTokens(logging.Filter):
    """urllib3 logs each request line at DEBUG, query string (Meta's token) included."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_ScrubTokens())

REASON_CHARS = 300  # of a platform's reason, cut only after it was redacted


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on one logical call: attempts (first try included) and total seconds."""

    max_attempts: int = 6
    max_elapsed_s: float = 900.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0
    request_timeout_s: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential back-off with 'equal jitter': half fixed, half random."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** (attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Outcome(Enum):
    OK = "ok"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    AUTH = "auth"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Verdict:
    """What a platform classifier concluded about one reply."""

    outcome: Outcome
    reason: str = ""
    wait_s: float | None = None  # the platform's own "retry after", when it says one


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None when the body is not JSON


Classifier = Callable[[Reply], Verdict]


def generic_verdict(reply: Reply) -> Verdict:
    """The HTTP-level reading every platform shares (429, 5xx, 401/403)."""
    if 200 <= reply.status < 300:
        return Verdict(Outcome.OK)
    if reply.status == 429:
        return Verdict(Outcome.RATE_LIMITED, "HTTP 429", _retry_after(reply.headers))
    if reply.status >= 500:
        return Verdict(Outcome.TRANSIENT, f"HTTP {reply.status}")
    if reply.status in (401, 403):
        return Verdict(Outcome.AUTH, f"HTTP {reply.status}")
    return Verdict(Outcome.REJECTED, f"HTTP {reply.status}")


@dataclass(frozen=True)
class ErrorCodes:
    """A platform's numeric error codes by what they mean (its documentation lists them)."""

    auth: frozenset[int]
    rate_limited: frozenset[int]
    transient: frozenset[int]

    def verdict(
        self,
        code: object,
        reason: str,
        status: int,
        *,
        transient: bool = False,
        wait_s: float | None = None,
    ) -> Verdict:
        """Refused keys, then rate limits, then transient failures (any 5xx too); anything
        else is a request the platform rejects."""
        if code in self.auth:
            return Verdict(Outcome.AUTH, reason)
        if code in self.rate_limited:
            return Verdict(Outcome.RATE_LIMITED, reason, wait_s)
        if transient or code in self.transient or status >= 500:
            return Verdict(Outcome.TRANSIENT, reason)
        return Verdict(Outcome.REJECTED, reason)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@dataclass
class CallStats:
    """Per-account cost of a fetch, reported in the asset's metadata."""

    api_calls: int = 0
    retries: int = 0
    rate_limit_wait_s: float = 0.0


class ChannelHttp:
    """JSON over HTTP for one brand and channel, with the platform's classifier."""

    def __init__(
        self,
        *,
        brand: str,
        channel: str,
        classifier: Classifier,
        policy: RetryPolicy,
        secrets: tuple[Secret, ...] = (),
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.brand, self.channel = brand, channel
        self._classify = classifier
        self._policy = policy
        self._secrets = secrets
        self._session = session or requests.Session()
        self._sleep, self._clock = sleep, clock
        self._rng = rng or random.Random()

    def add_secret(self, secret: Secret) -> None:
        """Also scrub this value (e.g. a freshly minted access token) from messages."""
        self._secrets = (*self._secrets, secret)

    def request(
        self,
        method: str,
        url: str,
        *,
        account: str | None,
        stats: CallStats,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        """Send until the platform answers OK, then return the parsed JSON body."""
        started = self._clock()
        attempt = 0
        where = f"{method} {safe_url(url)}"
        while True:
            attempt += 1
            stats.api_calls += 1
            status: int | None = None
            garbled = False
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    json=json_body,
                    data=form,
                    timeout=self._policy.request_timeout_s,
                )
            except _TRANSIENT_FAILURES as exc:
                # Its text embeds the full URL, query string included: keep only the type.
                verdict = Verdict(Outcome.TRANSIENT, type(exc).__name__)
            except requests.RequestException as exc:
                # Not a network hiccup (an invalid URL, too many redirects): retrying won't help.
                verdict = Verdict(Outcome.REJECTED, type(exc).__name__)
            else:
                status = response.status_code
                reply = Reply(status, response.headers, _json_or_none(response))
                verdict = self._classify(reply)
                if verdict.outcome is Outcome.OK and reply.body is not None:
                    return reply.body
                if verdict.outcome is Outcome.OK:
                    # A cut connection or a proxy's page: transient, like a dropped socket.
                    verdict = Verdict(Outcome.TRANSIENT, f"HTTP {status} body is not JSON")
                    garbled = True
            reason = self._redact(verdict.reason)[:REASON_CHARS]
            if verdict.outcome is Outcome.AUTH:
                raise ChannelAuthError(
                    f"{where} refused the brand's credentials ({reason}); "
                    "ask the brand to reconnect this integration",
                    brand=self.brand,
                    channel=self.channel,
                    account=account,
                    status=status,
                )
            if verdict.outcome is Outcome.REJECTED:
                raise ChannelRequestError(
                    f"{where} rejected the request ({reason})",
                    brand=self.brand,
                    channel=self.channel,
                    account=account,
                    status=status or 0,
                )
            delay = self._policy.backoff(attempt, self._rng)
            if verdict.wait_s is not None:
                delay = max(delay, verdict.wait_s)
            elapsed = self._clock() - started
            if attempt >= self._policy.max_attempts or elapsed + delay > self._policy.max_elapsed_s:
                bound = (
                    f"{self._policy.max_attempts} attempts"
                    if attempt >= self._policy.max_attempts
                    else f"{self._policy.max_elapsed_s:.0f}s budget (next wait {delay:.0f}s)"
                )
                if garbled:
                    raise ChannelResponseError(
                        f"{where} last answered HTTP {status} with a body that is not JSON; "
                        f"gave up after {attempt} attempts in {elapsed:.1f}s, retry bound "
                        f"{bound} reached",
                        brand=self.brand,
                        channel=self.channel,
                        account=account,
                        field="body",
                    )
                raise ChannelRetriesExhausted(
                    f"{where} still failing after {attempt} attempts in {elapsed:.1f}s, "
                    f"retry bound {bound} reached; last: {reason}",
                    brand=self.brand,
                    channel=self.channel,
                    account=account,
                    attempts=attempt,
                    last_status=status,
                )
            log.warning(
                "%s %s brand=%s account=%s: %s; retry %d in %.1fs",
                self.channel,
                where,
                self.brand,
                account,
                reason,
                attempt,
                delay,
            )
            self._sleep(delay)
            stats.retries += 1
            if verdict.outcome is Outcome.RATE_LIMITED:
                stats.rate_limit_wait_s += delay

    def _redact(self, text: str) -> str:
        return redact(text, (s.reveal() for s in self._secrets))


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
