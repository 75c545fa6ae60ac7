"""detect(history, day, config): the anomalies of one brand-day, in the warehouse's columns.

Day D is scored with features and models built from the `window_days` whole days before D
only, and each hour only from hours up to itself, so D's scores never change when later
data arrives (whether the rest of D or day D+1). The previous day is scored the same way
(as its own partition was) so that an incident running across midnight keeps its start and
id. Nothing depends on the clock or on global random state: same input, same output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from warroom_pipelines.sentry.detectors import (
    DetectorConfig,
    Verdict,
    check,
    limit,
    per_metric,
    robust_z,
)
from warroom_pipelines.sentry.explain import (
    RULES,
    add_incidents,
    classify,
    money_at_stake,
    severity,
    strongest,
)
from warroom_pipelines.sentry.features import (
    LEARNING_DAYS,
    METRICS,
    MIN_ROOM,
    POOLS,
    RELATIVE,
    Features,
    Scope,
    VolumeFloor,
    build_features,
    campaign_baselines,
    sum_into,
)
from warroom_pipelines.sentry.pacing import Pacing, pacing
from warroom_pipelines.sentry.roots import campaign_money, contributors, one_root
from warroom_pipelines.sentry.series import (
    HISTORY_COLUMNS,
    LEVELS,
    Panel,
    build_panel,
    membership,
    roll_up,
)
from warroom_pipelines.sentry.settle import settled_until

ANOMALY_COLUMNS: dict[str, str] = {
    "brand": "string",
    "date": "datetime64[us]",
    "level": "string",
    "channel": "string",
    "campaign_id": "string",
    "campaign_name": "string",
    "hour_start": "datetime64[us, UTC]",
    "metric": "string",
    "anomaly_type": "string",
    "observed": "float64",
    "expected": "float64",
    "expected_low": "float64",
    "expected_high": "float64",
    "deviation": "float64",
    "score": "float64",
    "severity": "string",
    "money_at_stake": "float64",
    "currency": "string",
    "incident_id": "string",
    "incident_start": "datetime64[us, UTC]",
    "incident_end": "datetime64[us, UTC]",
    "detector": "string",
    "detected_at": "datetime64[us, UTC]",
    # A brand or channel row's top campaigns by money at stake: "name (id): amount; ...".
    "top_campaigns": "string",
}
DAY = pd.Timedelta(days=1)
DEFAULT_CONFIG = DetectorConfig()
DEFAULT_FLOOR = VolumeFloor()
MIN_WINDOW_DAYS = 7
# The expected range shown with an anomaly: the conventional normal range, whatever the
# detector's thresholds (a 4.5-sigma band around a small count would always reach zero).
RANGE_SIGMAS = 3.0


# The unified columns `detect` reads: all a caller needs to fetch of a brand's history
# (`ingested_at` and `source` for the watermark, `account_timezone` for the budgets' local
# days).
SENTRY_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(("brand", *HISTORY_COLUMNS, "account_timezone", "ingested_at", "source"))
)


def empty_anomalies() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ANOMALY_COLUMNS.items()})


@dataclass(frozen=True)
class Scored:
    """What an earlier tick found for the day: its rows, and per channel the end of the
    hours it had scored (`scored_until` then)."""

    rows: pd.DataFrame
    until: Mapping[str, pd.Timestamp]


def scored_until(history: pd.DataFrame, day: date) -> dict[str, pd.Timestamp]:
    """Per channel, the end of `day`'s hours that are settled in `history` (the watermark,
    no later than the day's end)."""
    end = pd.Timestamp(day, tz="UTC") + DAY
    return {c: min(t, end) for c, t in settled_until(history).items()}


