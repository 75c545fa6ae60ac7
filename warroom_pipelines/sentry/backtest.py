"""Replay detection over a period of the demo source and score it against its labels.

The hourly schedule re-materializes today's partition every hour with the hours that have
ended. Because `detect` scores each hour only from the hours up to it and a window that ends
before the day, the run at hour h raises exactly the day's rows up to h (a test checks this
by truncating the day hour by hour), so one run per day replays the schedule and each row's
`detected_at` (its hour's end) is when the schedule would have raised it.

Scores, per demo incident type mapped to the anomaly type it should raise:
- recall: the incident is raised with the right type within 2 hours of its onset (a row of
  that type for the incident's series starting at hours onset, onset+1 or onset+2), at the
  brand level, the incident's channel, its campaign(s), and brand-or-channel;
- time to detection: hours from onset to the first such row during the incident;
- precision: alert incidents that overlap a labelled incident of the brand (same channel
  below brand level) over all alert incidents, per level;
- false alerts per brand per week on days without any labelled incident;
- runtime of `detect` per brand-day (one process, one core).

Only rows of severity warning or critical count as alerts (info rows are shown on the
dashboard, not pushed); `min_severity="info"` scores every row instead.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from warroom_pipelines.channels.demo import DemoConfig, demo_incidents, demo_metrics
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import (
    DEFAULT_CONFIG,
    detect,
    empty_anomalies,
    history_window,
)
from warroom_pipelines.sentry.severity import SEVERITIES

EXPECTED_TYPE: dict[str, str] = {
    "ctr_collapse": "ctr_drop",
    "cpa_spike": "cpa_spike",
    "spend_runaway": "spend_spike",
    "tracking_break": "conversion_drop",
    "roas_drop": "roas_drop",
}
RECALL_LEVELS: tuple[str, ...] = ("brand", "channel", "brand_or_channel", "campaign", "any")
ONSET_SLACK = pd.Timedelta(hours=2)
AFTER_END = pd.Timedelta(hours=3)  # a 3-hour pool still sees an incident two hours after it
HOUR = pd.Timedelta(hours=1)
DEFAULT_DEMO = DemoConfig()


@dataclass(frozen=True)
class BacktestReport:
    recall: pd.DataFrame  # per incident type: incidents, recall per level, median hours to detect
    alerts: pd.DataFrame  # per level: alert incidents, precision, false alerts per brand-week
    runtime: pd.Series  # seconds per brand-day
    incidents: pd.DataFrame  # labelled incidents with detection per level
    anomalies: pd.DataFrame  # every anomaly row raised


def brand_history(
    brand: str, start: date, end: date, demo: DemoConfig, cache: Path | None = None
) -> pd.DataFrame:
    """The brand's demo rows from start to end (inclusive), cached as a pickle if asked."""
    # repr, not hash(): str hashes change per process, so hash() never hit the cache twice.
    key = hashlib.blake2b(repr(demo).encode(), digest_size=3).hexdigest()
    path = cache / f"{brand}_{start}_{end}_{key}.pkl" if cache else None
    if path is not None and path.exists():
        return pd.read_pickle(path)
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    frame = pd.concat([demo_metrics(brand, d, demo) for d in days], ignore_index=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_pickle(path)
    return frame


def run(
    brands: list[str],
    start: date,
    end: date,
    config: DetectorConfig = DEFAULT_CONFIG,
    demo: DemoConfig = DEFAULT_DEMO,
    cache: Path | None = None,
    min_severity: str = "warning",
    on_brand_done: Callable[[str], None] | None = None,
) -> BacktestReport:
    """`on_brand_done(brand)` after each brand's replay: the command's progress line."""
    anomalies, labels, seconds = [], [], []
    for brand in brands:
        history = brand_history(brand, history_window(start, config)[0], end, demo, cache)
        day = start
        while day <= end:
            first, _ = history_window(day, config)
            window = history.loc[
                (history["date"] >= pd.Timestamp(first)) & (history["date"] <= pd.Timestamp(day))
            ]
            t0 = time.perf_counter()
            anomalies.append(detect(window, day, config))
            seconds.append(time.perf_counter() - t0)
            day += timedelta(days=1)
        labels.append(demo_incidents(brand, start, end, demo))
        if on_brand_done is not None:
            on_brand_done(brand)
    rows = pd.concat(anomalies, ignore_index=True)
    loud = SEVERITIES[SEVERITIES.index(min_severity) :]
    rows = rows.loc[rows["severity"].isin(loud)]
    truth = pd.concat(labels, ignore_index=True)
    scored = _score_incidents(truth, rows)
    return BacktestReport(
        recall=_recall_table(scored),
        alerts=_alert_table(rows, truth, brands, start, end),
        runtime=pd.Series(seconds, name="seconds"),
        incidents=scored,
        anomalies=rows,
    )


def _level_mask(rows: pd.DataFrame, incident: pd.Series, level: str) -> pd.Series:
    same_channel = rows["channel"] == incident["channel"]
    if level == "brand":
        return rows["level"] == "brand"
    if level == "channel":
        return (rows["level"] == "channel") & same_channel
    if level == "brand_or_channel":
        return _level_mask(rows, incident, "brand") | _level_mask(rows, incident, "channel")
    campaign = (rows["level"] == "campaign") & same_channel
    if incident["campaign_id"] is not None and not pd.isna(incident["campaign_id"]):
        campaign &= rows["campaign_id"] == incident["campaign_id"]
    if level == "campaign":
        return campaign
    return _level_mask(rows, incident, "brand_or_channel") | campaign


def _score_incidents(truth: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    out = truth.copy()
    for level in RECALL_LEVELS:
        out[f"recall_{level}"] = False
    out["hours_to_detect"] = np.nan
    out["detected"] = False  # raised with the right type at some level during the incident
    if rows.empty:
        return out
    for i, incident in truth.iterrows():
        same = rows.loc[
            (rows["brand"] == incident["brand"])
            & (rows["anomaly_type"] == EXPECTED_TYPE[incident["incident_type"]])
            & (rows["hour_start"] >= incident["start"])
            & (rows["hour_start"] < incident["end"])
        ]
        for level in RECALL_LEVELS:
            hit = same.loc[_level_mask(same, incident, level)]
            if len(hit):
                out.loc[i, f"recall_{level}"] = (
                    hit["hour_start"].min() <= incident["start"] + ONSET_SLACK
                )
                if level == "any":
                    out.loc[i, "detected"] = True
                if level == "brand_or_channel":
                    delay = (hit["hour_start"].min() - incident["start"]) / HOUR
                    out.loc[i, "hours_to_detect"] = delay
    return out


def _recall_table(scored: pd.DataFrame) -> pd.DataFrame:
    """Recall within 2 h per incident type and level; a campaign incident counts at brand and
    channel level too (it may only be visible at campaign level: that is what the split shows)."""
    columns = {f"recall_{level}": (f"recall_{level}", "mean") for level in RECALL_LEVELS}
    grouped = scored.assign(scope=np.where(scored["campaign_id"].isna(), "channel", "campaign"))
    table = grouped.groupby(["incident_type", "scope"]).agg(
        incidents=("incident_id", "size"),
        **columns,
        median_hours_to_detect=("hours_to_detect", "median"),
    )
    total = grouped.groupby("scope").agg(
        incidents=("incident_id", "size"),
        **columns,
        median_hours_to_detect=("hours_to_detect", "median"),
    )
    total.index = pd.MultiIndex.from_product([["all"], total.index])
    out = pd.concat([table, total]).round(3)
    out.index.names = ["incident_type", "scope"]
    return out


def _alert_incidents(rows: pd.DataFrame) -> pd.DataFrame:
    return (
        rows.groupby("incident_id")
        .agg(
            brand=("brand", "first"),
            level=("level", "first"),
            channel=("channel", "first"),
            campaign_id=("campaign_id", "first"),
            anomaly_type=("anomaly_type", "first"),
            start=("hour_start", "min"),
            last=("hour_start", "max"),
        )
        .reset_index()
    )


def _alert_table(
    rows: pd.DataFrame, truth: pd.DataFrame, brands: list[str], start: date, end: date
) -> pd.DataFrame:
    alerts = (
        _alert_incidents(rows)
        if len(rows)
        else pd.DataFrame(
            columns=[
                "incident_id",
                "brand",
                "level",
                "channel",
                "campaign_id",
                "anomaly_type",
                "start",
                "last",
            ]
        )
    )
    matched = []
    for alert in alerts.to_dict("records"):
        labels = truth.loc[
            (truth["brand"] == alert["brand"])
            & (truth["start"] <= alert["last"])
            & (truth["end"] + AFTER_END > alert["start"])
        ]
        if alert["level"] != "brand":
            labels = labels.loc[labels["channel"] == alert["channel"]]
        matched.append(len(labels) > 0)
    alerts["matched"] = matched
    # Days touched by a labelled incident (plus the pooled hours after it) are not clean.
    dirty = {
        (str(r["brand"]), d.date())
        for r in truth.to_dict("records")
        for d in pd.date_range(r["start"].floor("D"), (r["end"] + AFTER_END).floor("D"), freq="D")
    }
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    clean_days = sum((b, d) not in dirty for b in brands for d in days)
    alerts["clean_day"] = [
        (str(a["brand"]), a["start"].date()) not in dirty for a in alerts.to_dict("records")
    ]
    weeks = max(clean_days, 1) / 7.0
    table = []
    for name, levels in (
        ("brand", ("brand",)),
        ("channel", ("channel",)),
        ("brand_or_channel", ("brand", "channel")),
        ("campaign", ("campaign",)),
    ):
        part = alerts.loc[alerts["level"].isin(levels)]
        false_clean = int((~part["matched"] & part["clean_day"]).sum())
        table.append(
            {
                "level": name,
                "alert_incidents": len(part),
                "precision": round(float(part["matched"].mean()), 3) if len(part) else np.nan,
                "false_on_clean_days": false_clean,
                "false_per_brand_week": round(false_clean / weeks, 3),
            }
        )
    return pd.DataFrame(table).set_index("level")


def found_vs_injected(anomalies: pd.DataFrame, injected: pd.DataFrame) -> pd.DataFrame:
    """Per brand: incidents the demo source injected, how many the Sentry raised with the
    right type (at any level, warning or worse, during the incident), and its alert
    incidents at brand and channel level with how many match no injected incident."""
    if anomalies.empty:
        anomalies = empty_anomalies()
    loud = anomalies.loc[anomalies["severity"].isin(SEVERITIES[1:])]
    scored = _score_incidents(injected, loud)
    brands = sorted(set(injected["brand"]) | set(anomalies["brand"]))
    rows = []
    for brand in brands:
        mine = scored.loc[scored["brand"] == brand]
        caught = mine.loc[mine["detected"]]
        alerts = loud.loc[(loud["brand"] == brand) & (loud["level"] != "campaign")]
        unmatched = 0
        if len(alerts):
            table = _alert_incidents(alerts)
            for alert in table.to_dict("records"):
                labels = mine.loc[
                    (mine["start"] <= alert["last"]) & (mine["end"] + AFTER_END > alert["start"])
                ]
                if alert["level"] != "brand":
                    labels = labels.loc[labels["channel"] == alert["channel"]]
                unmatched += int(labels.empty)
        rows.append(
            {
                "brand": brand,
                "injected": len(mine),
                "injected_types": ", ".join(sorted(mine["incident_type"])),
                "found": len(caught),
                "alert_incidents": int(alerts["incident_id"].nunique()) if len(alerts) else 0,
                "not_injected": unmatched,
            }
        )
    return pd.DataFrame(rows)
