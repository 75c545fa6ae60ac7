"""Channel health: for each brand-day and source, whether its last read worked, in words.

The channel assets store one row per brand-day and source (`channel_health.<source>`), so
that every renderer (the dashboard asset, `warroom dashboard`, an analyst's SQL) tells the
same truth about a brand: which sources are fresh, which failed and since when, and which
have no keys. A reason is a sentence for a person, never an exception, and never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.channels.errors import (
    ChannelAuthError,
    ChannelError,
    ChannelRequestError,
    ChannelResponseError,
    ChannelRetriesExhausted,
)
from warroom_pipelines.schema import DEMO_SOURCE, SchemaError
from warroom_pipelines.vault.crypto import VaultError
from warroom_pipelines.vault.redact import redact

OK, FAILED, STALE, NO_KEYS = "ok", "failed", "stale", "no_keys"
DEMO = DEMO_SOURCE  # the demo source's health rows (its metrics carry platform channels)
# The failures one brand-day's read can have; they are recorded, never raised, so that one
# brand's broken platform never stops another brand's read in the same batch.
READ_ERRORS = (ChannelError, SchemaError, VaultError)
HEALTH_COLUMNS: dict[str, str] = {
    "brand": "string",
    "date": "datetime64[us]",
    "channel": "string",
    "status": "string",
    "reason": "string",
    "last_success": "datetime64[us, UTC]",
    "checked_at": "datetime64[us, UTC]",
    "reported_hours": "Int64",  # account-hours the source reported (null: never read)
}
_DETAIL_LIMIT = 200


def source_name(channel: str) -> str:
    return "The demo source" if channel == DEMO else registry.label(channel)


def failure_reason(exc: Exception, channel: str) -> str:
    """What went wrong and what to do, with the error's first line (scrubbed) as detail."""
    name = source_name(channel)
    if isinstance(exc, ChannelAuthError):
        sentence = f"{name} refused the brand's keys; reconnect them with `warroom keys set`"
    elif isinstance(exc, ChannelRetriesExhausted):
        sentence = f"{name} kept failing after {exc.attempts} tries; the next refresh retries"
    elif isinstance(exc, ChannelResponseError):
        sentence = f"{name} sent a reply War Room cannot read; the next refresh retries"
    elif isinstance(exc, ChannelRequestError):
        sentence = f"{name} rejected the request (HTTP {exc.status}); check the account ids"
    elif isinstance(exc, SchemaError):
        sentence = f"{name} sent rows that do not fit the unified table"
    elif isinstance(exc, VaultError):
        sentence = f"the brand's {name} keys could not be read from the vault"
    else:
        sentence = f"{name} could not be read"
    # Connector errors are redacted with the brand's secrets where they are raised; this masks
    # token-like parameters of any other error before the cut.
    detail = redact((str(exc).strip().splitlines() or [""])[0])[:_DETAIL_LIMIT]
    return f"{sentence}. Detail: {detail}" if detail else f"{sentence}."


def no_keys_reason(channel: str) -> str:
    return f"no {source_name(channel)} keys for this brand (add them with `warroom keys set`)"


def health_row(
    brand: str,
    day: date,
    channel: str,
    status: str,
    *,
    checked_at: pd.Timestamp,
    reason: str = "",
    last_success: pd.Timestamp | None = None,
    hours: int | None = None,
) -> dict[str, Any]:
    return {
        "brand": brand,
        "date": pd.Timestamp(day),
        "channel": channel,
        "status": status,
        "reason": reason,
        "last_success": last_success,
        "checked_at": checked_at,
        "reported_hours": hours,
    }


def health_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(HEALTH_COLUMNS))
    for column in ("last_success", "checked_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.astype(HEALTH_COLUMNS)


def after_failure(
    brand: str,
    day: date,
    channel: str,
    reason: str,
    previous: Mapping[Any, Any] | None,
    *,
    kept_rows: int,
    checked_at: pd.Timestamp,
) -> dict[str, Any]:
    """A failed read keeps the brand-day's last good rows: the source is then stale (its
    rows are as of `last_success`), or failed when there were none to keep."""
    last = previous.get("last_success") if previous else None
    last = None if last is None or pd.isna(last) else pd.Timestamp(last)
    hours = previous.get("reported_hours") if previous and kept_rows else None
    return health_row(
        brand,
        day,
        channel,
        STALE if kept_rows else FAILED,
        checked_at=checked_at,
        reason=reason,
        last_success=last,
        hours=None if hours is None or pd.isna(hours) else int(hours),
    )