def detect(
    history: pd.DataFrame,
    day: date,
    config: DetectorConfig = DEFAULT_CONFIG,
    floor: VolumeFloor = DEFAULT_FLOOR,
    budgets: pd.DataFrame | None = None,
    scored: Scored | None = None,
) -> pd.DataFrame:
    """Anomalies of `day` for the one brand in `history` (unified rows up to that day).

    Only settled hours are scored: a channel's hours up to its connector's watermark
    (`settle.settled_until`, from `ingested_at`), the brand's up to the oldest of its
    channels'. `budgets` (columns `budgets.BUDGET_COLUMNS`, one row per campaign and
    account-local day) makes volumes budget-aware; without it caps are inferred.

    `scored` (an earlier tick's rows of the same day and data) keeps what was found on the
    hours settled then, and only the newly settled hours are scored: the same rows as
    scoring the whole day again, since an hour's scores depend on the past only. The
    previous day is then not scored again either, once the day's first hour was.
    """
    check(config)
    if history.empty:
        return empty_anomalies()
    missing = [c for c in (*HISTORY_COLUMNS, "brand") if c not in history.columns]
    if missing:
        raise ValueError(f"history lacks columns {missing}")
    brands = history["brand"].unique()
    if len(brands) != 1:
        raise ValueError(f"detect scores one brand at a time, got {sorted(map(str, brands))}")
    brand = str(brands[0])
    day_start = pd.Timestamp(day, tz="UTC")
    # Settled hours of the day only: an incident still on at midnight is open in D's rows.
    until = scored_until(history, day)
    history = history.loc[history["hour_start"] < day_start + DAY]
    if history.empty or history["hour_start"].max() < day_start:
        return empty_anomalies()
    # A young brand trains on the whole days it has (days before its first row are not
    # zeros), from MIN_WINDOW_DAYS on.
    first_day = history["hour_start"].min().floor("D")
    w = min(config.window_days, (day_start - first_day).days - 2)
    if w < MIN_WINDOW_DAYS:
        return empty_anomalies()
    config = replace(config, window_days=w)
    first = day_start - (w + 2) * DAY  # one pad day for pooling, one for the previous day
    campaigns = build_panel(history, first, day_start + DAY)
    if campaigns.size == 0:
        return empty_anomalies()
    zones = _time_zones(history, campaigns)
    members = {level: membership(campaigns, level) for level in LEVELS}
    present = sorted(set(campaigns.keys["channel"]))
    before = _scored_before(scored, present, until, day_start)
    # The previous day (as its own partition scored it) carries incidents across midnight;
    # once the day's first hour was scored, its rows carry them.
    offsets = (1,) if before is not None and min(before.values()) > day_start else (0, 1)
    frames: list[pd.DataFrame] = []
    for offset in offsets:
        window = _window(campaigns, offset, w + 2)
        account = Accounts(brand, zones, budgets, members)
        frames.extend(r for r in _score_day(window, account, config, floor) if not r.empty)
    rows = one_root(pd.concat(frames, ignore_index=True)) if frames else pd.DataFrame()
    if rows.empty and before is None:
        return empty_anomalies()
    if before is not None and scored is not None:
        # The earlier tick's rows of the hours it had scored, and new rows of the others.
        new = (
            rows.loc[rows["hour_start"] >= _series_until(rows, before, present)]
            if len(rows)
            else rows
        )
        kept = scored.rows.loc[
            scored.rows["hour_start"] < _series_until(scored.rows, before, present)
        ]
        rows = pd.concat(
            [kept.drop(columns=["incident_id", "incident_end"]), new], ignore_index=True
        )
        if rows.empty:
            return empty_anomalies()
    rows = rows.assign(settled=_series_until(rows, until, present))
    rows = add_incidents(rows.loc[rows["hour_start"] < rows["settled"]])
    rows = rows.loc[rows["hour_start"] >= day_start]
    if rows.empty:
        return empty_anomalies()
    rows["brand"] = brand
    rows["date"] = pd.Timestamp(day)
    rows["detector"] = config.detector
    rows["detected_at"] = rows["hour_start"] + pd.Timedelta(hours=1)
    rows = rows.sort_values(["hour_start", "level", "channel", "campaign_id", "anomaly_type"])
    return _typed(rows.reset_index(drop=True))


