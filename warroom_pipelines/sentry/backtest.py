"""Replay the Sentry over demo brands tick by tick, as the pipeline ran it, and score its
alerts against the demo's labels.

Each brand-day is scored at every tick that would have scored it (`replay.ticks_scoring`:
the hourly refreshes, then the restatements that changed it), on the history the pipeline
had stored by then: partial last hours, first reports of restated days, the watermark of
`settle.py`. An alert is an incident first raised at warning or worse at some tick, whatever
later ticks make of it (the message has gone). The same days are also scored once on the
finished data, so the effect of replaying shows beside it.

What is reported (`BacktestReport`):
- recall within 2 h, per level the incident was injected at (brand, channel, campaign) and
  per type: raised with the mapped type (`EXPECTED_TYPE`) by a row whose hour starts at most
  2 h after onset, at any level that covers the incident (its brand, its channel, or its
  campaign); also at its own level, with any type (`found`), the share of those typed right,
  and the hours from onset to the tick that raised it;
- alerts per level: precision, typed right, false alerts per brand-week (every day counts),
  and alerts raised on hours whose rows had not all arrived at that tick;
- false alerts during each kind of benign event (`demo_benign_events`);
- seconds of `detect` per brand-tick.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from warroom_pipelines.channels.demo import (
    BENIGN_KINDS,
    DemoConfig,
    demo_benign_events,
    demo_budgets,
    demo_incidents,
)
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import DEFAULT_CONFIG, detect, empty_anomalies, history_window
from warroom_pipelines.sentry.replay import BrandReplay, ticks_scoring
from warroom_pipelines.sentry.severity import SEVERITIES

EXPECTED_TYPE: dict[str, str] = {
    "ctr_collapse": "ctr_drop",
    "cpa_spike": "cpa_spike",
    "spend_runaway": "spend_spike",
    "tracking_break": "conversion_drop",
    "roas_drop": "roas_drop",
}
LEVELS: tuple[str, ...] = ("brand", "channel", "campaign")
ONSET_SLACK = pd.Timedelta(hours=2)
AFTER_END = pd.Timedelta(hours=3)  # a 3-hour pool still sees an incident two hours after it
HOUR = pd.Timedelta(hours=1)
# The stated minimum volume for campaign recall: clicks an hour of the campaign during the
# incident (on its first day). Below it one hour of a campaign is a few clicks.
MIN_CAMPAIGN_CLICKS = 30.0
# Data problems go to the platform destination, not to the brand: not counted as alerts.
DATA_PROBLEMS = ("ingestion_gap",)
DEFAULT_DEMO = DemoConfig()
Record = Mapping[Hashable, Any]  # one row of a frame, as `to_dict("records")` gives it


@dataclass(frozen=True)
class BacktestReport:
    by_level: pd.DataFrame  # per injected level: recall within 2 h, typed, time to alert
    by_type: pd.DataFrame  # per incident type and level: recall within 2 h
    alerts: pd.DataFrame  # per alert level: precision, typed right, false per brand-week
    benign: pd.DataFrame  # per benign kind: events, false alerts during them
    finished: pd.DataFrame  # the same days scored once on the finished data (headline)
    runtime: pd.Series  # seconds of detect per brand-tick
    incidents: pd.DataFrame  # the labels, scored
    alert_incidents: pd.DataFrame  # the alerts, scored
    anomalies: pd.DataFrame  # every row first raised at warning+, with `raised_at`, `partial`
    brand_weeks: float


def brand_names(world: str, count: int) -> list[str]:
    """The backtest's brands of a world: `brand-NN` on the demo's, `heldout-NN` on the
    held-out one (other brands, so every brand-keyed draw differs too)."""
    prefix = "brand" if world == "demo" else "heldout"
    return [f"{prefix}-{n:02d}" for n in range(count)]


def run(
    brands: list[str],
    start: date,
    end: date,
    config: DetectorConfig = DEFAULT_CONFIG,
    demo: DemoConfig = DEFAULT_DEMO,
    min_severity: str = "warning",
    budgets: bool = False,
    on_brand_day: Callable[[str, date], None] | None = None,
    replay: bool = True,
) -> BacktestReport:
    """Replay `brands` over `start`..`end`. `budgets=True` gives `detect` the demo's campaign
    budgets (the pipeline reads none yet); `on_brand_day` is called after each brand-day.
    `replay=False` scores the finished data only, once per brand-day (about 25 times
    cheaper, for larger samples): the report's tick figures are then those of the finished
    data, and no alert can be on a partial hour."""
    loud = SEVERITIES[SEVERITIES.index(min_severity) :]
    raised, finished, labels, events, seconds = [], [], [], [], []
    for brand in brands:
        stored = BrandReplay(brand, demo)
        for day in _days(start, end):
            first = history_window(day, config)[0]
            plan = (
                demo_budgets(brand, first - timedelta(days=1), day + timedelta(days=1), demo)
                if budgets
                else None
            )
            complete = stored.complete_at(day)
            for tick in ticks_scoring(day, stored) if replay else ():
                history = stored.history(first, day, tick)
                t0 = time.perf_counter()
                rows = detect(history, day, config, budgets=plan)
                seconds.append(time.perf_counter() - t0)
                rows = rows.loc[rows["severity"].isin(loud)]
                raised.append(rows.assign(raised_at=tick, partial=_partial(rows, complete, tick)))
            final = stored.history(first, day, None)
            t0 = time.perf_counter()
            rows = detect(final, day, config, budgets=plan)
            if not replay:
                seconds.append(time.perf_counter() - t0)
            rows = rows.loc[rows["severity"].isin(loud)]
            finished.append(rows.assign(raised_at=rows["detected_at"], partial=False))
            labels.append(_with_volume(demo_incidents(brand, day, day, demo), final))
            stored.forget_before(first + timedelta(days=1))
            if on_brand_day is not None:
                on_brand_day(brand, day)
        local = (start - timedelta(days=1), end + timedelta(days=1))
        events.append(demo_benign_events(brand, *local, demo))
    truth = _utc(pd.concat(labels, ignore_index=True), "start", "end")
    benign = _utc(pd.concat(events, ignore_index=True), "start", "end")
    weeks = len(brands) * ((end - start).days + 1) / 7.0
    done = _first_raised(pd.concat(finished, ignore_index=True))
    rows = _first_raised(pd.concat(raised, ignore_index=True)) if replay else done
    scored = _score_incidents(truth, rows)
    alerts = _score_alerts(rows, truth, benign)
    return BacktestReport(
        by_level=by_level(scored),
        by_type=_by_type(scored),
        alerts=_alert_table(alerts, weeks),
        benign=_benign_table(alerts, benign, weeks),
        finished=headline(
            by_level(_score_incidents(truth, done)),
            _alert_table(_score_alerts(done, truth, benign), weeks),
        ),
        runtime=pd.Series(seconds, name="seconds"),
        incidents=scored,
        alert_incidents=alerts,
        anomalies=rows,
        brand_weeks=weeks,
    )


def _utc(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Time columns as UTC timestamps, also when the frame is empty."""
    return frame.assign(**{c: pd.to_datetime(frame[c], utc=True) for c in columns})


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _partial(rows: pd.DataFrame, complete: pd.Series, tick: pd.Timestamp) -> pd.Series:
    """Whether each row's hour still lacked rows at `tick` (its channel's, or for a brand row
    any channel's)."""
    if rows.empty or complete.empty:
        return pd.Series(False, index=rows.index)
    by_hour = complete.groupby(level="hour_start").max()
    brand = rows["hour_start"].map(by_hour)
    pairs = pd.MultiIndex.from_arrays([rows["channel"].astype(object), rows["hour_start"]])
    own = pd.Series(complete.reindex(pairs).to_numpy(), index=rows.index)
    done = brand.where(rows["level"] == "brand", own)
    return done.notna() & (done > tick)


