"""From anomalous series-hours to explained anomalies and incidents, in the product's words.

One series-hour can be off on several metrics at once (a runaway budget also lowers ROAS), so
each anomalous hour gets the one type that names the cause, checked in order: a runaway
(spend up with more traffic bought at worse efficiency, whatever CPM does, or spend past the
daily budget) first, then a CTR drop, a CPC rise at stable spend, a CPA spike with dearer
clicks, a conversion drop (tracking break), a CPA spike, a ROAS drop, then the remaining
directions. A volume rise whose efficiency holds (a sale day, a budget step, a launch) is no
incident. Consecutive anomalous hours of one series and type form one incident.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from warroom_pipelines.metrics import CATALOGUE
from warroom_pipelines.sentry.features import Features

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


@dataclass(frozen=True)
class Rule:
    anomaly_type: str
    metric: str  # the metric reported (observed / expected / range)
    tests: tuple[tuple[str, int], ...]  # (metric, direction): each must deviate this way
    not_against: str = ""  # a metric that must not deviate the other way (z >= 0)
    stable: str = ""  # a metric that must stay steady (under STEADY_SIGMA either way)
    runaway: bool = False  # needs more traffic at worse efficiency, or spend past the budget


# Under this a change is steady: a runaway buys more traffic (impressions up at least this
# much); a CPC rise is its own type while spend stays within it.
STEADY_SIGMA = 2.0
EFFICIENCY: tuple[tuple[str, int], ...] = (("cpa", +1), ("cpc", +1), ("roas", -1))
RULES: tuple[Rule, ...] = (
    Rule("spend_spike", "spend", (("spend", +1),), runaway=True),
    Rule("ctr_drop", "ctr", (("ctr", -1),)),
    Rule("cpc_spike", "cpc", (("cpc", +1),), stable="spend"),
    Rule("cpa_spike", "cpa", (("cpa", +1), ("cpc", +1))),
    Rule("conversion_drop", "cvr", (("cvr", -1),)),
    Rule("conversion_drop", "conversions", (("conversions", -1),)),
    Rule("cpa_spike", "cpa", (("cpa", +1),)),
    # Dearer clicks are dearer conversions unless the conversion rate rose to match.
    Rule("cpa_spike", "cpc", (("cpc", +1),), not_against="cpa"),
    Rule("roas_drop", "roas", (("roas", -1),)),
    Rule("roas_drop", "roas", (("aov", -1),)),
    Rule("cpc_spike", "cpc", (("cpc", +1),)),
    Rule("ctr_spike", "ctr", (("ctr", +1),)),
    Rule("spend_drop", "spend", (("spend", -1),)),
    Rule("impressions_drop", "impressions", (("impressions", -1),)),
)


def strongest(features: Features, day: int) -> dict[str, np.ndarray]:
    """Per metric [series, 24]: its deviation over the one horizon (pool) on which the
    series-hour deviates most on any metric, so that a type is read from one horizon (an
    incident's tail in the 3-hour pool is not retyped by the hour that is already normal)."""
    values = {m: np.nan_to_num(z[:, day], nan=0.0) for m, z in features.z.items()}  # [S, 24, P]
    largest = np.max([np.abs(v) for v in values.values()], axis=0)  # [S, 24, P]
    pick = np.argmax(largest, axis=-1)[..., None]
    return {m: np.take_along_axis(v, pick, axis=-1)[..., 0] for m, v in values.items()}


def classify(
    deviations: dict[str, np.ndarray], minimum: float, overspent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rule index (-1: none) and signed deviation per series-hour; `overspent` marks the
    series-hours whose campaigns spent past their known daily budget."""
    shape = next(iter(deviations.values())).shape
    rule_index = np.full(shape, -1)
    deviation = np.zeros(shape)
    worse = np.any([deviations[m] * d >= minimum for m, d in EFFICIENCY], axis=0)
    bought = (deviations["impressions"] >= STEADY_SIGMA) & worse
    for i, rule in enumerate(RULES):
        hit = np.ones(shape, dtype=bool)
        for metric, direction in rule.tests:
            hit &= deviations[metric] * direction >= minimum
        if rule.not_against:
            hit &= deviations[rule.not_against] * rule.tests[0][1] >= 0
        if rule.stable:
            hit &= np.abs(deviations[rule.stable]) < STEADY_SIGMA
        if rule.runaway:  # spend past a known budget is a runaway however little
            hit = (hit & bought) | overspent
        hit &= rule_index == -1
        first_metric = rule.tests[0][0]
        rule_index[hit] = i
        deviation[hit] = deviations[first_metric][hit]
    return rule_index, deviation


def severity(
    metric: str, deviation: float, score: float, level: str, threshold: float, share: float
) -> str:
    """How loudly to raise it, from the series-hour's score (its largest deviation, volumes
    scaled to their own threshold). info is shown but not pushed: scores under the alert
    threshold, and volume drops that are not a stop (a paused campaign lowers a channel's
    spend every day; delivery at under a tenth of normal, `share`, is an outage). A brand or
    channel twice past the threshold is critical; campaigns stop at warning."""
    if score < threshold:
        return "info"
    if deviation < 0 and CATALOGUE[metric].kind == "volume" and share > 0.1:
        return "info"
    if level != "campaign" and score >= 2 * max(threshold, 4.0):
        return "critical"
    return "warning"


def money_at_stake(
    anomaly_type: str, spend: float, expected_spend: float, overspend: float = 0.0
) -> float:
    """Spend past the budget (or else above expectation) for a spike, budget not delivered
    for a drop, otherwise the spend that went through the broken funnel in the hour."""
    if anomaly_type == "spend_spike":
        return overspend if overspend > 0 else max(spend - expected_spend, 0.0)
    if anomaly_type in ("spend_drop", "impressions_drop"):
        return max(expected_spend - spend, 0.0)
    return spend


def incident_id(brand: str, series: tuple[str, ...], anomaly_type: str, start: pd.Timestamp) -> str:
    """Stable across re-materializations and midnight: a hash of what and when it started."""
    text = "|".join((brand, *series, anomaly_type, start.isoformat()))
    return "inc-" + hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def add_incidents(rows: pd.DataFrame) -> pd.DataFrame:
    """Number consecutive hours of one series and type as one incident.

    Each row's `settled` is the end of its series' scored hours: an incident whose last hour
    reaches it is still open (end NaT); otherwise it ends at the first normal hour after it.
    """
    if rows.empty:
        none = pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us, UTC]")
        return rows.assign(incident_id="", incident_start=none, incident_end=none)
    series = ["level", "channel", "campaign_id", "currency", "anomaly_type"]
    rows = rows.sort_values([*series, "hour_start"]).reset_index(drop=True)
    gap = rows.groupby(series, sort=False)["hour_start"].diff() != pd.Timedelta(hours=1)
    run = gap.cumsum()
    start = rows.groupby(run)["hour_start"].transform("min")
    last = rows.groupby(run)["hour_start"].transform("max") + pd.Timedelta(hours=1)
    rows["incident_start"] = start
    rows["incident_end"] = last.where(last < rows["settled"])
    rows["incident_id"] = [
        incident_id(
            str(r["brand"]),
            (str(r["level"]), str(r["channel"]), str(r["campaign_id"]), str(r["currency"])),
            str(r["anomaly_type"]),
            pd.Timestamp(s),
        )
        for r, s in zip(rows.to_dict("records"), start, strict=True)
    ]
    return rows
