"""The demo source: realistic, deterministic campaign x hour metrics for any brand and day.

It stands in for the three ad platforms wherever no real account is connected (the demo,
the tests and the benchmarks). Everything is a pure function of (brand, day): the same call
always returns the same rows, on any machine, without keeping state between days.

Like a real platform it reports in each ad account's own time zone and currency; the rows
are converted to UTC by the same helpers the real connectors use. It can inject labelled
incidents (CTR collapse, CPA spike, spend runaway, conversion-tracking break, ROAS drop) at
known UTC hours, and `demo_incidents` returns the ground truth so that detection can be
scored against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from warroom_pipelines.channels.clock import (
    aggregate_hours,
    in_utc_day,
    local_dates_covering,
    local_hours_to_utc,
    utc_day_bounds,
)
from warroom_pipelines.schema import CHANNELS, RAW_COLUMNS, empty_raw_frame

INCIDENT_TYPES: tuple[str, ...] = (
    "ctr_collapse",
    "cpa_spike",
    "spend_runaway",
    "tracking_break",
    "roas_drop",
)

# Plausible funnels per channel: (low, high) of the campaign-level base rate.
_FUNNELS: dict[str, dict[str, tuple[float, float]]] = {
    "meta_ads": {"ctr": (0.008, 0.02), "cpc": (0.45, 1.6), "cvr": (0.015, 0.045), "aov": (40, 120)},
    "google_ads": {"ctr": (0.025, 0.065), "cpc": (0.6, 2.2), "cvr": (0.04, 0.09), "aov": (70, 180)},
    "tiktok_ads": {
        "ctr": (0.005, 0.015),
        "cpc": (0.25, 1.0),
        "cvr": (0.008, 0.025),
        "aov": (30, 80),
    },
}
_DAILY_IMPRESSIONS = {"meta_ads": 60_000.0, "google_ads": 18_000.0, "tiktok_ads": 80_000.0}
_TIME_ZONES = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "UTC",
    "Asia/Singapore",
    "Australia/Sydney",
)
_CURRENCIES = ("USD", "EUR", "GBP")
# Share of a day's traffic per local hour: quiet nights, a lunch bump, an evening peak.
_HOUR_SHAPE = np.array(
    [
        1.2,
        0.8,
        0.6,
        0.5,
        0.5,
        0.7,
        1.4,
        2.6,
        3.8,
        4.6,
        5.0,
        5.3,
        5.6,
        5.4,
        5.1,
        5.0,
        5.1,
        5.5,
        6.2,
        6.9,
        7.2,
        6.6,
        4.8,
        2.9,
    ]
)
_HOUR_SHARE = _HOUR_SHAPE / _HOUR_SHAPE.sum()
# Monday..Sunday relative volume.
_WEEKDAY = np.array([1.0, 1.02, 1.03, 1.0, 0.95, 0.85, 0.9])
_CAMPAIGN_EPOCH = date(2025, 1, 1)
# Over-dispersion of impressions (negative binomial shape): higher is closer to Poisson.
_NB_SHAPE = 40.0


def _seed(*parts: object) -> int:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(_seed(*parts))


@dataclass(frozen=True)
class DemoConfig:
    """How a brand's demo data looks. `campaigns_per_channel=None` picks 5-40 per channel."""

    campaigns_per_channel: int | None = None
    incident_rate: float = 0.25  # expected incidents per brand per day
    channels: tuple[str, ...] = CHANNELS


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    launch: date
    ends: date | None
    daily_impressions: float
    ctr: float
    cpc: float
    cvr: float
    aov: float


@dataclass(frozen=True)
class Account:
    brand: str
    channel: str
    account_id: str
    currency: str
    time_zone: str
    campaigns: tuple[Campaign, ...] = field(repr=False)


@dataclass(frozen=True)
class Incident:
    """Ground truth of one injected incident, in UTC hours [start, end)."""

    incident_id: str
    brand: str
    incident_type: str
    channel: str
    campaign_id: str | None  # None: every campaign of the channel
    start: pd.Timestamp
    end: pd.Timestamp