def _scored_before(
    scored: Scored | None,
    present: list[str],
    until: Mapping[str, pd.Timestamp],
    day_start: pd.Timestamp,
) -> dict[str, pd.Timestamp] | None:
    """Per channel, the end of the hours an earlier tick scored (never past what is settled
    now); None when there was no such tick, or it did not know every channel of today's."""
    if scored is None or not set(present) <= set(scored.until):
        return None
    return {c: max(min(pd.Timestamp(scored.until[c]), until[c]), day_start) for c in present}


def _series_until(
    rows: pd.DataFrame, until: Mapping[str, pd.Timestamp], present: list[str]
) -> pd.Series:
    """Per row, the end of its series' scored hours: its channel's, or for a brand row the
    oldest of the brand's channels'."""
    brand_until = min(until[c] for c in present)
    ends = rows["channel"].map(until).where(rows["level"] != "brand", brand_until)
    return pd.to_datetime(ends, utc=True)


def _time_zones(history: pd.DataFrame, campaigns: Panel) -> pd.Series:
    """Each campaign's account time zone (its local day is its budget's day); UTC where the
    rows do not say."""
    if "account_timezone" not in history.columns:
        return pd.Series(["UTC"] * campaigns.size)
    zones = history.dropna(subset=["account_timezone"]).groupby("campaign_id")["account_timezone"]
    found = campaigns.keys["campaign_id"].map(zones.last())
    return found.fillna("UTC").astype(str).reset_index(drop=True)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.loc[:, list(ANOMALY_COLUMNS)].copy()
    out["top_campaigns"] = out["top_campaigns"].fillna("")
    for column, dtype in ANOMALY_COLUMNS.items():
        values = pd.to_datetime(out[column], utc=True) if "UTC" in dtype else out[column]
        out[column] = values.astype(dtype)  # type: ignore[call-overload]
    return out


def _window(panel: Panel, offset: int, days: int) -> Panel:
    """The sub-panel of `days` whole days starting `offset` days into the panel."""
    cut = slice(offset * 24, (offset + days) * 24)
    return replace(
        panel,
        start=panel.start + offset * DAY,
        hours=days * 24,
        measures={k: v[:, cut] for k, v in panel.measures.items()},
        reported=panel.reported[:, cut],
    )


@dataclass(frozen=True)
class Accounts:
    """What the brand's accounts say beyond the hourly rows: time zones and budgets."""

    brand: str
    zones: pd.Series  # each campaign's account time zone, aligned with the panel's keys
    budgets: pd.DataFrame | None
    # Each level's keys and membership matrix: the same campaigns in every window.
    members: dict[str, tuple[pd.DataFrame, np.ndarray]]


@dataclass(frozen=True)
class Level:
    panel: Panel
    matrix: np.ndarray  # [series, campaign] membership
    features: Features
    factor: float
    over: np.ndarray  # [series, 24] the scored day's spend past the known daily budgets
    gaps: np.ndarray  # bool [series, 24] the scored day's ingestion gaps (channel level)


