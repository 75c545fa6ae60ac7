"""The one place War Room asks what time it is.

Every "now" in the product (the CLI, the dashboard's window, the Sentry's backtest end, the
demo's last day, alert cooldowns and retries, `ingested_at`) comes from `now()`, so a replay or
a test can move it. `WARROOM_NOW` (an ISO-8601 instant, UTC when it has no offset) pins it for a
whole process, a CLI run in a subprocess included; `pinned()` pins it inside one process.
Dagster's own clock (schedule ticks, run timestamps) is not ours: a schedule's moment is its
`scheduled_execution_time`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import pandas as pd

ENV_VAR = "WARROOM_NOW"

_pinned: datetime | None = None


class InvalidClock(ValueError):
    """`WARROOM_NOW` is set but is not an instant."""


def parse_instant(text: str | datetime | date | pd.Timestamp) -> datetime:
    """An instant as an aware UTC datetime; a naive one is taken as UTC."""
    try:
        stamp = pd.Timestamp(text)
    except (TypeError, ValueError) as exc:
        raise InvalidClock(f"{ENV_VAR}={text!r} is not an ISO-8601 instant") from exc
    if pd.isna(stamp):
        raise InvalidClock(f"{ENV_VAR}={text!r} is not an ISO-8601 instant")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.to_pydatetime()


def now() -> datetime:
    """The current instant, aware, in UTC."""
    if _pinned is not None:
        return _pinned
    text = os.environ.get(ENV_VAR, "").strip()
    return parse_instant(text) if text else datetime.now(UTC)


def now_timestamp() -> pd.Timestamp:
    """`now()` as a pandas Timestamp (UTC), for frame arithmetic."""
    return pd.Timestamp(now())


def today() -> date:
    """Today's UTC date: the date partition that is still filling."""
    return now().date()


@contextmanager
def pinned(moment: str | datetime | date | pd.Timestamp) -> Iterator[datetime]:
    """Hold `now()` at `moment` inside the block, for every thread of the process."""
    global _pinned
    before, _pinned = _pinned, parse_instant(moment)
    try:
        yield _pinned
    finally:
        _pinned = before