@lru_cache(maxsize=4096)
def brand_accounts(brand: str, config: DemoConfig = DemoConfig()) -> tuple[Account, ...]:
    """The brand's ad accounts: one or two per channel, each with its time zone and campaigns."""
    rng = _rng("brand", brand)
    currency = _CURRENCIES[int(rng.integers(len(_CURRENCIES)))]
    scale = float(rng.lognormal(0.0, 0.5))  # brands differ in size
    accounts: list[Account] = []
    for channel in config.channels:
        crng = _rng("channel", brand, channel)
        n_campaigns = config.campaigns_per_channel or int(crng.integers(5, 41))
        n_accounts = 2 if n_campaigns >= 12 else 1
        funnel = _FUNNELS[channel]
        campaigns: list[Campaign] = []
        for i in range(n_campaigns):
            launch = _CAMPAIGN_EPOCH + timedelta(
                days=int(crng.integers(0, 720)) if i % 4 == 0 else 0
            )
            ends = launch + timedelta(days=int(crng.integers(60, 400))) if i % 7 == 3 else None
            share = float(crng.lognormal(0.0, 0.9))
            campaigns.append(
                Campaign(
                    campaign_id=f"{_seed(brand, channel, i) % 10**10:010d}",
                    name=f"{brand.title()} {_THEMES[i % len(_THEMES)]} {i + 1:02d}",
                    launch=launch,
                    ends=ends,
                    daily_impressions=_DAILY_IMPRESSIONS[channel] * scale * share / 3.0,
                    ctr=float(crng.uniform(*funnel["ctr"])),
                    cpc=float(crng.uniform(*funnel["cpc"])),
                    cvr=float(crng.uniform(*funnel["cvr"])),
                    aov=float(crng.uniform(*funnel["aov"])),
                )
            )
        for a in range(n_accounts):
            account_number = _seed(brand, channel, "acct", a) % 10**8
            accounts.append(
                Account(
                    brand=brand,
                    channel=channel,
                    account_id=f"demo-{channel.split('_')[0]}-{account_number:08d}",
                    currency=currency,
                    time_zone=_TIME_ZONES[int(crng.integers(len(_TIME_ZONES)))],
                    campaigns=tuple(campaigns[a::n_accounts]),
                )
            )
    return tuple(accounts)


_THEMES = (
    "Prospecting",
    "Retargeting",
    "Brand Search",
    "Generic Search",
    "Lookalike",
    "Catalog Sales",
    "Spring Launch",
    "Always-On",
    "Video Views",
    "Promo",
)


def _incidents_on(brand: str, day: date, config: DemoConfig) -> list[Incident]:
    rng = _rng("incidents", brand, day.isoformat())
    count = int(rng.poisson(config.incident_rate)) if config.incident_rate > 0 else 0
    if not count:
        return []
    accounts = brand_accounts(brand, config)
    day_start, _ = utc_day_bounds(day)
    out: list[Incident] = []
    for n in range(count):
        kind = INCIDENT_TYPES[int(rng.integers(len(INCIDENT_TYPES)))]
        channel = config.channels[int(rng.integers(len(config.channels)))]
        campaign_id: str | None = None
        if rng.random() < 0.3:
            campaigns = [c for a in accounts if a.channel == channel for c in a.campaigns]
            biggest = sorted(campaigns, key=lambda c: -c.daily_impressions)[:3]
            campaign_id = biggest[int(rng.integers(len(biggest)))].campaign_id
        onset = int(rng.integers(6, 20))
        duration = int(rng.integers(3, 9))
        start = day_start + pd.Timedelta(hours=onset)
        out.append(
            Incident(
                incident_id=f"demo-{brand}-{day.isoformat()}-{n}",
                brand=brand,
                incident_type=kind,
                channel=channel,
                campaign_id=campaign_id,
                start=start,
                end=start + pd.Timedelta(hours=duration),
            )
        )
    return out


def demo_incidents(
    brand: str, start: date, end: date, config: DemoConfig = DemoConfig()
) -> pd.DataFrame:
    """Ground-truth labels of the incidents injected from `start` to `end` (inclusive, UTC)."""
    rows = [
        incident.__dict__
        for offset in range((end - start).days + 1)
        for incident in _incidents_on(brand, start + timedelta(days=offset), config)
    ]
    columns = ["incident_id", "brand", "incident_type", "channel", "campaign_id", "start", "end"]
    return pd.DataFrame(rows, columns=columns)


