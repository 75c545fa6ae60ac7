"""The demo source: realistic, deterministic campaign x hour metrics for any brand and day.

It stands in for the three ad platforms wherever no real account is connected (the demo,
the tests and the benchmarks). Everything is a pure function of (brand, day): the same call
always returns the same rows, on any machine, without keeping state between days.

Like a real platform it reports in each ad account's own time zone and currency; the rows
are converted to UTC by the same helpers the real connectors use. It is as hard as a real
account on purpose, so that a detector tuned on it is not tuned on a toy:

- campaigns have daily budgets and pace against them: spend builds over the local day and
  flattens at the cap (many campaign-days hit it, late in the day), and budgets step up and
  down now and then (`demo_budgets` gives them, as a platform's campaign settings would);
- sale days (budget and demand x2-3, CPA about stable), a holiday shared by all brands,
  launches with a learning ramp, campaigns paused mid-day, very small campaigns;
- rows arrive over the hours after their hour (`demo_rows` has each row's `arrives_at`, and
  `demo_metrics(as_of=T)` is what a platform queried at T reports), and a few account-days
  have their conversions restated a day or two later.

Those benign events are labelled by `demo_benign_events`. It also injects labelled incidents
(CTR collapse, CPA spike, spend runaway, conversion-tracking break, ROAS drop) at brand,
channel or campaign level and at magnitudes from subtle to blatant, at known UTC hours, and
`demo_incidents` returns the ground truth so that detection can be scored against it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from warroom_pipelines.channels import registry
from warroom_pipelines.channels.budgets import BUDGET_COLUMNS
from warroom_pipelines.channels.report import aggregate_hours
from warroom_pipelines.days import (
    in_utc_day,
    local_dates_covering,
    local_hours_to_utc,
    utc_day_bounds,
)
from warroom_pipelines.schema import RAW_COLUMNS, empty_raw_frame

INCIDENT_TYPES: tuple[str, ...] = (
    "ctr_collapse",
    "cpa_spike",
    "spend_runaway",
    "tracking_break",
    "roas_drop",
)

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
class DemoWorld:
    """The patterns of a demo world: how often sale days, holidays, pauses, budget steps and
    restatements come and how big they are, how late rows arrive, how incidents look.

    The default is the demo's own world. `HELD_OUT` is another, for measuring the Sentry on
    data it was not tuned on (`warroom backtest --world held-out`)."""

    salt: str = ""  # mixed into the draws that depend on the day alone (the holiday)
    sale_day_rate: float = 1 / 14  # sale days per brand-day
    sale_range: tuple[float, float] = (2.0, 3.0)  # budget and demand multiplier of a sale day
    holiday_rate: float = 1 / 30  # holidays per day, the same days for every brand
    holiday_demand: float = 0.55
    budget_block_days: int = 14  # a campaign's budget may step at the end of each block
    budget_step_sigma: float = 0.4  # log-size of a budget step
    pause_rate: float = 0.02  # campaign-days paused from some local hour on
    restatement_rate: float = 0.04  # account-days whose conversions are restated later
    arrival_scale: float = 0.4  # hours: an account-hour's batch arrives gamma(3, scale) late
    appetite: tuple[float, float] = (0.75, 1.35)  # demand over budget: above 1 hits the cap
    onset_hours: tuple[int, int] = (6, 20)  # UTC hours an incident may start in [low, high)
    incident_hours: tuple[int, int] = (3, 12)  # its length in hours, [low, high)
    subtlety: float = 1.0  # magnitudes drawn as subtle + (blatant - subtle) * u ** subtlety


# A world unlike the demo's: more and bigger sale days, a milder and more frequent holiday,
# more frequent and larger budget steps, more pauses and restatements, later rows, hungrier
# campaigns (more of them capped), incidents at any hour, shorter and longer, more subtle.
HELD_OUT = DemoWorld(
    salt="held-out",
    sale_day_rate=1 / 9,
    sale_range=(1.5, 4.0),
    holiday_rate=1 / 20,
    holiday_demand=0.7,
    budget_block_days=10,
    budget_step_sigma=0.6,
    pause_rate=0.04,
    restatement_rate=0.08,
    arrival_scale=0.5,
    appetite=(0.85, 1.6),
    onset_hours=(0, 24),
    incident_hours=(2, 15),
    subtlety=1.5,
)
WORLDS: dict[str, DemoWorld] = {"demo": DemoWorld(), "held-out": HELD_OUT}


@dataclass(frozen=True)
class DemoConfig:
    """How a brand's demo data looks. `campaigns_per_channel=None` picks 5-40 per channel;
    no `channels` means every registered platform (each with its record's demo funnel)."""

    campaigns_per_channel: int | None = None
    incident_rate: float = 0.25  # expected incidents per brand per day
    channels: tuple[str, ...] = ()
    world: DemoWorld = DemoWorld()

    def sources(self) -> tuple[str, ...]:
        return self.channels or registry.names()


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
    appetite: float  # demand over budget on a typical day: above 1, the campaign hits its cap


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
    level: str  # brand, channel or campaign
    channel: str | None  # None: every channel (a brand-level incident)
    campaign_id: str | None  # None: every campaign of the channel
    start: pd.Timestamp
    end: pd.Timestamp
    magnitude: float  # the effect's multiplier (e.g. CTR x0.6): near 1 is subtle


@lru_cache(maxsize=4096)
def brand_accounts(brand: str, config: DemoConfig = DemoConfig()) -> tuple[Account, ...]:
    """The brand's ad accounts: one or two per channel, each with its time zone and campaigns."""
    rng = _rng("brand", brand)
    currency = _CURRENCIES[int(rng.integers(len(_CURRENCIES)))]
    scale = float(rng.lognormal(0.0, 0.5))  # brands differ in size
    accounts: list[Account] = []
    for channel in config.sources():
        crng = _rng("channel", brand, channel)
        n_campaigns = config.campaigns_per_channel or int(crng.integers(5, 41))
        n_accounts = 2 if n_campaigns >= 12 else 1
        funnel = registry.platform(channel).demo
        campaigns: list[Campaign] = []
        for i in range(n_campaigns):
            launch = _CAMPAIGN_EPOCH + timedelta(
                days=int(crng.integers(0, 720)) if i % 4 == 0 else 0
            )
            ends = launch + timedelta(days=int(crng.integers(60, 400))) if i % 7 == 3 else None
            share = float(crng.lognormal(0.0, 0.9))
            if i % 9 == 5:  # a very small campaign: a handful of clicks a day
                share *= 0.03
            campaigns.append(
                Campaign(
                    campaign_id=f"{_seed(brand, channel, i) % 10**10:010d}",
                    name=f"{brand.title()} {_THEMES[i % len(_THEMES)]} {i + 1:02d}",
                    launch=launch,
                    ends=ends,
                    daily_impressions=funnel.daily_impressions * scale * share / 3.0,
                    ctr=float(crng.uniform(*funnel.ctr)),
                    cpc=float(crng.uniform(*funnel.cpc)),
                    cvr=float(crng.uniform(*funnel.cvr)),
                    aov=float(crng.uniform(*funnel.aov)),
                    appetite=float(crng.uniform(*config.world.appetite)),
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


# Incident magnitudes, (most subtle, most blatant) of each type's main multiplier.
_MAGNITUDES: dict[str, tuple[float, float]] = {
    "ctr_collapse": (0.7, 0.25),  # CTR kept
    "cpa_spike": (1.5, 2.4),  # cost per conversion
    "spend_runaway": (1.8, 4.0),  # spend over what the budget allows
    "tracking_break": (0.3, 0.0),  # conversions kept
    "roas_drop": (0.65, 0.3),  # value per conversion kept
}
LAUNCH_RAMP_DAYS = 7
PACED_TRICKLE = 0.02  # share of demand a capped campaign still spends (platforms overshoot)
BENIGN_KINDS: tuple[str, ...] = (
    "budget_cap",
    "sale_day",
    "holiday",
    "launch",
    "pause",
    "budget_step",
    "restatement",
)
BENIGN_COLUMNS: tuple[str, ...] = (
    "event_id",
    "brand",
    "kind",
    "level",
    "channel",
    "campaign_id",
    "start",
    "end",
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
        draw = rng.random()
        level = "brand" if draw < 0.2 else "campaign" if draw < 0.5 else "channel"
        sources = config.sources()
        channel: str | None = sources[int(rng.integers(len(sources)))]
        campaign_id: str | None = None
        if level == "campaign":
            campaigns = [c for a in accounts if a.channel == channel for c in a.campaigns]
            biggest = sorted(campaigns, key=lambda c: -c.daily_impressions)[:3]
            campaign_id = biggest[int(rng.integers(len(biggest)))].campaign_id
        elif level == "brand":
            channel = None
        onset = int(rng.integers(*config.world.onset_hours))
        duration = int(rng.integers(*config.world.incident_hours))
        subtle, blatant = _MAGNITUDES[kind]
        start = day_start + pd.Timedelta(hours=onset)
        out.append(
            Incident(
                incident_id=f"demo-{brand}-{day.isoformat()}-{n}",
                brand=brand,
                incident_type=kind,
                level=level,
                channel=channel,
                campaign_id=campaign_id,
                start=start,
                end=start + pd.Timedelta(hours=duration),
                magnitude=round(
                    float(subtle + (blatant - subtle) * rng.random() ** config.world.subtlety), 3
                ),
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
    columns = [
        "incident_id",
        "brand",
        "incident_type",
        "level",
        "channel",
        "campaign_id",
        "start",
        "end",
        "magnitude",
    ]
    return pd.DataFrame(rows, columns=columns)


def holiday(day: date, world: DemoWorld = DemoWorld()) -> bool:
    """A day every brand sees as a holiday: demand falls, budgets stay."""
    salt = (world.salt,) if world.salt else ()
    return _rng("holiday", day.isoformat(), *salt).random() < world.holiday_rate


def sale_multiplier(brand: str, day: date, world: DemoWorld = DemoWorld()) -> float:
    """The brand's budget and demand multiplier on a sale day (local date), else 1."""
    rng = _rng("sale", brand, day.isoformat())
    if rng.random() >= world.sale_day_rate or holiday(day, world):
        return 1.0
    return float(rng.uniform(*world.sale_range))


def _budget_step(campaign: Campaign, day: date, world: DemoWorld) -> float:
    """The campaign's budget level in its current block: half the blocks keep the base."""
    offset = _seed("block", campaign.campaign_id) % world.budget_block_days
    block = ((day - _CAMPAIGN_EPOCH).days + offset) // world.budget_block_days
    rng = _rng("budget", campaign.campaign_id, block)
    return 1.0 if rng.random() < 0.5 else float(np.exp(rng.normal(0.0, world.budget_step_sigma)))


@dataclass(frozen=True)
class _DayPlan:
    """What one account's campaigns are set to do on one local day, before any random draw."""

    live: tuple[Campaign, ...]
    budget: np.ndarray  # (n,) daily budget in the account's currency
    demand: np.ndarray  # (n, 24) mean impressions the campaign would buy without a cap
    pace: np.ndarray  # (n, 24) share of demand delivered: 1 until the cap, then a trickle
    cpc_factor: np.ndarray  # (n, 1) learning campaigns pay more per click
    cvr_factor: np.ndarray  # (n, 1) ... and convert less
    paused_from: np.ndarray  # (n,) local hour of a pause (24: not paused)


def _launch_progress(campaign: Campaign, day: date) -> float:
    """1 once the learning ramp is over; from 1/7 on the launch day."""
    return min(1.0, ((day - campaign.launch).days + 1) / LAUNCH_RAMP_DAYS)


@lru_cache(maxsize=16384)
def _day_plan(account: Account, local_day: date, world: DemoWorld) -> _DayPlan:
    live = tuple(
        c
        for c in account.campaigns
        if c.launch <= local_day and (c.ends is None or local_day < c.ends)
    )
    rng = _rng("plan", account.account_id, local_day.isoformat())
    n = len(live)
    base_spend = np.array([c.daily_impressions * c.ctr * c.cpc for c in live])
    base_impr = np.array([c.daily_impressions for c in live])
    steps = np.array([_budget_step(c, local_day, world) for c in live])
    sale = sale_multiplier(account.brand, local_day, world)
    budget = base_spend / np.array([c.appetite for c in live]) * steps * sale
    ramp = np.array([_launch_progress(c, local_day) for c in live])
    # Demand follows the budget a campaign is given (the platform buys what it may spend),
    # wanders a little from day to day, and falls on the holiday.
    level = steps * sale * _WEEKDAY[local_day.weekday()] * rng.lognormal(0.0, 0.12, size=n)
    if holiday(local_day, world):
        level = level * world.holiday_demand
    demand = (base_impr * level * (0.3 + 0.7 * ramp))[:, None] * _HOUR_SHARE[None, :]
    cpc_factor = (1.0 + 0.25 * (1.0 - ramp))[:, None]
    cvr_factor = (0.8 + 0.2 * ramp)[:, None]
    spend_per_impr = np.array([c.ctr * c.cpc for c in live])[:, None] * cpc_factor
    hourly = demand * spend_per_impr
    before = np.cumsum(hourly, axis=1) - hourly
    room = np.divide(budget[:, None] - before, hourly, out=np.ones_like(hourly), where=hourly > 0)
    pace = np.clip(room, PACED_TRICKLE, 1.0)
    paused = rng.random(n) < world.pause_rate
    paused_from = np.where(paused, rng.integers(0, 20, size=n), 24)
    return _DayPlan(live, budget, demand, pace, cpc_factor, cvr_factor, paused_from)


def _restated(account: Account, local_day: date, world: DemoWorld) -> pd.Timestamp | None:
    """When this account-day's conversions are restated (UTC), if they are."""
    rng = _rng("restate", account.account_id, local_day.isoformat())
    if rng.random() >= world.restatement_rate:
        return None
    return _local_start(account, local_day + timedelta(days=1)) + pd.Timedelta(
        hours=float(rng.uniform(20, 44))
    )


def _local_start(account: Account, local_day: date) -> pd.Timestamp:
    hours = local_hours_to_utc(pd.Series([local_day]), pd.Series([0]), account.time_zone)
    return pd.Timestamp(hours.iloc[0])


def _account_local_day(account: Account, local_day: date, config: DemoConfig) -> pd.DataFrame:
    """One account's report for one local day, as a platform would give it (local hours),
    with each row's `arrives_at` and, for a restated row, the first version it replaced."""
    plan = _day_plan(account, local_day, config.world)
    if not plan.live:
        return empty_raw_frame()
    live = plan.live
    rng = _rng("day", account.account_id, local_day.isoformat())
    n, hours = len(live), np.arange(24)
    running = hours[None, :] < plan.paused_from[:, None]
    mean_impr = plan.demand * plan.pace * running
    gamma = rng.gamma(_NB_SHAPE, 1.0 / _NB_SHAPE, size=(n, 24))
    ctr = np.array([c.ctr for c in live])[:, None] * rng.lognormal(0.0, 0.05, size=(n, 1))
    cpc = (
        np.array([c.cpc for c in live])[:, None]
        * plan.cpc_factor
        * rng.lognormal(0.0, 0.05, size=(n, 24))
    )
    cvr = np.broadcast_to(np.array([c.cvr for c in live])[:, None] * plan.cvr_factor, (n, 24))
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
        if incident.channel not in (None, account.channel):
            continue
        rows = np.array(
            [incident.campaign_id is None or c.campaign_id == incident.campaign_id for c in live]
        )
        cols = (utc_naive >= incident.start.tz_convert(None).to_datetime64()) & (
            utc_naive < incident.end.tz_convert(None).to_datetime64()
        )
        hit = rows[:, None] & cols[None, :] & running
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
                plan.demand,
            )
    # Each hour's rows trickle in over the following hours: an account-hour's batch, and a
    # little spread per row (1-3 h after the hour is typical, as the platforms' own APIs).
    arrive = _rng("arrival", account.account_id, local_day.isoformat())
    delay_h = (
        0.05
        + arrive.gamma(3.0, config.world.arrival_scale, size=(1, 24))
        + arrive.gamma(1.0, 0.15, size=(n, 24))
    ).ravel()
    frame = _report_frame(account, live, utc_naive, impressions, clicks, spend, conversions, value)
    hour_end = frame["hour_start"] + pd.Timedelta(hours=1)
    frame["arrives_at"] = (hour_end + pd.to_timedelta(delay_h, unit="h")).dt.floor("s")
    frame["superseded_at"] = pd.NaT
    restated_at = _restated(account, local_day, config.world)
    if restated_at is not None:
        # The first report under-counts conversions (attribution catches up later).
        first = frame.copy()
        kept = arrive.binomial(conversions.astype("int64"), 0.8).astype("float64").ravel()
        share = np.divide(kept, first["conversions"], out=np.zeros(len(kept)), where=kept > 0)
        first["conversions"] = kept
        first["conversion_value"] = np.round(first["conversion_value"] * share, 2)
        first["superseded_at"] = restated_at.tz_convert(None)
        frame["arrives_at"] = restated_at.tz_convert(None)
        frame = pd.concat([first, frame], ignore_index=True)
    # Like Meta and Google, the demo does not report hours without delivery.
    return frame.loc[frame["impressions"] > 0]


def _report_frame(
    account: Account,
    live: tuple[Campaign, ...],
    utc_naive: np.ndarray,
    impressions: Arrays,
    clicks: Arrays,
    spend: Arrays,
    conversions: Arrays,
    value: Arrays,
) -> pd.DataFrame:
    n = len(live)
    return pd.DataFrame(
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
    demand: Arrays,
) -> tuple[Arrays, Arrays, Arrays, Arrays, Arrays]:
    """Turn normal hours into incident hours by thinning or adding events (binomial thinning
    keeps counts binomial), with the incident's own random stream."""
    kind, m = incident.incident_type, incident.magnitude
    if kind == "ctr_collapse":  # creative or placement broken: clicks fall, and what follows
        kept = rng.binomial(clicks, m)
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
        cost_up = np.sqrt(m)
        conv = rng.binomial(conversions.astype("int64"), 1.0 / np.sqrt(m)).astype("float64")
        ratio = np.divide(conv, conversions, out=np.zeros(conv.shape), where=conversions > 0)
        spend = np.where(hit, np.round(spend * cost_up, 2), spend)
        value = np.where(hit, np.round(value * ratio, 2), value)
        conversions = np.where(hit, conv, conversions)
    elif kind == "spend_runaway":  # a budget cap removed: far more, lower-quality traffic
        extra_impr = rng.poisson(demand * (m - 1.0))
        extra_clicks = rng.binomial(extra_impr, np.clip(ctr, 0.0, 1.0))
        extra_conv = rng.binomial(extra_clicks, np.clip(cvr * 0.3, 0.0, 1.0)).astype("float64")
        impressions = np.where(hit, impressions + extra_impr, impressions)
        clicks = np.where(hit, clicks + extra_clicks, clicks)
        spend = np.where(hit, np.round(spend + extra_clicks * cpc * 1.2, 2), spend)
        value = np.where(hit, np.round(value + extra_conv * aov, 2), value)
        conversions = np.where(hit, conversions + extra_conv, conversions)
    elif kind == "tracking_break":  # the pixel stops firing: clicks go on, conversions vanish
        conv = rng.binomial(conversions.astype("int64"), m).astype("float64")
        ratio = np.divide(conv, conversions, out=np.zeros(conv.shape), where=conversions > 0)
        value = np.where(hit, np.round(value * ratio, 2), value)
        conversions = np.where(hit, conv, conversions)
    elif kind == "roas_drop":  # a broken price feed: orders continue at a fraction of the value
        value = np.where(hit, np.round(value * m, 2), value)
    return impressions, clicks, spend, conversions, value


def _incidents_near(brand: str, local_day: date, config: DemoConfig) -> list[Incident]:
    """Incidents of the UTC days a local day can overlap (time zones reach +-14 h)."""
    return [
        incident
        for offset in (-1, 0, 1)
        for incident in _incidents_on(brand, local_day + timedelta(days=offset), config)
    ]


def demo_rows(brand: str, day: date, config: DemoConfig = DemoConfig()) -> pd.DataFrame:
    """Every version of the brand's rows of one UTC day, with `arrives_at` (UTC) and
    `superseded_at` (when a restatement replaced that version; NaT for the final one)."""
    frames: list[pd.DataFrame] = []
    for account in brand_accounts(brand, config):
        for local_day in local_dates_covering(day, account.time_zone):
            frames.append(_account_local_day(account, local_day, config))
    frames = [f for f in frames if not f.empty]
    if not frames:
        return empty_raw_frame().assign(
            arrives_at=pd.Series(dtype="datetime64[us, UTC]"),
            superseded_at=pd.Series(dtype="datetime64[us, UTC]"),
        )
    frame = pd.concat(frames, ignore_index=True)
    for column in ("hour_start", "arrives_at", "superseded_at"):
        frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
    frame = frame.loc[in_utc_day(frame["hour_start"], day)]
    frame["date"] = pd.Timestamp(day)
    return frame.loc[:, [*RAW_COLUMNS, "arrives_at", "superseded_at"]].reset_index(drop=True)


def as_seen(rows: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """The rows of `demo_rows` a platform reports when queried at `as_of` (None: once all
    have arrived), in the unified table's raw columns."""
    if as_of is None:
        keep = rows["superseded_at"].isna()
    else:
        keep = (rows["arrives_at"] <= as_of) & ~(rows["superseded_at"] <= as_of)
    frame = aggregate_hours(rows.loc[keep, list(RAW_COLUMNS)])
    return frame.reset_index(drop=True)


def demo_metrics(
    brand: str, day: date, config: DemoConfig = DemoConfig(), *, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The brand's campaign x hour rows of one UTC day, in the unified table's raw columns.

    `as_of` is when the platform is asked: only rows that had arrived by then, in the
    version current then (so the last hours are partial, and a restated day shows its first
    report until the restatement lands). Without it, the day as finally reported.
    """
    return as_seen(demo_rows(brand, day, config), as_of)


def demo_budgets(
    brand: str, start: date, end: date, config: DemoConfig = DemoConfig()
) -> pd.DataFrame:
    """Each live campaign's daily budget per local date from `start` to `end` (inclusive),
    in the account's currency, as the platforms' campaign settings give it."""
    rows = [
        {
            "brand": brand,
            "channel": account.channel,
            "campaign_id": campaign.campaign_id,
            "date": pd.Timestamp(local_day),
            "daily_budget": round(float(budget), 2),
            "currency": account.currency,
        }
        for account in brand_accounts(brand, config)
        for local_day in _days(start, end)
        for plan in [_day_plan(account, local_day, config.world)]
        for campaign, budget in zip(plan.live, plan.budget, strict=True)
    ]
    return pd.DataFrame(rows, columns=list(BUDGET_COLUMNS))


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def demo_benign_events(
    brand: str, start: date, end: date, config: DemoConfig = DemoConfig()
) -> pd.DataFrame:
    """Labels of the benign events on local dates `start` to `end` (inclusive): what real
    accounts do that is not an incident and must not alert. Windows are UTC [start, end)."""
    events: list[tuple[str, str, str | None, str | None, pd.Timestamp, pd.Timestamp]] = []
    accounts = brand_accounts(brand, config)
    for local_day in _days(start, end):
        bounds = [
            (_local_start(a, local_day), _local_start(a, local_day + timedelta(days=1)))
            for a in accounts
        ]
        whole = (min(b[0] for b in bounds), max(b[1] for b in bounds))
        if sale_multiplier(brand, local_day, config.world) > 1.0:
            events.append(("sale_day", "brand", None, None, *whole))
        if holiday(local_day, config.world):
            events.append(("holiday", "brand", None, None, *whole))
        for account, (day_start, day_end) in zip(accounts, bounds, strict=True):
            events.extend(_account_events(account, local_day, day_start, day_end, config.world))
    frame = pd.DataFrame(
        [
            (f"benign-{brand}-{e[0]}-{e[3] or e[2] or 'all'}-{e[4]:%Y%m%d%H}", brand, *e)
            for e in events
        ],
        columns=list(BENIGN_COLUMNS),
    )
    frame = frame.loc[frame["end"] > frame["start"]]  # a cap in the last hour of a short day
    return frame.drop_duplicates("event_id").reset_index(drop=True)


def _account_events(
    account: Account,
    local_day: date,
    day_start: pd.Timestamp,
    day_end: pd.Timestamp,
    world: DemoWorld,
) -> list[tuple[str, str, str | None, str | None, pd.Timestamp, pd.Timestamp]]:
    plan = _day_plan(account, local_day, world)
    hour = pd.Timedelta(hours=1)
    out: list[tuple[str, str, str | None, str | None, pd.Timestamp, pd.Timestamp]] = []
    ch = account.channel
    for i, campaign in enumerate(plan.live):
        cid = campaign.campaign_id
        capped = np.flatnonzero(plan.pace[i] < 1.0)
        if len(capped) and capped[0] < plan.paused_from[i]:
            out.append(("budget_cap", "campaign", ch, cid, day_start + capped[0] * hour, day_end))
        if plan.paused_from[i] < 24:
            out.append(
                ("pause", "campaign", ch, cid, day_start + plan.paused_from[i] * hour, day_end)
            )
        if campaign.launch == local_day:
            ramp_end = _local_start(account, local_day + timedelta(days=LAUNCH_RAMP_DAYS))
            out.append(("launch", "campaign", ch, cid, day_start, ramp_end))
        if (
            abs(
                np.log(
                    _budget_step(campaign, local_day, world)
                    / _budget_step(campaign, local_day - timedelta(days=1), world)
                )
            )
            > 0.15
            and campaign.launch < local_day
        ):
            out.append(("budget_step", "campaign", ch, cid, day_start, day_end))
    if _restated(account, local_day, world) is not None:
        out.append(("restatement", "channel", ch, None, day_start, day_end))
    return out
