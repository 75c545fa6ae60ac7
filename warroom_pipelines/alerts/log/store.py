"""What the dispatcher asks of the delivery log, whatever warehouse keeps it.

The log is written BEFORE anything is sent: an intent row per incident x destination x
version, keyed by its idempotency key (`<incident id>:<destination>:v<version>`), inserted only
if the key is new. So a tick that is re-evaluated, a sensor restarted from an older cursor or
two sensors racing all land on the same row and nothing is announced twice. Rows are claimed
(leased) in small batches before they are sent and marked delivered or failed after the
batch; failures are retried with exponential back-off and, after `max_attempts`, become dead
letters (`warroom alerts retry` re-queues them). The only window for a duplicate is a crash
between a successful send and its batch's mark; the resend (after the lease) carries the same
idempotency key (header / Message-ID), so that the receiver drops it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

import pandas as pd

from warroom_pipelines.alerts.destinations import Destination
from warroom_pipelines.alerts.incidents import Incident, Notified, SeriesMemory
from warroom_pipelines.alerts.messages import IncidentNotice, Notice

PENDING, DELIVERED, FAILED, DEAD_LETTER = "pending", "delivered", "failed", "dead_letter"
# An alert whose brand's destinations could not be read is logged once, to this stand-in
# destination, as a dead letter; when it is re-sent (`warroom alerts retry`) and the brand's
# destinations read again, it is handed on to them as new intents.
UNREADABLE, HANDED_ON = "unreadable-destinations", "handed_on"


def idempotency_key(notice_id: str, destination: str, version: int) -> str:
    return f"{notice_id}:{destination}:v{version}"


@dataclass(frozen=True)
class Intent:
    """A notice promised to one destination, recorded before it is sent."""

    notice: Notice
    destination: Destination
    day: date | None
    series_key: str | None = None
    incident_start: datetime | None = None
    money_at_stake: float | None = None

    @property
    def key(self) -> str:
        return idempotency_key(self.notice.notice_id, self.destination.name, self.notice.version)

    @classmethod
    def of_incident(cls, notice: IncidentNotice, destination: Destination) -> Intent:
        incident = notice.incident
        return cls(
            notice,
            destination,
            date.fromisoformat(incident.date),
            incident.series_key,
            incident.incident_start,
            incident.money_at_stake,
        )


@dataclass(frozen=True)
class Claimed:
    key: str
    brand: str
    destination_name: str
    attempt: int
    notice: Notice


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt, written back to the log."""

    key: str
    status: str
    response_code: int | None
    error: str | None
    next_attempt_at: datetime | None


class DeliveryStore(Protocol):
    """The delivery log as the dispatcher uses it (see the module docstring)."""

    def session(self) -> AbstractContextManager[object]:
        """Group the calls inside the block (one connection where the warehouse has them)."""
        ...

    def incidents(
        self, brand_days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], list[Incident]]:
        """The incidents with hours on each brand-day, with all of their hours (one read for
        a page of brand-days: every warehouse query has a fixed cost)."""
        ...

    def notified(
        self, incident_ids: Sequence[str]
    ) -> tuple[dict[str, Notified], dict[str, set[str]]]:
        """Per incident: the last version promised, and the destinations promised it."""
        ...

    def series_memory(self, series_keys: Sequence[str]) -> dict[str, SeriesMemory]:
        """Per series, the most recent incident that was announced (for the cooldown)."""
        ...

    def record(self, intents: Sequence[Intent], now: datetime) -> int:
        """Insert the intents whose key is not in the log yet; returns how many were new."""
        ...

    def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        keys: Sequence[str] | None = None,
        skip: Sequence[str] = (),
    ) -> list[Claimed]:
        """Lease up to `limit` due rows (pending or failed, back-off elapsed) to this caller:
        a concurrent caller does not see them as due, and if this process dies mid-send they
        are due again when the lease ends."""
        ...

    def settle(self, outcomes: Sequence[Outcome], now: datetime, unsent: Sequence[str]) -> None:
        """Write a batch's outcomes and give back the leases it had no time to use."""
        ...

    def requeue_dead_letters(self, brand: str | None = None) -> list[str]:
        """Dead letters become pending again with a fresh set of attempts."""
        ...

    def dead_letters_by_brand(self) -> dict[str, int]: ...

    def rows(self, brand: str | None = None) -> pd.DataFrame:
        """The log as analysts see it (the stored notice JSON left out)."""
        ...
