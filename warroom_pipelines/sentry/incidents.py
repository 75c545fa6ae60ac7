"""The Sentry's anomalous hours as incidents, by one rule for everyone who reads them: the
alerts (`alerts.incidents` versions them), Dagster metadata, the CLI and the demo.

The Sentry writes one row per anomalous series-hour with a stable `incident_id`; consecutive
hours of one series form one incident, possibly across midnight. Its worst hour (highest
severity, then largest deviation) speaks for it; money at stake is summed over its hours; it is
resolved once any of its rows carries an end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from warroom_pipelines.sentry.severity import severity_rank


@dataclass(frozen=True)
class Incident:
    """Consecutive anomalous hours of one series, summarised by its worst hour."""

    incident_id: str
    brand: str
    date: str  # the latest brand-day (YYYY-MM-DD) that holds hours of the incident
    level: str
    channel: str
    campaign_id: str
    campaign_name: str
    metric: str
    anomaly_type: str
    severity: str
    observed: float
    expected: float
    expected_low: float
    expected_high: float
    deviation: float
    money_at_stake: float
    currency: str
    hours: int
    incident_start: datetime
    incident_end: datetime | None  # exclusive end hour; None while the incident is open
    detector: str

    @property
    def resolved(self) -> bool:
        return self.incident_end is not None

    @property
    def series_key(self) -> str:
        """The series an incident belongs to; the cooldown is kept per series."""
        return "|".join((self.brand, self.level, self.channel, self.campaign_id, self.anomaly_type))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["incident_start"] = self.incident_start.isoformat()
        data["incident_end"] = self.incident_end.isoformat() if self.incident_end else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        values = dict(data)
        values["incident_start"] = datetime.fromisoformat(values["incident_start"])
        end = values.get("incident_end")
        values["incident_end"] = datetime.fromisoformat(end) if end else None
        return cls(**values)


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _number(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    return 0.0 if math.isnan(number) else number


def group_incidents(anomalies: pd.DataFrame) -> list[Incident]:
    """One Incident per incident_id, from all of its anomalous hours (possibly several days).

    The worst hour (highest severity, then largest deviation) speaks for the incident; money at
    stake is summed over its hours; it is resolved once any of its rows carries an end.
    """
    if anomalies.empty:
        return []
    frame = anomalies.assign(
        _rank=anomalies["severity"].map(severity_rank),
        _size=anomalies["deviation"].astype(float).abs().fillna(0.0),
    )
    incidents = []
    for incident_id, rows in frame.groupby("incident_id", sort=True):
        brands = set(rows["brand"])
        if len(brands) != 1:
            raise ValueError(
                f"incident {incident_id!r} spans brands {sorted(brands)}: incident ids must be "
                "unique per brand"
            )
        worst = rows.sort_values(["_rank", "_size", "hour_start"], ascending=False).iloc[0]
        ends = rows["incident_end"].dropna()
        money = float(rows["money_at_stake"].astype(float).fillna(0.0).sum())
        incidents.append(
            Incident(
                incident_id=str(incident_id),
                brand=str(worst["brand"]),
                date=pd.Timestamp(rows["date"].max()).date().isoformat(),
                level=_text(worst["level"]),
                channel=_text(worst["channel"]),
                campaign_id=_text(worst["campaign_id"]),
                campaign_name=_text(worst["campaign_name"]),
                metric=_text(worst["metric"]),
                anomaly_type=_text(worst["anomaly_type"]),
                severity=str(worst["severity"]),
                observed=_number(worst["observed"]),
                expected=_number(worst["expected"]),
                expected_low=_number(worst["expected_low"]),
                expected_high=_number(worst["expected_high"]),
                deviation=_number(worst["deviation"]),
                money_at_stake=round(money, 2),
                currency=_text(worst["currency"]),
                hours=int(rows["hour_start"].nunique()),
                incident_start=pd.Timestamp(rows["incident_start"].min()).to_pydatetime(),
                incident_end=pd.Timestamp(ends.max()).to_pydatetime() if len(ends) else None,
                detector=_text(worst["detector"]),
            )
        )
    return incidents


def incidents_by_brand_day(
    anomalies: pd.DataFrame, brand_days: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], list[Incident]]:
    """The incidents with hours on each of `brand_days`, each with all of its hours: an
    incident across midnight is listed under both of its days."""
    if anomalies.empty:
        return {}
    by_id = {incident.incident_id: incident for incident in group_incidents(anomalies)}
    hours = set(
        zip(
            anomalies["brand"].astype(str),
            pd.to_datetime(anomalies["date"]).dt.date,
            anomalies["incident_id"].astype(str),
            strict=True,
        )
    )
    wanted = set(brand_days)
    found: dict[tuple[str, date], list[Incident]] = {}
    for brand, day, incident_id in sorted(hours):
        if (brand, day) in wanted:
            found.setdefault((brand, day), []).append(by_id[incident_id])
    return found


SUMMARY_COLUMNS = [
    "brand",
    "incident_id",
    "level",
    "channel",
    "campaign_name",
    "anomaly_type",
    "severity",
    "start",
    "end",
    "hours",
    "deviation",
    "money_at_stake",
    "currency",
]


def summary(anomalies: pd.DataFrame) -> pd.DataFrame:
    """One row per incident: where, what, when, how bad, how much money; worst first."""
    found = group_incidents(anomalies)
    frame = pd.DataFrame(
        [
            {
                **{column: getattr(i, column, None) for column in SUMMARY_COLUMNS},
                "start": i.incident_start,
                "end": i.incident_end,
                "deviation": round(abs(i.deviation), 1),
                "_rank": severity_rank(i.severity),
            }
            for i in found
        ],
        columns=[*SUMMARY_COLUMNS, "_rank"],
    )
    ordered = frame.sort_values(["_rank", "money_at_stake"], ascending=False, kind="stable")
    return ordered.loc[:, SUMMARY_COLUMNS].reset_index(drop=True)


def counts(anomalies: pd.DataFrame) -> dict[str, int]:
    """Anomalous series-hours per type and per severity ("type:ctr_drop", "severity:info")."""
    out = {f"type:{k}": int(v) for k, v in anomalies["anomaly_type"].value_counts().items()}
    out.update({f"severity:{k}": int(v) for k, v in anomalies["severity"].value_counts().items()})
    return dict(sorted(out.items()))