def _with_volume(labels: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Each label with the clicks an hour of what it hit, in its hours of its first day."""
    volume = []
    for label in labels.to_dict("records"):
        hit = final.loc[
            (final["hour_start"] >= label["start"]) & (final["hour_start"] < label["end"])
        ]
        if label["channel"] is not None:
            hit = hit.loc[hit["channel"] == label["channel"]]
        if label["campaign_id"] is not None:
            hit = hit.loc[hit["campaign_id"] == label["campaign_id"]]
        hours = max(hit["hour_start"].nunique(), 1)
        volume.append(float(hit["clicks"].sum()) / hours)
    return labels.assign(clicks_per_hour=volume)


def _first_raised(rows: pd.DataFrame) -> pd.DataFrame:
    """Each anomalous series-hour once, as the tick that first raised it saw it."""
    if rows.empty:
        return empty_anomalies().assign(
            raised_at=pd.Series(dtype="datetime64[us, UTC]"), partial=False
        )
    key = ["brand", "incident_id", "hour_start", "level", "channel", "campaign_id", "anomaly_type"]
    ordered = rows.sort_values("raised_at", kind="stable")
    return ordered.drop_duplicates(key).reset_index(drop=True)


def _covers(rows: pd.DataFrame, brand: str, channel: Any, campaign: Any) -> pd.Series:
    """Rows that speak for an event of `brand` (on `channel`, on `campaign`; None: all)."""
    mask = rows["brand"] == brand
    if channel is not None and not pd.isna(channel):
        mask &= (rows["level"] == "brand") | (rows["channel"] == channel)
    if campaign is not None and not pd.isna(campaign):
        mask &= (rows["level"] != "campaign") | (rows["campaign_id"] == campaign)
    return mask


def _score_incidents(truth: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Per label: found within 2 h (any type), recalled (right type), at its own level,
    detected at all while it lasted, and hours from onset to the alert."""
    out = truth.copy()
    for column in ("found", "recall", "recall_own_level", "detected"):
        out[column] = False
    out["hours_to_alert"] = np.nan
    out["alert_level"] = ""
    for i, label in truth.iterrows():
        during = rows.loc[
            _covers(rows, label["brand"], label["channel"], label["campaign_id"])
            & (rows["hour_start"] >= label["start"])
            & (rows["hour_start"] < label["end"])
        ]
        during = during.loc[~during["anomaly_type"].isin(DATA_PROBLEMS)]
        typed = during.loc[during["anomaly_type"] == EXPECTED_TYPE[label["incident_type"]]]
        early = during["hour_start"] <= label["start"] + ONSET_SLACK
        typed_early = typed.loc[typed["hour_start"] <= label["start"] + ONSET_SLACK]
        out.loc[i, "found"] = bool(early.any())
        out.loc[i, "recall"] = len(typed_early) > 0
        out.loc[i, "recall_own_level"] = bool((typed_early["level"] == label["level"]).any())
        if len(typed):
            first = typed.sort_values("raised_at").iloc[0]
            out.loc[i, "detected"] = True
            out.loc[i, "hours_to_alert"] = (first["raised_at"] - label["start"]) / HOUR
            out.loc[i, "alert_level"] = first["level"]
    return out


def _recall_columns(group: pd.DataFrame) -> dict[str, float]:
    found = group["found"].sum()
    return {
        "incidents": len(group),
        "recall_2h": _mean(group["recall"]),
        "at_own_level": _mean(group["recall_own_level"]),
        "found_any_type": _mean(group["found"]),
        "typed_right": group["recall"].sum() / found if found else np.nan,
        "detected_at_all": _mean(group["detected"]),
        "median_h_to_alert": _median(group["hours_to_alert"]),
    }


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else np.nan


def _median(values: pd.Series) -> float:
    return float(values.median()) if values.notna().any() else np.nan


def by_level(scored: pd.DataFrame) -> pd.DataFrame:
    """Recall per level the incident was injected at, and for campaign incidents above the
    stated minimum volume."""
    parts = {level: scored.loc[scored["level"] == level] for level in LEVELS}
    if "clicks_per_hour" in scored.columns:
        big = scored["clicks_per_hour"] >= MIN_CAMPAIGN_CLICKS
        parts[f"campaign >= {MIN_CAMPAIGN_CLICKS:g} clicks/h"] = scored.loc[
            (scored["level"] == "campaign") & big
        ]
    parts["all"] = scored
    table = pd.DataFrame({name: _recall_columns(group) for name, group in parts.items()}).T
    table.index.name = "level"
    return table.astype({"incidents": int}).round(3)


def _by_type(scored: pd.DataFrame) -> pd.DataFrame:
    table = scored.groupby(["incident_type", "level"]).agg(
        incidents=("incident_id", "size"),
        recall_2h=("recall", "mean"),
        found_any_type=("found", "mean"),
        median_h_to_alert=("hours_to_alert", "median"),
    )
    return table.round(3)


def _alert_incidents(rows: pd.DataFrame) -> pd.DataFrame:
    if rows.empty:
        columns = ["brand", "incident_id", "level", "channel", "campaign_id", "anomaly_type"]
        return pd.DataFrame(columns=[*columns, "start", "last", "raised_at", "partial"])
    first_tick = rows["raised_at"] == rows.groupby(["brand", "incident_id"])["raised_at"].transform(
        "min"
    )
    return (
        rows.assign(partial=rows["partial"] & first_tick)
        .groupby(["brand", "incident_id"])
        .agg(
            level=("level", "first"),
            channel=("channel", "first"),
            campaign_id=("campaign_id", "first"),
            anomaly_type=("anomaly_type", "first"),
            start=("hour_start", "min"),
            last=("hour_start", "max"),
            raised_at=("raised_at", "min"),
            partial=("partial", "any"),
        )
        .reset_index()
    )


def _matching(labels: pd.DataFrame, alert: Record) -> pd.DataFrame:
    """Labels an alert may be about: same brand, overlapping in time, same scope."""
    near = labels.loc[
        (labels["brand"] == alert["brand"])
        & (labels["start"] <= alert["last"])
        & (labels["end"] + AFTER_END > alert["start"])
    ]
    if alert["level"] != "brand":
        near = near.loc[near["channel"].isna() | (near["channel"] == alert["channel"])]
    if alert["level"] == "campaign":
        near = near.loc[near["campaign_id"].isna() | (near["campaign_id"] == alert["campaign_id"])]
    return near


def _explains(event: Record, alert: Record) -> bool:
    """Whether a benign event could be what a false alert saw: a brand-wide event for any
    alert of the brand, a channel's for its channel's alerts, a campaign's for its own."""
    if event["level"] == "brand":
        return True
    if alert["level"] == "brand" or event["channel"] != alert["channel"]:
        return False
    return event["level"] == "channel" or alert["campaign_id"] == event["campaign_id"]


def _score_alerts(rows: pd.DataFrame, truth: pd.DataFrame, benign: pd.DataFrame) -> pd.DataFrame:
    """Each alert: matched to a label, typed as that label, and the benign kinds it met."""
    alerts = _alert_incidents(rows.loc[~rows["anomaly_type"].isin(DATA_PROBLEMS)])
    matched, typed, kinds = [], [], []
    for alert in alerts.to_dict("records"):
        near = _matching(truth, alert)
        matched.append(len(near) > 0)
        typed.append(
            bool((near["incident_type"].map(EXPECTED_TYPE) == alert["anomaly_type"]).any())
        )
        during = benign.loc[
            (benign["brand"] == alert["brand"])
            & (benign["start"] <= alert["last"])
            & (benign["end"] > alert["start"])
        ]
        met = {str(e["kind"]) for e in during.to_dict("records") if _explains(e, alert)}
        kinds.append(",".join(sorted(met)))
    return alerts.assign(matched=matched, typed_right=typed, benign=kinds)


def _alert_table(alerts: pd.DataFrame, weeks: float) -> pd.DataFrame:
    table = {}
    for name in (*LEVELS, "all"):
        part = alerts if name == "all" else alerts.loc[alerts["level"] == name]
        false = ~part["matched"].astype(bool)
        table[name] = {
            "alerts": len(part),
            "precision": part["matched"].mean() if len(part) else np.nan,
            "typed_right": part.loc[part["matched"], "typed_right"].mean() if len(part) else np.nan,
            "false": int(false.sum()),
            "false_per_brand_week": false.sum() / weeks,
            "on_partial_hours": int(part["partial"].sum()),
            "false_on_partial_hours": int((part["partial"] & false).sum()),
        }
    frame = pd.DataFrame(table).T
    frame.index.name = "level"
    counts = ["alerts", "false", "on_partial_hours", "false_on_partial_hours"]
    return frame.astype({c: int for c in counts}).round(3)


def _benign_table(alerts: pd.DataFrame, benign: pd.DataFrame, weeks: float) -> pd.DataFrame:
    false = alerts.loc[~alerts["matched"].astype(bool)]
    rows = []
    for kind in BENIGN_KINDS:
        during = false["benign"].map(lambda kinds, k=kind: k in str(kinds).split(","))
        rows.append(
            {
                "kind": kind,
                "events": int((benign["kind"] == kind).sum()),
                "false_alerts_during": int(during.sum()),
                "per_brand_week": during.sum() / weeks,
            }
        )
    alone = false["benign"] == ""
    rows.append(
        {
            "kind": "(none)",
            "events": 0,
            "false_alerts_during": int(alone.sum()),
            "per_brand_week": alone.sum() / weeks,
        }
    )
    return pd.DataFrame(rows).set_index("kind").round(3)


def headline(levels: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """The figures the issue's targets name, as one row."""
    minimum = f"campaign >= {MIN_CAMPAIGN_CLICKS:g} clicks/h"
    line = {f"recall_2h {level}": levels.loc[level, "recall_2h"] for level in LEVELS}
    if minimum in levels.index:
        line[f"recall_2h {minimum}"] = levels.loc[minimum, "recall_2h"]
    line["typed_right"] = levels.loc["all", "typed_right"]
    line["precision"] = alerts.loc["all", "precision"]
    line["false_per_brand_week"] = alerts.loc["all", "false_per_brand_week"]
    line["alerts_on_partial_hours"] = alerts.loc["all", "on_partial_hours"]
    return pd.DataFrame([line]).round(3)


def per_brand(report: BacktestReport) -> pd.DataFrame:
    """The headline per brand: each brand is its own seed, so this is the spread."""
    brands = sorted(set(report.incidents["brand"]) | set(report.alert_incidents["brand"]))
    weeks = report.brand_weeks / max(len(brands), 1)
    lines = [pd.DataFrame(columns=["brand"])]
    for brand in brands:
        labels = report.incidents.loc[report.incidents["brand"] == brand]
        alerts = report.alert_incidents.loc[report.alert_incidents["brand"] == brand]
        lines.append(headline(by_level(labels), _alert_table(alerts, weeks)).assign(brand=brand))
    return pd.concat(lines, ignore_index=True).set_index("brand")


def found_by_level(anomalies: pd.DataFrame, injected: pd.DataFrame) -> pd.DataFrame:
    """The demo's closing table: per level the incidents were injected at, how many the
    Sentry raised (right type, warning or worse, within 2 h and at all)."""
    rows = anomalies.loc[anomalies["severity"].isin(SEVERITIES[1:])]
    rows = rows.assign(raised_at=rows["detected_at"])
    scored = _score_incidents(injected, rows)
    table = []
    for level in (*LEVELS, "all"):
        part = scored if level == "all" else scored.loc[scored["level"] == level]
        table.append(
            {
                "level": level,
                "injected": len(part),
                "found_within_2h": int(part["recall"].sum()),
                "found_at_all": int(part["detected"].sum()),
                "found_at_own_level": int(part["recall_own_level"].sum()),
            }
        )
    return pd.DataFrame(table)


def found_vs_injected(anomalies: pd.DataFrame, injected: pd.DataFrame) -> pd.DataFrame:
    """Per brand: incidents the demo source injected, how many the Sentry raised with the
    right type (at any level, warning or worse, during the incident), and its alert
    incidents at brand and channel level with how many match no injected incident."""
    if anomalies.empty:
        anomalies = empty_anomalies()
    loud = anomalies.loc[anomalies["severity"].isin(SEVERITIES[1:])]
    loud = loud.assign(raised_at=loud["detected_at"], partial=False)
    scored = _score_incidents(injected, loud)
    alerts = _alert_incidents(loud.loc[loud["level"] != "campaign"])
    brands = sorted(set(injected["brand"]) | set(anomalies["brand"]))
    rows = []
    for brand in brands:
        mine = scored.loc[scored["brand"] == brand]
        theirs = alerts.loc[alerts["brand"] == brand]
        unmatched = sum(_matching(mine, alert).empty for alert in theirs.to_dict("records"))
        rows.append(
            {
                "brand": brand,
                "injected": len(mine),
                "injected_types": ", ".join(sorted(mine["incident_type"])),
                "found": int(mine["detected"].sum()),
                "alert_incidents": len(theirs),
                "not_injected": int(unmatched),
            }
        )
    return pd.DataFrame(rows)
