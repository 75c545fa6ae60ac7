"""One alert per incident, not one per hour: an incident (`sentry.incidents`) is versioned so
that a brand hears about it once when it opens, again only when it grows worse (higher
severity, or money at stake multiplied), and once more when it ends.

An incident first seen already over (a backfill of past days, a restatement, a dispatcher that
was down while it came and went) is not announced: nobody can act on it any more, and a
backfill of weeks would otherwise fill the channel with "resolved" messages about incidents
the brand never heard of. It stays on the dashboard and in `performance_anomalies`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from warroom_pipelines.sentry.incidents import Incident
from warroom_pipelines.sentry.severity import severity_rank

MessageKind = Literal["open", "update", "resolved"]


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
