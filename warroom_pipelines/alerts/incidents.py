"""From anomalous hours to incidents: one alert per incident, not one per hour.

The Sentry writes one row per anomalous series-hour with a stable `incident_id`. An incident
is versioned so that a brand hears about it once when it opens, again only when it grows worse
(higher severity, or money at stake multiplied), and once more when it ends.

An incident first seen already over (a backfill of past days, a restatement, a dispatcher that
was down while it came and went) is not announced: nobody can act on it any more, and a
backfill of weeks would otherwise fill the channel with "resolved" messages about incidents
the brand never heard of. It stays on the dashboard and in `performance_anomalies`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import pandas as pd

SEVERITIES = ("info", "warning", "critical")
MessageKind = Literal["open", "update", "resolved"]


def severity_rank(severity: str) -> int:
    """info < warning < critical; an unknown label is an error naming the label."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(
            f"unknown severity {severity!r}: expected one of {', '.join(SEVERITIES)}"
        ) from None


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


@dataclass(frozen=True)
class Notified:
    """What the brand was last told about an incident (from the delivery log)."""

    version: int
    message_kind: str
    severity: str
    money_at_stake: float


@dataclass(frozen=True)
class SeriesMemory:
    """The last incident of a series that the brand was told about (for the cooldown)."""

    incident_id: str
    incident_start: datetime
    severity: str


@dataclass(frozen=True)
class Decision:
    kind: MessageKind
    version: int


@dataclass(frozen=True)
class VersionPolicy:
    """When a follow-up is worth a message.

    `money_growth`: an update is sent when money at stake reaches this multiple of what was
    last reported. `cooldown`: a new incident on a series whose previous incident started less
    than this long before is not announced (flapping) unless it is more severe; the cooldown is
    measured in data time (incident starts), so re-evaluating a tick decides the same way.
    """

    money_growth: float = 2.0
    cooldown: timedelta = timedelta(hours=3)


def decide(
    incident: Incident,
    notified: Notified | None,
    series: SeriesMemory | None,
    policy: VersionPolicy,
) -> Decision | None:
    """The message an incident needs now, or None when the brand already knows enough."""
    if notified is None:
        if series is not None and series.incident_id != incident.incident_id:
            recent = incident.incident_start - series.incident_start < policy.cooldown
            if recent and severity_rank(incident.severity) <= severity_rank(series.severity):
                return None
        if incident.resolved:
            return None  # over before anyone heard of it: nothing to act on
        return Decision("open", 1)
    if notified.message_kind == "resolved":
        return None
    if incident.resolved:
        return Decision("resolved", notified.version + 1)
    worse = severity_rank(incident.severity) > severity_rank(notified.severity)
    grew = incident.money_at_stake >= policy.money_growth * max(notified.money_at_stake, 0.01)
    if worse or grew:
        return Decision("update", notified.version + 1)
    return None
