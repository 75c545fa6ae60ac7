"""detect(history, day, config): the anomalies of one brand-day, in the warehouse's columns.

Day D is scored with features and models built from the `window_days` whole days before D
only, and each hour only from hours up to itself, so D's scores never change when later
data arrives (whether the rest of D or day D+1). The previous day is scored the same way
(as its own partition was) so that an incident running across midnight keeps its start and
id. Nothing depends on the clock or on global random state: same input, same output.
"""

from __future__ import annotations

from dataclasses import replace
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
    METRICS,
    POOLS,
    RELATIVE,
    Features,
    VolumeFloor,
    build_features,
    campaign_baselines,
)
from warroom_pipelines.sentry.series import (
    HISTORY_COLUMNS,
    LEVELS,
    Panel,
    build_panel,
    membership,
    roll_up,
)

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
}
DAY = pd.Timedelta(days=1)
DEFAULT_CONFIG = DetectorConfig()
DEFAULT_FLOOR = VolumeFloor()
MIN_WINDOW_DAYS = 7
# The expected range shown with an anomaly: the conventional normal range, whatever the
# detector's thresholds (a 4.5-sigma band around a small count would always reach zero).
RANGE_SIGMAS = 3.0


# The unified columns `detect` reads: all a caller needs to fetch of a brand's history.
SENTRY_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(("brand", *HISTORY_COLUMNS)))


def empty_anomalies() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in ANOMALY_COLUMNS.items()})


