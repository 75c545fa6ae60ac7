"""What every platform client returns, and the one path from account-local rows to UTC.

Platform modules parse their wire format into `LocalRow`s (account-local date and hour,
numbers already checked); `to_unified` turns them into the unified RAW columns of one UTC
day, using the shared UTC-day helpers (days.py), so time-zone handling exists once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.channels.errors import ChannelResponseError
from warroom_pipelines.channels.http import CallStats
from warroom_pipelines.days import in_utc_day, local_hours_to_utc
from warroom_pipelines.metrics import VOLUMES
from warroom_pipelines.schema import (
    KEY_COLUMNS,
    RAW_COLUMNS,
    empty_raw_frame,
)


@dataclass(frozen=True)
class Account:
    """Where a platform's numbers come from: whose account, in which currency and zone."""

    brand: str
    channel: str
    account_id: str
    currency: str = ""
    time_zone: str = ""

    def error(self, message: str, field: str) -> ChannelResponseError:
        return ChannelResponseError(
            message, brand=self.brand, channel=self.channel, account=self.account_id, field=field
        )

    def number(self, value: Any, field: str, *, missing: float | None = None) -> float:
        """A finite number from a JSON number or numeric string; `missing` stands in for
        absent values where the platform documents that it omits zeros."""
        if value is None:
            if missing is None:
                raise self.error("required number is missing", field)
            return missing
        if isinstance(value, bool):
            raise self.error(f"expected a number, got {value!r}", field)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(f"expected a number, got {str(value)[:40]!r}", field) from None
        if not math.isfinite(number) or number < 0:
            raise self.error(f"expected a finite non-negative number, got {value!r}", field)
        return number

    def count(self, value: Any, field: str, *, missing: int | None = None) -> int:
        number = self.number(value, field, missing=None if missing is None else float(missing))
        if number != int(number):
            raise self.error(f"expected a whole number, got {value!r}", field)
        return int(number)

    def located(self, currency: str, time_zone: str, *, zone_field: str) -> Account:
        """This account with its currency and (checked) IANA time zone filled in."""
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.error(f"unknown time zone {time_zone!r}", zone_field) from None
        return replace(self, currency=currency, time_zone=time_zone)

    def text(self, mapping: Any, key: str, field: str | None = None) -> str:
        """A required non-empty string (ids arrive as strings or numbers)."""
        value = mapping.get(key) if isinstance(mapping, dict) else None
        if value is None or isinstance(value, bool | dict | list) or str(value) == "":
            raise self.error("required field is missing", field or key)
        return str(value)


@dataclass(frozen=True)
class LocalRow:
    """One campaign-hour as the platform reports it, in the account's own time zone."""

    campaign_id: str
    campaign_name: str
    local_date: date
    local_hour: int
    impressions: int
    clicks: int
    spend: float
    conversions: float
    conversion_value: float
    conversions_source: str


def to_unified(rows: Sequence[LocalRow], account: Account, day: date, source: str) -> pd.DataFrame:
    """RAW_COLUMNS rows of the UTC day, DST collisions merged."""
    if not rows:
        return empty_raw_frame()
    local = pd.DataFrame([r.__dict__ for r in rows])
    hour_start = local_hours_to_utc(local["local_date"], local["local_hour"], account.time_zone)
    frame = pd.DataFrame(
        {
            "brand": account.brand,
            "channel": account.channel,
            "account_id": account.account_id,
            "campaign_id": local["campaign_id"],
            "campaign_name": local["campaign_name"],
            "hour_start": hour_start,
            "date": pd.Timestamp(day),
            "currency": account.currency,
            "account_timezone": account.time_zone,
            "impressions": local["impressions"],
            "clicks": local["clicks"],
            "spend": local["spend"],
            "conversions": local["conversions"],
            "conversion_value": local["conversion_value"],
            "source": source,
            "conversions_source": local["conversions_source"],
        }
    )
    frame = frame.loc[in_utc_day(frame["hour_start"], day)]
    frame = aggregate_hours(frame.reset_index(drop=True))
    return frame.astype(RAW_COLUMNS).reset_index(drop=True)


