"""Constructed unified history: steady campaigns with a daily cycle and Poisson noise, and
incidents applied to chosen hours, so that tests know exactly what is normal and what is not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd

DAY = date(2026, 10, 20)  # the scored day
_SHAPE = np.array([1, 0.8, 0.6, 0.5, 0.5, 0.7, 1.4, 2.6, 3.8, 4.6, 5.0, 5.3,
                   5.6, 5.4, 5.1, 5.0, 5.1, 5.5, 6.2, 6.9, 7.2, 6.6, 4.8, 2.9])  # fmt: skip
_SHARE = _SHAPE / _SHAPE.sum()

# channel, campaign id, daily impressions, ctr, cpc, cvr, order value
CAMPAIGNS = (
    ("meta_ads", "m1", 400_000, 0.015, 0.8, 0.04, 60.0),
    ("meta_ads", "m2", 250_000, 0.012, 0.9, 0.03, 80.0),
    ("google_ads", "g1", 120_000, 0.04, 1.5, 0.06, 120.0),
    ("google_ads", "g2", 80_000, 0.05, 1.2, 0.05, 100.0),
)
TINY = ("google_ads", "tiny", 900, 0.03, 1.0, 0.05, 50.0)

Effect = Callable[[pd.DataFrame], pd.DataFrame]


def history(
    brand: str = "acme",
    days: int = 31,
    end: date = DAY,
    campaigns: tuple[tuple[str, str, float, float, float, float, float], ...] = CAMPAIGNS,
    seed: int = 7,
) -> pd.DataFrame:
    """Unified rows of `days` days up to `end` (inclusive)."""
    rng = np.random.default_rng(seed)
    frames = []
    for n in range(days - 1, -1, -1):
        day = end - timedelta(days=n)
        hours = pd.date_range(pd.Timestamp(day, tz="UTC"), periods=24, freq="h")
        for channel, cid, daily, ctr, cpc, cvr, aov in campaigns:
            impressions = rng.poisson(daily * _SHARE * rng.lognormal(0, 0.05))
            clicks = rng.binomial(impressions, ctr)
            spend = np.round(clicks * cpc * rng.lognormal(0, 0.03, 24), 2)
            conversions = rng.binomial(clicks, cvr).astype(float)
            value = np.round(conversions * aov * rng.gamma(8, 1 / 8, 24), 2)
            frames.append(
                pd.DataFrame(
                    {
                        "brand": brand,
                        "channel": channel,
                        "account_id": f"{channel}-1",
                        "campaign_id": f"{brand}-{cid}",
                        "campaign_name": f"{brand} {cid}",
                        "hour_start": hours,
                        "date": pd.Timestamp(day),
                        "currency": "EUR",
                        "impressions": impressions,
                        "clicks": clicks,
                        "spend": spend,
                        "conversions": conversions,
                        "conversion_value": value,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def inject(
    frame: pd.DataFrame,
    effect: Effect,
    *,
    channel: str,
    day: date = DAY,
    hours: range = range(10, 15),
) -> pd.DataFrame:
    """Apply `effect` to the channel's rows of the given UTC hours of `day`."""
    start = pd.Timestamp(day, tz="UTC")
    hit = (frame["channel"] == channel) & frame["hour_start"].isin(
        [start + pd.Timedelta(hours=h) for h in hours]
    )
    out = frame.copy()
    out.loc[hit] = effect(out.loc[hit].copy())
    return out


def ctr_collapse(rows: pd.DataFrame) -> pd.DataFrame:
    for column in ("clicks", "spend", "conversions", "conversion_value"):
        rows[column] = (rows[column] * 0.25).round()
    return rows


def cpa_spike(rows: pd.DataFrame) -> pd.DataFrame:
    rows["spend"] = rows["spend"] * 2.2
    rows["conversions"] = (rows["conversions"] * 0.45).round()
    rows["conversion_value"] = rows["conversion_value"] * 0.45
    return rows


def spend_runaway(rows: pd.DataFrame) -> pd.DataFrame:
    for column in ("impressions", "clicks"):
        rows[column] = rows[column] * 3
    rows["spend"] = rows["spend"] * 5
    rows["conversions"] = rows["conversions"] * 1.5
    rows["conversion_value"] = rows["conversion_value"] * 1.5
    return rows


def tracking_break(rows: pd.DataFrame) -> pd.DataFrame:
    rows["conversions"] = 0.0
    rows["conversion_value"] = 0.0
    return rows


def roas_drop(rows: pd.DataFrame) -> pd.DataFrame:
    rows["conversion_value"] = rows["conversion_value"] * 0.3
    return rows


def arriving(frame: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """The rows with the `ingested_at` a connector would give them: each campaign-hour
    arrives 1 to 2.6 hours after its hour ends, as on real accounts."""
    delay = np.random.default_rng(seed).uniform(1.0, 2.6, len(frame))
    ingested = frame["hour_start"] + pd.Timedelta(hours=1) + pd.to_timedelta(delay, unit="h")
    return frame.assign(ingested_at=ingested)


def seen_at(frame: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """What a tick at `moment` sees: the rows ingested by then."""
    return frame.loc[frame["ingested_at"] <= moment]


def scale(rows: pd.DataFrame, factor: float, columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Every volume (or the given columns) times `factor`, counts kept whole."""
    for column in columns or ("impressions", "clicks", "spend", "conversions", "conversion_value"):
        values = rows[column] * factor
        rows[column] = values.round() if column in ("impressions", "clicks") else values
    return rows


def budgets(frame: pd.DataFrame, campaign: str, daily: dict[date, float]) -> pd.DataFrame:
    """A budgets frame (the engine's schema) for one campaign: its daily budget per day."""
    row = frame.loc[frame["campaign_id"] == campaign].iloc[0]
    return pd.DataFrame(
        {
            "brand": row["brand"],
            "channel": row["channel"],
            "campaign_id": campaign,
            "date": [pd.Timestamp(d) for d in daily],
            "daily_budget": list(daily.values()),
            "currency": row["currency"],
        }
    )
