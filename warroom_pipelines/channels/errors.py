"""Typed failures of the channel connectors.

Every error names the brand and channel (and the ad account when known) so that an
engineer knows whom to call; none ever carries a token. Meta puts `access_token` in the
query string and its `paging.next` URLs, so messages only ever show scrubbed URLs and the
base class redacts token-like parameters once more as a last line of defence (the
connector has already redacted the brand's own secret values, before any cut).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from warroom_pipelines.vault.redact import redact


def safe_url(url: str) -> str:
    """The URL without its query string and fragment: enough to locate a call, no tokens."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class ChannelError(Exception):
    """Base of connector failures; names brand, channel and account, never a secret."""

    def __init__(self, message: str, *, brand: str, channel: str, account: str | None = None):
        self.brand, self.channel, self.account = brand, channel, account
        where = f"brand={brand!r} channel={channel!r}"
        if account is not None:
            where += f" account={account!r}"
        super().__init__(redact(f"{message} ({where})"))


class ChannelAuthError(ChannelError):
    """The brand's token is expired, revoked or lacks permission: never retried; the brand
    must reconnect the integration. `status` is the HTTP status, when there was one."""

    def __init__(
        self, message: str, *, brand: str, channel: str, account: str | None, status: int | None
    ):
        self.status = status
        super().__init__(message, brand=brand, channel=channel, account=account)


class ChannelResponseError(ChannelError):
    """A body that does not match the platform's documented shape (malformed JSON, a
    missing required field, a number that is not a number)."""

    def __init__(self, message: str, *, brand: str, channel: str, account: str | None, field: str):
        self.field = field
        super().__init__(
            f"{message} [field={field!r}]", brand=brand, channel=channel, account=account
        )


class ChannelRequestError(ChannelError):
    """The platform rejected the request for a reason retrying cannot fix (bad parameter,
    unknown account)."""

    def __init__(self, message: str, *, brand: str, channel: str, account: str | None, status: int):
        self.status = status
        super().__init__(message, brand=brand, channel=channel, account=account)


class ChannelRetriesExhausted(ChannelError):
    """Transient failures or rate limits outlasted the retry budget (count or total time)."""

    def __init__(
        self,
        message: str,
        *,
        brand: str,
        channel: str,
        account: str | None,
        attempts: int,
        last_status: int | None,
    ):
        self.attempts, self.last_status = attempts, last_status
        super().__init__(message, brand=brand, channel=channel, account=account)