def _score_day(
    campaigns: Panel, accounts: Accounts, config: DetectorConfig, floor: VolumeFloor
) -> list[pd.DataFrame]:
    """Rows of the last day of `campaigns` (pad day, window, scored day), at every level."""
    w = config.window_days
    c = campaigns.size
    day_start = campaigns.start + (w + 1) * DAY
    weekdays = np.array([(campaigns.start + d * DAY).weekday() for d in range(w + 2)])
    per_day = {k: v.reshape(c, w + 2, 24) for k, v in campaigns.measures.items()}
    train = slice(1, w + 1)
    channel_of = accounts.members["channel"][1]
    baselines = campaign_baselines(per_day, channel_of, train)
    paced = pacing(campaigns, accounts.zones, accounts.budgets, (w + 1) * 24, accounts.brand)
    usual = np.median(per_day["spend"][:, 1 : w + 1], axis=1)[:, None, :]  # [C, 1, 24]
    usual = np.broadcast_to(usual, (c, w + 2, 24))
    share = np.where(paced.capped.reshape(c, w + 2, 24), 0.0, usual)
    channels = roll_up(campaigns, "channel", accounts.members["channel"])[0]
    budget = Budgeted(paced, usual, share, _channel_gaps(channels, channel_of, share, usual, w))
    levels = [
        _level(campaigns, level, accounts, per_day, baselines, budget, weekdays, config, floor)
        for level in LEVELS
    ]
    scored = [
        {m: lv.features.z[m][:, w + 1].reshape(lv.panel.size * 24, len(POOLS)) for m in METRICS}
        for lv in levels
    ]
    verdicts = _verdicts(levels, scored, config)
    out = [_gap_rows(accounts.brand, lv, day_start) for lv in levels if lv.gaps.any()]
    for lv, day, verdict in zip(levels, scored, verdicts, strict=True):
        panel, features, factor = lv.panel, lv.features, lv.factor
        # The largest |deviation|, volumes scaled to the common threshold: the baseline's score.
        weights = {m: limit(m, config) / config.threshold for m in METRICS}
        largest = np.max(
            [np.max(np.abs(np.nan_to_num(day[m])), axis=1) / weights[m] for m in METRICS],
            axis=0,
        )
        if verdict is None:
            limits = np.repeat([limit(m, config) for m in METRICS], len(POOLS))
            stacked = np.concatenate([day[m] for m in METRICS], axis=1)
            flags = robust_z(np.nan_to_num(stacked, nan=0.0), limits, factor)
        else:
            flags = np.any(list(verdict.flags.values()), axis=0)
        flags = flags.reshape(panel.size, 24)
        if panel.level == "campaign":
            flags &= panel.reported.reshape(panel.size, w + 2, 24)[:, w + 1]
        overspent = lv.over > OVERSPENT
        flags |= overspent
        if not flags.any():
            continue
        rule_index, deviation = classify(
            strongest(features, w + 1), config.min_sigma * factor, overspent
        )
        flags &= rule_index >= 0
        if verdict is None:
            scores = largest.reshape(panel.size, 24)
        else:  # the highest score among the PyOD models that raised the flag
            flagged = [np.where(verdict.flags[m], verdict.scores[m], -np.inf) for m in METRICS]
            scores = np.max(flagged, axis=0).reshape(panel.size, 24)
            scores = np.where(np.isfinite(scores), scores, largest.reshape(panel.size, 24))
        out.append(
            _rows(
                accounts.brand,
                lv,
                levels[-1],
                flags,
                rule_index,
                deviation,
                scores,
                day_start,
                config,
            )
        )
    return out


OVERSPENT = 0.01  # spend past the budget below a cent is rounding
USUAL_SHARE = 0.9  # a channel that reported an hour of day on this share of the window's days


@dataclass(frozen=True)
class Budgeted:
    """What the budgets leave of each campaign's usual spend, arrays [campaign, day, 24]."""

    paced: Pacing
    usual: np.ndarray  # the campaign's median spend of the hour of day over the window
    share: np.ndarray  # the same, nil once its budget is spent
    channel_gaps: np.ndarray  # bool [channel, day, 24]: `_channel_gaps`


def _level(
    campaigns: Panel,
    level: str,
    accounts: Accounts,
    per_day: dict[str, np.ndarray],
    baselines: dict[str, np.ndarray],
    budget: Budgeted,
    weekdays: np.ndarray,
    config: DetectorConfig,
    floor: VolumeFloor,
) -> Level:
    """One level's series, what of them can be judged, and their features.

    Hours without rows are not zeros: a campaign without rows is not judged, a channel that
    usually reports the hour but has none has an ingestion gap, and no series is judged on
    hours (or pools of hours) with a gap of its channel (its totals lack that channel)."""
    w = config.window_days
    days = w + 2
    panel, matrix = roll_up(campaigns, level, accounts.members[level])
    grown = _established(campaigns, w)
    total = sum_into(matrix, budget.usual)
    room = np.divide(
        sum_into(matrix, budget.share), total, out=np.ones_like(total), where=total > 0
    )
    channel_matrix, channel_gaps = accounts.members["channel"][1], budget.channel_gaps
    parent = ((matrix @ channel_matrix.T) > 0).astype(float)  # [series, channel]
    gapped = (parent @ channel_gaps.reshape(len(channel_gaps), -1)).reshape(panel.size, days, 24)
    live = panel.reported.reshape(panel.size, days, 24).copy()
    if level == "campaign":
        live &= (per_day["impressions"] > 0) & grown[:, None, None]
    gaps = channel_gaps if level == "channel" else np.zeros_like(live)
    features = build_features(
        panel, matrix, per_day, baselines, w, weekdays, floor, Scope(live, gapped > 0, room, grown)
    )
    over = (matrix @ budget.paced.over).reshape(panel.size, days, 24)[:, w + 1]
    factor = config.campaign_factor if level == "campaign" else 1.0
    return Level(panel, matrix, features, factor, over, gaps[:, w + 1])