def _account_local_day(account: Account, local_day: date, config: DemoConfig) -> pd.DataFrame:
    """One account's report for one local day, as a platform would give it (local hours)."""
    live = [
        c
        for c in account.campaigns
        if c.launch <= local_day
        and (c.ends is None or local_day < c.ends)
        and _rng("pause", c.campaign_id, local_day.isoformat()).random() >= 0.03
    ]
    if not live:
        return empty_raw_frame()
    rng = _rng("day", account.account_id, local_day.isoformat())
    n, hours = len(live), np.arange(24)
    base = np.array([c.daily_impressions for c in live])
    # A campaign's daily budget wanders a little from day to day.
    daily = base * _WEEKDAY[local_day.weekday()] * rng.lognormal(0.0, 0.12, size=n)
    mean_impr = daily[:, None] * _HOUR_SHARE[None, :]
    gamma = rng.gamma(_NB_SHAPE, 1.0 / _NB_SHAPE, size=(n, 24))
    ctr = np.array([c.ctr for c in live])[:, None] * rng.lognormal(0.0, 0.05, size=(n, 1))
    cpc = np.array([c.cpc for c in live])[:, None] * rng.lognormal(0.0, 0.05, size=(n, 24))
    cvr = np.broadcast_to(np.array([c.cvr for c in live])[:, None], (n, 24))
    aov = np.broadcast_to(np.array([c.aov for c in live])[:, None], (n, 24))
    ctr = np.broadcast_to(ctr, (n, 24))
    # Normal operation first: every draw comes from the account-day stream, so an incident
    # elsewhere never changes these numbers.
    impressions = rng.poisson(mean_impr * gamma)
    clicks = rng.binomial(impressions, np.clip(ctr, 0.0, 1.0))
    spend = np.round(clicks * cpc, 2)
    conversions = rng.binomial(clicks, np.clip(cvr, 0.0, 1.0)).astype("float64")
    value = np.round(conversions * aov * rng.gamma(8.0, 1.0 / 8.0, size=(n, 24)), 2)

    utc_hours = local_hours_to_utc(pd.Series([local_day] * 24), pd.Series(hours), account.time_zone)
    utc_naive = utc_hours.dt.tz_convert(None).to_numpy()
    for incident in _incidents_near(account.brand, local_day, config):
        if incident.channel != account.channel:
            continue
        rows = np.array(
            [incident.campaign_id is None or c.campaign_id == incident.campaign_id for c in live]
        )
        cols = (utc_naive >= incident.start.tz_convert(None).to_datetime64()) & (
            utc_naive < incident.end.tz_convert(None).to_datetime64()
        )
        hit = rows[:, None] & cols[None, :]
        if hit.any():
            impressions, clicks, spend, conversions, value = _apply_incident(
                incident,
                hit,
                _rng("effect", incident.incident_id, account.account_id, local_day),
                impressions,
                clicks,
                spend,
                conversions,
                value,
                ctr,
                cpc,
                cvr,
                aov,
            )

    frame = pd.DataFrame(
        {
            "brand": account.brand,
            "channel": account.channel,
            "account_id": account.account_id,
            "campaign_id": np.repeat([c.campaign_id for c in live], 24),
            "campaign_name": np.repeat([c.name for c in live], 24),
            "hour_start": np.tile(utc_naive, n),
            "currency": account.currency,
            "account_timezone": account.time_zone,
            "impressions": impressions.ravel().astype("int64"),
            "clicks": clicks.ravel().astype("int64"),
            "spend": spend.ravel(),
            "conversions": conversions.ravel().astype("float64"),
            "conversion_value": value.ravel(),
            "source": "demo",
            "conversions_source": "demo",
        }
    )
    # Like Meta and Google, the demo does not report hours without delivery.
    return frame.loc[frame["impressions"] > 0]


Arrays = np.ndarray