def aggregate_hours(frame: pd.DataFrame) -> pd.DataFrame:
    """Merge rows that landed on the same UTC hour (the spring-forward hour), summing measures."""
    keys = list(KEY_COLUMNS)
    if frame.empty or not frame.duplicated(keys).any():
        return frame
    measures = [m for m in VOLUMES if m in frame.columns]
    rest = [c for c in frame.columns if c not in keys and c not in measures]
    agg = {**{m: "sum" for m in measures}, **{c: "first" for c in rest}}
    return frame.groupby(keys, as_index=False, sort=False).agg(agg)[list(frame.columns)]


@dataclass
class AccountStats:
    """Per-account figures for the asset's metadata."""

    currency: str = ""
    time_zone: str = ""
    rows: int = 0
    spend: float = 0.0
    # Conversions a daily report gave for a campaign-day that had no hourly row to carry them.
    unallocated_conversions: float = 0.0
    calls: CallStats = field(default_factory=CallStats)


@dataclass
class ChannelFetch:
    """One brand-day of one channel: the rows and what it cost to get them."""

    channel: str
    frame: pd.DataFrame
    accounts: dict[str, AccountStats]

    @property
    def api_calls(self) -> int:
        return sum(a.calls.api_calls for a in self.accounts.values())

    @property
    def retries(self) -> int:
        return sum(a.calls.retries for a in self.accounts.values())

    @property
    def rate_limit_wait_s(self) -> float:
        return sum(a.calls.rate_limit_wait_s for a in self.accounts.values())

    def summary(self) -> dict[str, Any]:
        """Plain JSON-ready figures for the asset's metadata, per account and in total."""
        return {
            "rows": len(self.frame),
            "api_calls": self.api_calls,
            "retries": self.retries,
            "rate_limit_wait_s": round(self.rate_limit_wait_s, 3),
            "accounts": {
                account: {
                    "rows": stats.rows,
                    "spend": stats.spend,
                    "currency": stats.currency,
                    "time_zone": stats.time_zone,
                    "api_calls": stats.calls.api_calls,
                    "retries": stats.calls.retries,
                    "rate_limit_wait_s": round(stats.calls.rate_limit_wait_s, 3),
                    "unallocated_conversions": stats.unallocated_conversions,
                }
                for account, stats in self.accounts.items()
            },
        }


AccountReader = Callable[[str, date, AccountStats], tuple[Account, list[LocalRow]]]


def fetch_accounts(
    channel: str,
    source: str,
    account_ids: Sequence[str],
    day: date,
    read: AccountReader,
    as_of: datetime | None = None,
) -> ChannelFetch:
    """Read each account's local rows with the platform's reader and stack them as UTC rows.

    Only hours that have ended by `as_of` (default: now) are kept: the platforms report the
    hour in progress too, and its partial numbers would look like a collapse.
    """
    cutoff = pd.Timestamp(as_of or clock.now()).tz_convert("UTC")
    frames: list[pd.DataFrame] = []
    accounts: dict[str, AccountStats] = {}
    for account_id in dict.fromkeys(account_ids):  # an account listed twice is read once
        stats = accounts[account_id] = AccountStats()
        account, rows = read(account_id, day, stats)
        frame = to_unified(rows, account, day, source)
        frame = frame.loc[frame["hour_start"] + pd.Timedelta(hours=1) <= cutoff].reset_index(
            drop=True
        )
        stats.currency, stats.time_zone = account.currency, account.time_zone
        stats.rows = len(frame)
        stats.spend = round(float(frame["spend"].sum()), 6) if len(frame) else 0.0
        frames.append(frame)
    non_empty = [f for f in frames if len(f)]
    combined = pd.concat(non_empty, ignore_index=True) if non_empty else empty_raw_frame()
    return ChannelFetch(channel=channel, frame=combined.astype(RAW_COLUMNS), accounts=accounts)


class ChannelClient(Protocol):
    """What the channel assets call, whatever the platform."""

    channel: str

    def fetch_day(
        self, account_ids: Sequence[str], day: date, as_of: datetime | None = None
    ) -> ChannelFetch: ...