def _channel_gaps(
    channels: Panel, matrix: np.ndarray, share: np.ndarray, usual: np.ndarray, w: int
) -> np.ndarray:
    """bool [channel, day, 24]: hours a channel usually reports (USUAL_SHARE of the window's
    days) and had budget room for, without a row."""
    reported = channels.reported.reshape(channels.size, w + 2, 24)
    usually = np.mean(reported[:, 1 : w + 1], axis=1) >= USUAL_SHARE  # [channel, 24]
    has_room = sum_into(matrix, share) >= MIN_ROOM * sum_into(matrix, usual)
    return usually[:, None, :] & ~reported & has_room


def _established(campaigns: Panel, w: int) -> np.ndarray:
    """bool [campaign]: first reported before the last LEARNING_DAYS before the scored day
    (a launch ramps up over its learning days: no level judges it by its first week)."""
    seen = campaigns.reported.any(axis=1)
    first = np.argmax(campaigns.reported, axis=1)
    return seen & (first < max(w + 1 - LEARNING_DAYS, 1) * 24)


def _gap_rows(brand: str, level: Level, day_start: pd.Timestamp) -> pd.DataFrame:
    """The scored day's ingestion gaps: a data problem for the platform team, not a drop."""
    records = []
    for s, h in zip(*np.nonzero(level.gaps), strict=True):
        key = level.panel.keys.iloc[s]
        records.append(
            {
                "brand": brand,
                "level": level.panel.level,
                "channel": key["channel"],
                "campaign_id": key["campaign_id"],
                "campaign_name": key["campaign_name"],
                "currency": key["currency"],
                "hour_start": day_start + pd.Timedelta(hours=int(h)),
                "metric": "rows",
                "anomaly_type": "ingestion_gap",
                "observed": 0.0,  # rows reported for the hour, against its usual rows
                "expected": 1.0,
                "expected_low": 1.0,
                "expected_high": 1.0,
                "deviation": 0.0,
                "score": 0.0,
                "severity": "warning",
                "money_at_stake": 0.0,
                "top_campaigns": "",
                "_shares": {},
            }
        )
    return pd.DataFrame.from_records(records)


# Levels whose series-hours train one model per metric together. The brand and its channels
# are a handful of series (672 window hours each): together they give a PyOD model a few
# thousand hours, enough for a tail of 1 in 3,000. Campaigns are many and noisier: their own.
MODEL_GROUPS: tuple[tuple[str, ...], ...] = (("brand", "channel"), ("campaign",))


def _verdicts(
    levels: list[Level],
    scored: list[dict[str, np.ndarray]],
    config: DetectorConfig,
) -> list[Verdict | None]:
    """Per level, the PyOD models' verdict on its scored rows (None for the robust z
    baseline), from models fitted on the window's hours of the level's MODEL_GROUPS."""
    out: list[Verdict | None] = [None for _ in levels]
    if config.detector == "robust_z":
        return out
    w = config.window_days
    for names in MODEL_GROUPS:
        group = [i for i, lv in enumerate(levels) if lv.panel.level in names]
        window = {
            m: np.concatenate(
                [levels[i].features.z[m][:, 1 : w + 1].reshape(-1, len(POOLS)) for i in group]
            )
            for m in METRICS
        }
        sizes = [levels[i].panel.size * 24 for i in group]
        factors = [levels[i].factor for i in group]
        verdict = per_metric(
            window,
            {m: np.concatenate([scored[i][m] for i in group]) for m in METRICS},
            config,
            np.repeat(factors, [n * w for n in sizes]),
            np.repeat(np.multiply(factors, config.min_sigma), sizes),
        )
        cuts = np.cumsum(sizes)[:-1]
        flags = {m: np.split(verdict.flags[m], cuts) for m in METRICS}
        scores = {m: np.split(verdict.scores[m], cuts) for m in METRICS}
        for k, i in enumerate(group):
            out[i] = Verdict({m: flags[m][k] for m in METRICS}, {m: scores[m][k] for m in METRICS})
    return out