def _apply_incident(
    incident: Incident,
    hit: Arrays,
    rng: np.random.Generator,
    impressions: Arrays,
    clicks: Arrays,
    spend: Arrays,
    conversions: Arrays,
    value: Arrays,
    ctr: Arrays,
    cpc: Arrays,
    cvr: Arrays,
    aov: Arrays,
) -> tuple[Arrays, Arrays, Arrays, Arrays, Arrays]:
    """Turn normal hours into incident hours by thinning or adding events (binomial thinning
    keeps counts binomial), with the incident's own random stream."""
    kind = incident.incident_type
    if kind == "ctr_collapse":  # creative or placement broken: clicks fall, and what follows
        kept = rng.binomial(clicks, 0.25)
        ratio = np.divide(kept, clicks, out=np.ones(clicks.shape), where=clicks > 0)
        conv = rng.binomial(conversions.astype("int64"), np.clip(ratio, 0, 1)).astype("float64")
        new_value = np.round(
            value * np.divide(conv, conversions, out=np.zeros(conv.shape), where=conversions > 0), 2
        )
        clicks, spend = (
            np.where(hit, kept, clicks),
            np.where(hit, np.round(spend * ratio, 2), spend),
        )
        value, conversions = np.where(hit, new_value, value), np.where(hit, conv, conversions)
    elif kind == "cpa_spike":  # auction got expensive and traffic worse: cost up, conversions down
        conv = rng.binomial(conversions.astype("int64"), 0.45).astype("float64")
        ratio = np.divide(conv, conversions, out=np.zeros(conv.shape), where=conversions > 0)
        spend = np.where(hit, np.round(spend * 2.2, 2), spend)
        value = np.where(hit, np.round(value * ratio, 2), value)
        conversions = np.where(hit, conv, conversions)
    elif kind == "spend_runaway":  # a budget cap removed: far more, lower-quality traffic
        extra_impr = rng.poisson(impressions * 2.5)
        extra_clicks = rng.binomial(extra_impr, np.clip(ctr, 0.0, 1.0))
        extra_conv = rng.binomial(extra_clicks, np.clip(cvr * 0.3, 0.0, 1.0)).astype("float64")
        impressions = np.where(hit, impressions + extra_impr, impressions)
        clicks = np.where(hit, clicks + extra_clicks, clicks)
        spend = np.where(hit, np.round(spend * 1.6 + extra_clicks * cpc * 1.6, 2), spend)
        value = np.where(hit, np.round(value + extra_conv * aov, 2), value)
        conversions = np.where(hit, conversions + extra_conv, conversions)
    elif kind == "tracking_break":  # the pixel stops firing: clicks go on, conversions vanish
        conversions = np.where(hit, 0.0, conversions)
        value = np.where(hit, 0.0, value)
    elif kind == "roas_drop":  # a broken price feed: orders continue at a fraction of the value
        value = np.where(hit, np.round(value * 0.3, 2), value)
    return impressions, clicks, spend, conversions, value


def _incidents_near(brand: str, local_day: date, config: DemoConfig) -> list[Incident]:
    """Incidents of the UTC days a local day can overlap (time zones reach +-14 h)."""
    return [
        incident
        for offset in (-1, 0, 1)
        for incident in _incidents_on(brand, local_day + timedelta(days=offset), config)
    ]


def demo_metrics(
    brand: str, day: date, config: DemoConfig = DemoConfig(), *, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The brand's campaign x hour rows of one UTC day, in the unified table's raw columns.

    `as_of` cuts the day at that instant, as a platform queried mid-day reports only the hours
    that have ended; earlier hours are the same whatever `as_of` is.
    """
    frames: list[pd.DataFrame] = []
    for account in brand_accounts(brand, config):
        for local_day in local_dates_covering(day, account.time_zone):
            frames.append(_account_local_day(account, local_day, config))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_raw_frame()
    frame = pd.concat(frames, ignore_index=True)
    frame["hour_start"] = frame["hour_start"].dt.tz_localize("UTC")
    keep = in_utc_day(frame["hour_start"], day)
    if as_of is not None:
        keep &= frame["hour_start"] + pd.Timedelta(hours=1) <= as_of
    frame = aggregate_hours(frame.loc[keep])
    frame["date"] = pd.Timestamp(day)
    return frame.loc[:, list(RAW_COLUMNS)].reset_index(drop=True)
