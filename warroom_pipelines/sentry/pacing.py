"""Budget pacing per campaign-hour: has the campaign spent its daily budget, and by how much
has it overspent it.

A campaign that has spent its daily budget stops delivering for the rest of its account's
local day: that is pacing, not an outage, so its expected volume from then on is nil. Spend
beyond what the platform may overdeliver on a day is a runaway, and the excess is the money
at stake. The budget is the campaign-day's `daily_budget` where it is known; otherwise it is
inferred from the campaign's own history: the daily total it reached on recent days when its
cumulative spend flattened well before the local day ended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.schema import SchemaError
from warroom_pipelines.sentry.series import Panel

BUDGET_COLUMNS: tuple[str, ...] = (
    "brand", "channel", "campaign_id", "date", "daily_budget", "currency",
)  # fmt: skip
# The most a platform may spend on one day against a daily budget is its record's
# `overdelivery` (../shared/adapi/budgets.md); this for a channel no platform is called.
DEFAULT_OVERDELIVERY = 1.25
REACHED = 0.95  # a day's spend at this share of the budget has reached it (platforms pace to it)
FLAT_HOURS = 3  # a capped day: nothing left to spend for at least the last hours of the day
FLAT_SHARE = 0.02  # ... which carried at most this share of its spend
CAPPED_DAYS = 2  # capped days among the recent ones needed to infer a cap
RECENT_DAYS = 14


@dataclass(frozen=True)
class Pacing:
    """Arrays [campaign, hour] over the panel's hours."""

    capped: np.ndarray  # bool: the budget had been reached before the hour
    over: np.ndarray  # the hour's spend beyond the tolerated daily budget


def local_days(panel: Panel, timezones: pd.Series) -> np.ndarray:
    """[campaign, hour] the account-local date of each panel hour, as days since 1970."""
    hours = pd.date_range(panel.start, periods=panel.hours, freq="h")
    out = np.zeros((panel.size, panel.hours), dtype=np.int64)
    for zone in timezones.unique():
        local = hours.tz_convert(str(zone)).tz_localize(None).normalize()
        days = np.asarray((local - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1))
        out[(timezones == zone).to_numpy()] = days
    return out


def pacing(
    panel: Panel,
    timezones: pd.Series,
    budgets: pd.DataFrame | None,
    train_end: int,
    brand: str,
) -> Pacing:
    """Pacing of the campaign `panel`; `train_end` is the first hour of the scored day: caps are
    inferred from local days that ended before it only (past-only)."""
    spend = panel.measures["spend"]
    days = local_days(panel, timezones)
    cum = np.cumsum(spend, axis=1)
    new_day = np.ones(days.shape, dtype=bool)
    new_day[:, 1:] = days[:, 1:] != days[:, :-1]
    # Cumulative spend of the local day up to the start of each hour.
    before = cum - spend
    base = np.where(new_day, before, np.nan)
    base = pd.DataFrame(base.T).ffill().to_numpy().T
    spent_before = before - np.nan_to_num(base)
    known = _known(panel, days, budgets, brand)
    # An inferred cap says when pacing stops delivery; only a known budget says what is too
    # much (a sale day's raised budget is not in the history).
    cap = np.where(np.isnan(known), _inferred(spend, new_day, train_end), known)
    tolerance = np.array([_overdelivery(c) for c in panel.keys["channel"]])[:, None]
    with np.errstate(invalid="ignore"):
        capped = spent_before >= REACHED * cap
        allowed = tolerance * known
        over = np.maximum(spent_before + spend - allowed, 0.0) - np.maximum(
            spent_before - allowed, 0.0
        )
    return Pacing(np.nan_to_num(capped, nan=0.0).astype(bool), np.nan_to_num(over))


def _known(panel: Panel, days: np.ndarray, budgets: pd.DataFrame | None, brand: str) -> np.ndarray:
    """[campaign, hour] the campaign-day's daily budget, NaN where it is not known."""
    out = np.full(days.shape, np.nan)
    if budgets is None or budgets.empty:
        return out
    missing = [c for c in BUDGET_COLUMNS if c not in budgets.columns]
    if missing:
        raise SchemaError(
            f"budgets lack columns {missing}", brand=brand, channel=None, field=missing[0]
        )
    rows = budgets.loc[budgets["brand"] == brand]
    keys = panel.keys.assign(index=np.arange(panel.size))
    rows = rows.merge(keys, on=["channel", "campaign_id"], suffixes=("", "_campaign"))
    wrong = rows.loc[rows["currency"] != rows["currency_campaign"]]
    if len(wrong):
        first = wrong.iloc[0]
        raise SchemaError(
            f"budget of campaign {first['campaign_id']!r} is in {first['currency']}, its spend "
            f"in {first['currency_campaign']}",
            brand=brand,
            channel=str(first["channel"]),
            field="currency",
        )
    if rows.empty:
        return out
    day = np.asarray(
        (pd.to_datetime(rows["date"]) - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1)
    )
    lookup = pd.Series(
        rows["daily_budget"].to_numpy(dtype="float64"),
        index=pd.MultiIndex.from_arrays([rows["index"].to_numpy(), day]),
    )
    lookup = lookup[~lookup.index.duplicated(keep="last")]
    campaign = np.repeat(np.arange(panel.size), panel.hours)
    found = lookup.reindex(pd.MultiIndex.from_arrays([campaign, days.ravel()]))
    return found.to_numpy().reshape(days.shape)


def _inferred(spend: np.ndarray, new_day: np.ndarray, train_end: int) -> np.ndarray:
    """[campaign, hour] the cap inferred from recent capped local days (NaN: none inferred).

    A capped day spent nearly all of its total (1 - FLAT_SHARE) at least FLAT_HOURS before its
    local day ended; the cap is the median total of the last capped days, so a budget step
    is followed within a few days."""
    out = np.full(spend.shape, np.nan)
    starts = [np.flatnonzero(row) for row in new_day]
    for c, bounds in enumerate(starts):
        # Whole local days that ended before the scored day (the first is cut by the panel).
        ends = np.append(bounds[1:], spend.shape[1])
        whole = [(s, e) for s, e in zip(bounds[1:], ends[1:], strict=True) if e <= train_end]
        capped = []
        for s, e in whole[-RECENT_DAYS:]:
            day = spend[c, s:e]
            total = day.sum()
            if total > 0 and e - s > FLAT_HOURS and day[-FLAT_HOURS:].sum() <= FLAT_SHARE * total:
                capped.append(total)
        if len(capped) >= CAPPED_DAYS:
            out[c] = float(np.median(capped[-3:]))
    return out


def _overdelivery(channel: str) -> float:
    known = registry.overdelivery(channel)
    return DEFAULT_OVERDELIVERY if known is None else known