def _rows(
    brand: str,
    level: Level,
    campaigns: Level,
    flags: np.ndarray,
    rule_index: np.ndarray,
    deviation: np.ndarray,
    scores: np.ndarray,
    day_start: pd.Timestamp,
    config: DetectorConfig,
) -> pd.DataFrame:
    panel, features, factor = level.panel, level.features, level.factor
    d = config.window_days + 1
    band = RANGE_SIGMAS * factor
    # A PyOD model has already judged the hour unusual as a whole: its rows alert from the
    # explanation floor; the robust z baseline alerts from its threshold.
    baseline = config.detector == "robust_z"
    alert_from = config.threshold if baseline else config.min_sigma
    if not flags.any():
        return pd.DataFrame()
    moved = strongest(campaigns.features, d) if panel.level != "campaign" else {}
    records = []
    for s, h in zip(*np.nonzero(flags), strict=True):
        rule = RULES[rule_index[s, h]]
        key = panel.keys.iloc[s]
        expected = float(features.expected[rule.metric][s, d, h])
        sigma = float(np.nan_to_num(features.sigma[rule.metric][s, d, h]))
        spend = float(features.spend[s, d, h])
        dev = float(deviation[s, h])
        observed = float(features.observed[rule.metric][s, d, h])
        over = float(level.over[s, h])
        if rule.metric in RELATIVE:
            low, high = expected * np.exp(-band * sigma), expected * np.exp(band * sigma)
        else:
            low, high = max(expected - band * sigma, 0.0), expected + band * sigma
        loud = severity(
            rule.metric,
            dev,
            # A PyOD score is on its model's own scale: severity reads the deviation.
            float(scores[s, h]) if baseline else abs(dev),
            panel.level,
            alert_from * factor,
            observed / expected if expected > 0 else 1.0,
        )
        if rule.anomaly_type == "spend_spike" and over > OVERSPENT and loud == "info":
            loud = "warning"  # past the budget the platform may spend: always worth a look
        top, shares = "", dict[str, tuple[float, float]]()
        if panel.level != "campaign":
            money = campaign_money(rule, campaigns.features, moved, d, int(h))
            weight = np.maximum(
                campaigns.features.spend[:, d, h],
                np.nan_to_num(campaigns.features.expected_spend[:, d, h]),
            )
            top, shares = contributors(level.matrix[s] > 0, campaigns.panel.keys, money, weight)
        records.append(
            {
                "top_campaigns": top,
                "_shares": shares,
                "brand": brand,
                "level": panel.level,
                "channel": key["channel"],
                "campaign_id": key["campaign_id"],
                "campaign_name": key["campaign_name"],
                "currency": key["currency"],
                "hour_start": day_start + pd.Timedelta(hours=int(h)),
                "metric": rule.metric,
                "anomaly_type": rule.anomaly_type,
                "observed": observed,
                "expected": expected,
                "expected_low": low,
                "expected_high": high,
                "deviation": round(dev, 3),
                "score": round(float(scores[s, h]), 3),
                "severity": loud,
                "money_at_stake": round(
                    money_at_stake(
                        rule.anomaly_type, spend, float(features.expected_spend[s, d, h]), over
                    ),
                    2,
                ),
            }
        )
    return pd.DataFrame.from_records(records)


def history_window(day: date, config: DetectorConfig) -> tuple[date, date]:
    """The unified dates `detect` needs for `day`: the window, two days before it, the day."""
    return day - timedelta(days=config.window_days + 2), day