def detect(
    history: pd.DataFrame,
    day: date,
    config: DetectorConfig = DEFAULT_CONFIG,
    floor: VolumeFloor = DEFAULT_FLOOR,
) -> pd.DataFrame:
    """Anomalies of `day` for the one brand in `history` (unified rows up to that day).

    Hours of `day` after the last reported hour are not scored: a day still in progress has
    only the hours that have ended.
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
    history = history.loc[history["hour_start"] < day_start + DAY]
    if history.empty or history["hour_start"].max() < day_start:
        return empty_anomalies()
    scored_until = history["hour_start"].max() + pd.Timedelta(hours=1)
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
    frames: list[pd.DataFrame] = []
    for offset in (0, 1):  # the previous day (as its own partition scored it), then the day
        day_rows = _score_day(brand, _window(campaigns, offset, w + 2), config, floor)
        frames.extend(r for r in day_rows if not r.empty)
    if not frames:
        return empty_anomalies()
    rows = pd.concat(frames, ignore_index=True)
    rows = rows.loc[rows["hour_start"] < scored_until]
    rows = add_incidents(rows, scored_until)
    rows = rows.loc[rows["hour_start"] >= day_start]
    if rows.empty:
        return empty_anomalies()
    rows["brand"] = brand
    rows["date"] = pd.Timestamp(day)
    rows["detector"] = config.detector
    rows["detected_at"] = rows["hour_start"] + pd.Timedelta(hours=1)
    rows = rows.sort_values(["hour_start", "level", "channel", "campaign_id", "anomaly_type"])
    return _typed(rows.reset_index(drop=True))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.loc[:, list(ANOMALY_COLUMNS)].copy()
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


def _score_day(
    brand: str, campaigns: Panel, config: DetectorConfig, floor: VolumeFloor
) -> list[pd.DataFrame]:
    """Rows of the last day of `campaigns` (pad day, window, scored day), at every level."""
    w = config.window_days
    c = campaigns.size
    day_start = campaigns.start + (w + 1) * DAY
    weekdays = np.array([(campaigns.start + d * DAY).weekday() for d in range(w + 2)])
    per_day = {k: v.reshape(c, w + 2, 24) for k, v in campaigns.measures.items()}
    train = slice(1, w + 1)
    _, channel_of = membership(campaigns, "channel")
    baselines = campaign_baselines(per_day, channel_of, train)
    levels = []
    for level in LEVELS:
        panel, matrix = roll_up(campaigns, level)
        features = build_features(panel, matrix, per_day, baselines, w, weekdays, floor)
        factor = config.campaign_factor if level == "campaign" else 1.0
        levels.append((panel, features, factor))
    scored = [
        {m: f.z[m][:, w + 1].reshape(p.size * 24, len(POOLS)) for m in METRICS}
        for p, f, _ in levels
    ]
    verdicts = _verdicts(levels, scored, config)
    out = []
    for (panel, features, factor), day, verdict in zip(levels, scored, verdicts, strict=True):
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
        if not flags.any():
            continue
        rule_index, deviation = classify(strongest(features, w + 1), config.min_sigma * factor)
        flags &= rule_index >= 0
        if verdict is None:
            scores = largest.reshape(panel.size, 24)
        else:  # the highest score among the PyOD models that raised the flag
            flagged = [np.where(verdict.flags[m], verdict.scores[m], -np.inf) for m in METRICS]
            scores = np.max(flagged, axis=0).reshape(panel.size, 24)
        out.append(
            _rows(
                brand,
                panel,
                features,
                flags,
                rule_index,
                deviation,
                scores,
                day_start,
                config,
                factor,
            )
        )
    return out


# Levels whose series-hours train one model per metric together. The brand and its channels
# are a handful of series (672 window hours each): together they give a PyOD model a few
# thousand hours, enough for a tail of 1 in 3,000. Campaigns are many and noisier: their own.
MODEL_GROUPS: tuple[tuple[str, ...], ...] = (("brand", "channel"), ("campaign",))


def _verdicts(
    levels: list[tuple[Panel, Features, float]],
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
        group = [i for i, (p, _, _) in enumerate(levels) if p.level in names]
        window = {
            m: np.concatenate(
                [levels[i][1].z[m][:, 1 : w + 1].reshape(-1, len(POOLS)) for i in group]
            )
            for m in METRICS
        }
        sizes = [levels[i][0].size * 24 for i in group]
        factors = [levels[i][2] for i in group]
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
    panel: Panel,
    features: Features,
    flags: np.ndarray,
    rule_index: np.ndarray,
    deviation: np.ndarray,
    scores: np.ndarray,
    day_start: pd.Timestamp,
    config: DetectorConfig,
    factor: float,
) -> pd.DataFrame:
    d = config.window_days + 1
    band = RANGE_SIGMAS * factor
    # A PyOD model has already judged the hour unusual as a whole: its rows alert from the
    # explanation floor; the robust z baseline alerts from its threshold.
    baseline = config.detector == "robust_z"
    alert_from = config.threshold if baseline else config.min_sigma
    if not flags.any():
        return pd.DataFrame()
    records = []
    for s, h in zip(*np.nonzero(flags), strict=True):
        rule = RULES[rule_index[s, h]]
        key = panel.keys.iloc[s]
        expected = float(features.expected[rule.metric][s, d, h])
        sigma = float(np.nan_to_num(features.sigma[rule.metric][s, d, h]))
        spend = float(features.spend[s, d, h])
        dev = float(deviation[s, h])
        observed = float(features.observed[rule.metric][s, d, h])
        if rule.metric in RELATIVE:
            low, high = expected * np.exp(-band * sigma), expected * np.exp(band * sigma)
        else:
            low, high = max(expected - band * sigma, 0.0), expected + band * sigma
        records.append(
            {
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
                "severity": severity(
                    rule.metric,
                    dev,
                    # A PyOD score is on its model's own scale: severity reads the deviation.
                    float(scores[s, h]) if baseline else abs(dev),
                    panel.level,
                    alert_from * factor,
                    observed / expected if expected > 0 else 1.0,
                ),
                "money_at_stake": round(
                    money_at_stake(
                        rule.anomaly_type, spend, float(features.expected_spend[s, d, h])
                    ),
                    2,
                ),
            }
        )
    return pd.DataFrame.from_records(records)


def history_window(day: date, config: DetectorConfig) -> tuple[date, date]:
    """The unified dates `detect` needs for `day`: the window, two days before it, the day."""
    return day - timedelta(days=config.window_days + 2), day
