"""At-least-once delivery that a receiver sees exactly once.

The delivery log (warehouse table `main.alert_deliveries`) is written BEFORE anything is sent:
an intent row per incident x destination x version, keyed by its idempotency key
(`<incident id>:<destination>:v<version>`), inserted with ON CONFLICT DO NOTHING. So a tick that
is re-evaluated, a sensor restarted from an older cursor or two sensors racing all land on the
same row and nothing is announced twice. Rows are claimed (leased) in small batches before they
are sent and marked delivered or failed after the batch; failures are retried with exponential
back-off and, after `max_attempts`, become dead letters (`warroom alerts retry` re-queues them).
The only window for a duplicate is a crash between a successful send and its batch's mark; the
resend (after the lease) carries the same idempotency key (header / Message-ID), so that the
receiver drops it.

`DeliveryStore` is that log's contract. `DeliveryLog` keeps it with upserts in a DuckDB file
beside the local warehouse (`warehouse.local.STATE_TABLES`); on BigQuery,
`warehouse.bigquery_deliveries.BigQueryDeliveryLog` keeps it with MERGE statements on the same
key.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import duckdb
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.alerts.destinations import (
    DeliveryError,
    Destination,
    DestinationProvider,
    accepts,
    scrub,
)
from warroom_pipelines.alerts.incidents import (
    Incident,
    Notified,
    SeriesMemory,
    VersionPolicy,
    decide,
    incidents_by_brand_day,
)
from warroom_pipelines.alerts.messages import (
    FailureNotice,
    IncidentNotice,
    Notice,
    notice_from_dict,
)
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

DELIVERIES = TableRef("main", "alert_deliveries")
ANOMALIES = TableRef("main", "performance_anomalies")
PENDING, DELIVERED, FAILED, DEAD_LETTER = "pending", "delivered", "failed", "dead_letter"
# An alert whose brand's destinations could not be read is logged once, to this stand-in
# destination, as a dead letter; when it is re-sent (`warroom alerts retry`) and the brand's
# destinations read again, it is handed on to them as new intents.
UNREADABLE, HANDED_ON = "unreadable-destinations", "handed_on"
_CONFLICT_RETRIES = 3
# Anomaly types that are data problems (the Sentry's `ingestion_gap`: a channel's rows are
# missing): the platform destination hears of them, not the brand.
DATA_PROBLEMS: frozenset[str] = frozenset({"ingestion_gap"})

_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
    incident_id VARCHAR NOT NULL,
    brand VARCHAR NOT NULL,
    date DATE,
    destination_kind VARCHAR NOT NULL,
    destination_name VARCHAR NOT NULL,
    message_kind VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    status VARCHAR NOT NULL,
    response_code INTEGER,
    first_attempt_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    error VARCHAR,
    idempotency_key VARCHAR PRIMARY KEY,
    severity VARCHAR NOT NULL,
    money_at_stake DOUBLE,
    series_key VARCHAR,
    incident_start TIMESTAMPTZ,
    recorded_at TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ,
    notice VARCHAR NOT NULL
)
"""


def idempotency_key(notice_id: str, destination: str, version: int) -> str:
    return f"{notice_id}:{destination}:v{version}"


def notified_from_rows(
    rows: Iterable[Sequence[Any]],
) -> tuple[dict[str, Notified], dict[str, set[str]]]:
    """Fold delivery rows (incident, destination, version, kind, severity, money), ordered by
    version, into each incident's last announcement and the destinations it reached."""
    last: dict[str, Notified] = {}
    reached: dict[str, set[str]] = {}
    for incident_id, destination, version, kind, severity, money in rows:
        last[incident_id] = Notified(int(version), kind, severity, float(money or 0.0))
        reached.setdefault(incident_id, set()).add(destination)
    return last, reached


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
    ) -> tuple[dict[str, Notified], dict[str, set[str]]]: ...

    def series_memory(self, series_keys: Sequence[str]) -> dict[str, SeriesMemory]: ...

    def record(self, intents: Sequence[Intent], now: datetime) -> int: ...

    def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        keys: Sequence[str] | None = None,
        skip: Sequence[str] = (),
    ) -> list[Claimed]: ...

    def settle(self, outcomes: Sequence[Outcome], now: datetime, unsent: Sequence[str]) -> None: ...

    def requeue_dead_letters(self, brand: str | None = None) -> list[str]: ...

    def dead_letters_by_brand(self) -> dict[str, int]: ...

    def rows(self, brand: str | None = None) -> pd.DataFrame: ...


class DeliveryLog:
    """The `alert_deliveries` table in DuckDB; every write is one short transaction.

    Opening the DuckDB file costs tens of milliseconds, so a tick works in sessions (one
    connection for a phase of DB-only work) and never holds the file while it sends.
    """

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.warehouse = warehouse
        self.table = warehouse.sql_table(DELIVERIES)
        self._ready = False
        self._con: duckdb.DuckDBPyConnection | None = None

    @contextmanager
    def session(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One connection for the calls inside the block (nested sessions share it)."""
        if self._con is not None:
            yield self._con
            return
        # Always the writer configuration: DuckDB refuses two configurations of one file
        # within a process, and the sensor both reads and writes.
        with self.warehouse.connect(read_only=False, state=True) as con:
            self._con = con
            try:
                yield con
            finally:
                self._con = None

    def _connect(self) -> AbstractContextManager[duckdb.DuckDBPyConnection]:
        return self.session()

    def ensure(self, con: duckdb.DuckDBPyConnection) -> None:
        for attempt in range(_CONFLICT_RETRIES):
            if self._ready:
                return
            try:
                con.execute(_DDL.format(table=self.table))
                self._ready = True
            except duckdb.TransactionException:
                # Another connection created the table at the same moment; it exists now.
                if attempt == _CONFLICT_RETRIES - 1:
                    raise

    def incidents(
        self, brand_days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], list[Incident]]:
        """The incidents with hours on each brand-day, with all of their hours (across
        midnight), in one query."""
        if not brand_days:
            return {}
        brands = sorted({brand for brand, _ in brand_days})
        slices = [f"{brand}/{day.isoformat()}" for brand, day in brand_days]
        with self.session() as con:
            if not self.warehouse.table_exists(con, ANOMALIES):
                return {}
            frame = con.execute(
                f"SELECT * FROM {ANOMALIES} WHERE brand IN (SELECT UNNEST(?::VARCHAR[])) "
                f"AND incident_id IN (SELECT incident_id FROM {ANOMALIES} "
                "WHERE concat(brand, '/', CAST(date AS VARCHAR)) IN (SELECT UNNEST(?::VARCHAR[])))",
                [brands, slices],
            ).df()
        return incidents_by_brand_day(frame, brand_days)

    def notified(
        self, incident_ids: Sequence[str]
    ) -> tuple[dict[str, Notified], dict[str, set[str]]]:
        """Per incident: the last version promised, and the destinations that were promised it."""
        if not incident_ids:
            return {}, {}
        with self._connect() as con:
            self.ensure(con)
            rows = con.execute(
                f"SELECT incident_id, destination_name, version, message_kind, severity, "
                f"money_at_stake FROM {self.table} WHERE incident_id IN "
                "(SELECT UNNEST(?::VARCHAR[])) ORDER BY incident_id, version",
                [list(incident_ids)],
            ).fetchall()
        return notified_from_rows(rows)

    def series_memory(self, series_keys: Sequence[str]) -> dict[str, SeriesMemory]:
        """Per series, the most recent incident that was announced (for the cooldown)."""
        if not series_keys:
            return {}
        with self._connect() as con:
            self.ensure(con)
            rows = con.execute(
                f"SELECT series_key, incident_id, incident_start, severity FROM {self.table} "
                "WHERE series_key IN (SELECT UNNEST(?::VARCHAR[])) "
                "QUALIFY row_number() OVER (PARTITION BY series_key "
                "ORDER BY incident_start DESC, version DESC) = 1",
                [list(series_keys)],
            ).fetchall()
        return {
            key: SeriesMemory(incident_id, start.astimezone(UTC), severity)
            for key, incident_id, start, severity in rows
        }

    def record(self, intents: Sequence[Intent], now: datetime) -> int:
        """Insert intents that are not yet in the log; returns how many were new."""
        for attempt in range(_CONFLICT_RETRIES):
            try:
                return self._insert(intents, now)
            except (duckdb.ConstraintException, duckdb.TransactionException):
                # A concurrent writer inserted the same keys first (DuckDB's optimistic
                # concurrency reports it instead of applying ON CONFLICT): try again.
                if attempt == _CONFLICT_RETRIES - 1:
                    raise
        return 0

    def _insert(self, intents: Sequence[Intent], now: datetime) -> int:
        if not intents:
            return 0
        # Lists zipped by UNNEST, not a registered DataFrame: DuckDB's pandas scans are not
        # safe when two threads of one process (two sensors) register frames at once.
        columns = [
            [i.notice.notice_id for i in intents],
            [i.notice.brand for i in intents],
            [i.day.isoformat() if i.day else None for i in intents],
            [i.destination.kind for i in intents],
            [i.destination.name for i in intents],
            [i.notice.kind for i in intents],
            [i.notice.version for i in intents],
            [i.key for i in intents],
            [i.notice.severity for i in intents],
            [i.money_at_stake for i in intents],
            [i.series_key for i in intents],
            [i.incident_start for i in intents],
            [json.dumps(i.notice.to_dict()) for i in intents],
        ]
        with self._connect() as con:
            self.ensure(con)
            inserted = con.execute(
                f"INSERT INTO {self.table} (incident_id, brand, date, destination_kind, "
                "destination_name, message_kind, version, attempt, status, idempotency_key, "
                "severity, money_at_stake, series_key, incident_start, recorded_at, notice) "
                "SELECT UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), UNNEST(?::DATE[]), "
                "UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), "
                "UNNEST(?::INTEGER[]), 0, ?, UNNEST(?::VARCHAR[]), UNNEST(?::VARCHAR[]), "
                "UNNEST(?::DOUBLE[]), UNNEST(?::VARCHAR[]), UNNEST(?::TIMESTAMPTZ[]), ?, "
                "UNNEST(?::VARCHAR[]) ON CONFLICT DO NOTHING RETURNING idempotency_key",
                [*columns[:7], PENDING, *columns[7:12], now, columns[12]],
            ).fetchall()
        return len(inserted)

    def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        keys: Sequence[str] | None = None,
        skip: Sequence[str] = (),
    ) -> list[Claimed]:
        """Lease up to `limit` due rows (pending or failed, back-off elapsed) to this caller.

        The lease is the row's next_attempt_at: a concurrent caller does not see it as due, and
        if this process dies mid-send the row becomes due again when the lease ends.
        """
        with self._connect() as con:
            self.ensure(con)
            only = "" if keys is None else "AND idempotency_key IN (SELECT UNNEST(?::VARCHAR[]))"
            params: list[object] = [now + lease, now, list(skip)]
            if keys is not None:
                params.append(list(keys))
            params.append(limit)
            try:
                rows = con.execute(
                    f"UPDATE {self.table} SET next_attempt_at = ? WHERE idempotency_key IN ("
                    f"SELECT idempotency_key FROM {self.table} "
                    "WHERE status IN ('pending', 'failed') "
                    "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
                    f"AND idempotency_key NOT IN (SELECT UNNEST(?::VARCHAR[])) {only} "
                    "ORDER BY recorded_at, idempotency_key LIMIT ?) "
                    "RETURNING idempotency_key, brand, destination_name, attempt, notice",
                    params,
                ).fetchall()
            except duckdb.TransactionException:
                return []  # another caller claimed these rows at the same moment
        return [
            Claimed(key, brand, name, int(attempt), notice_from_dict(json.loads(notice)))
            for key, brand, name, attempt, notice in sorted(rows)
        ]

    def settle(self, outcomes: Sequence[Outcome], now: datetime, unsent: Sequence[str]) -> None:
        """Write a batch's outcomes and give back the leases it had no time to use."""
        with self._connect() as con:
            if outcomes:
                # Numbered parameters: DuckDB 1.5 numbers `?` in the order it binds (FROM first).
                con.execute(
                    f"UPDATE {self.table} AS d SET status = r.status, attempt = d.attempt + 1, "
                    "response_code = r.response_code, error = r.error, "
                    "first_attempt_at = coalesce(d.first_attempt_at, $1), last_attempt_at = $2, "
                    "next_attempt_at = r.next_attempt_at FROM (SELECT UNNEST($3::VARCHAR[]) AS "
                    "key, UNNEST($4::VARCHAR[]) AS status, UNNEST($5::INTEGER[]) AS response_code, "
                    "UNNEST($6::VARCHAR[]) AS error, UNNEST($7::TIMESTAMPTZ[]) AS next_attempt_at"
                    ") AS r WHERE d.idempotency_key = r.key",
                    [
                        now,
                        now,
                        [o.key for o in outcomes],
                        [o.status for o in outcomes],
                        [o.response_code for o in outcomes],
                        [o.error for o in outcomes],
                        [o.next_attempt_at for o in outcomes],
                    ],
                )
            if unsent:
                con.execute(
                    f"UPDATE {self.table} SET next_attempt_at = NULL "
                    "WHERE idempotency_key IN (SELECT UNNEST(?::VARCHAR[]))",
                    [list(unsent)],
                )

    def requeue_dead_letters(self, brand: str | None = None) -> list[str]:
        """Dead letters become pending again with a fresh set of attempts."""
        with self._connect() as con:
            self.ensure(con)
            rows = con.execute(
                f"UPDATE {self.table} SET status = 'pending', attempt = 0, next_attempt_at = NULL "
                "WHERE status = 'dead_letter' AND (? IS NULL OR brand = ?) "
                "RETURNING idempotency_key",
                [brand, brand],
            ).fetchall()
        return sorted(row[0] for row in rows)

    def dead_letters_by_brand(self) -> dict[str, int]:
        with self._connect() as con:
            self.ensure(con)
            rows = con.execute(
                f"SELECT brand, count(*) FROM {self.table} WHERE status = 'dead_letter' "
                "GROUP BY brand ORDER BY brand"
            ).fetchall()
        return {brand: int(n) for brand, n in rows}

    def rows(self, brand: str | None = None) -> pd.DataFrame:
        """The log as analysts see it (the stored notice JSON left out)."""
        with self._connect() as con:
            self.ensure(con)
            return con.execute(
                "SELECT incident_id, brand, date, destination_kind, destination_name, "
                "message_kind, version, attempt, status, response_code, first_attempt_at, "
                f"last_attempt_at, error FROM {self.table} WHERE (? IS NULL OR brand = ?) "
                "ORDER BY recorded_at, idempotency_key",
                [brand, brand],
            ).df()


@dataclass(frozen=True)
class AlertSettings:
    """Links, retry bounds and the version policy of the alerts."""

    dagster_url: str = "http://127.0.0.1:3000"
    dashboard_url: str = ""
    max_attempts: int = 5
    retry_base: timedelta = timedelta(seconds=30)
    retry_max: timedelta = timedelta(minutes=30)
    claim_lease: timedelta = timedelta(minutes=2)
    batch: int = 10  # sends per claim; outcomes are written after each batch
    policy: VersionPolicy = field(default_factory=VersionPolicy)

    def run_url(self, run_id: str) -> str:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}" if run_id else ""

    def dashboard_link(self, brand: str, incident_id: str) -> str:
        if not self.dashboard_url:
            return ""
        return f"{self.dashboard_url.rstrip('/')}/brands/{brand}.html#incident-{incident_id}"

    def backoff(self, attempts: int) -> timedelta:
        """Wait before the next attempt after `attempts` failed ones: base x 2^(n-1), capped."""
        return min(self.retry_base * (2 ** max(attempts - 1, 0)), self.retry_max)


@dataclass(frozen=True)
class UnreadableDestinations:
    """Stands in for a brand's destinations that would not decrypt or validate; never sends."""

    reason: str
    name: str = UNREADABLE
    min_severity: str = "info"
    kind: str = "unreadable"

    def secrets(self) -> list[str]:
        return []

    def send(self, notice: Notice, key: str, first_key: str) -> int | None:
        raise DeliveryError(self.reason)


def unreadable_reason(brand: str, exc: Exception) -> str:
    """Why a brand's alerts are held; only the type: the text may hold a secret."""
    return f"alert destinations of brand {brand!r} cannot be read: {type(exc).__name__}"


@dataclass
class DeliveryReport:
    recorded: int = 0
    delivered: Counter[str] = field(default_factory=Counter)  # per brand
    failed: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)  # scrubbed

    @property
    def attempted(self) -> int:
        return sum(self.delivered.values()) + self.failed + self.dead_lettered


def _retryable(code: int | None) -> bool:
    """Connection errors and 5xx/408/429 may pass later; other 4xx will not."""
    return code is None or code >= 500 or code in (408, 429) or code < 400


class Dispatcher:
    """Turns incidents into logged intents, and due intents into sends."""

    def __init__(
        self,
        log: DeliveryStore,
        provider: DestinationProvider,
        settings: AlertSettings,
        platform: Destination | None = None,
        clock: Callable[[], datetime] = clock.now,
    ) -> None:
        self.log = log
        self.provider = provider
        self.settings = settings
        self.platform = platform
        self.clock = clock
        self._by_brand: dict[str, list[Destination]] = {}
        self.held: list[str] = []  # why brands' alerts were dead-lettered while planning
        self.dead_at_planning = 0

    def destinations(self, brand: str) -> list[Destination]:
        """A brand's destinations, read once per dispatcher (the vault decrypts on each read)."""
        if brand not in self._by_brand:
            self._by_brand[brand] = self.provider.destinations(brand)
        return self._by_brand[brand]

    def plan_brand_days(self, brand_days: Sequence[tuple[str, date, str]]) -> int:
        """Record what each brand must hear about these brand-days (brand, day, the run that
        materialized it: a page of materializations); returns new intents. The page's
        incidents and what the log knows of them are read once.

        A brand whose destinations cannot be read has its alerts logged as dead letters, with
        the reason, and the platform told: the fault stays within the brand."""
        with self.log.session():
            found = self.log.incidents([(brand, day) for brand, day, _ in brand_days])
            planned: dict[str, tuple[Incident, str]] = {}  # the run of its first brand-day
            held: dict[str, UnreadableDestinations] = {}
            for brand, day, run_id in brand_days:
                try:
                    self.destinations(brand)
                except Exception as exc:
                    held[brand] = self._hold(brand, day, run_id, exc)
                for incident in found.get((brand, day), []):
                    planned.setdefault(incident.incident_id, (incident, run_id))
            return self.plan(list(planned.values()), held)

    def _hold(self, brand: str, day: date, run_id: str, exc: Exception) -> UnreadableDestinations:
        """The stand-in for a brand's unreadable destinations, and the platform's notice."""
        reason = unreadable_reason(brand, exc)
        self.held.append(reason)
        self.record_failure(
            run_id=run_id,
            job="alert_dispatch",
            brand=brand,
            day=day.isoformat(),
            error=f"{reason}; its alerts are dead letters until the destinations "
            f"are fixed and re-sent (`warroom alerts retry --brand {brand}`)",
            scope=f"alerts-{brand}-{day.isoformat()}",
        )
        return UnreadableDestinations(reason)

    def plan(
        self,
        incidents: Sequence[tuple[Incident, str]],
        held: Mapping[str, UnreadableDestinations] | None = None,
    ) -> int:
        """Record intents for what changed in these incidents (each with the run that found
        it); a brand in `held` gets one dead letter per alert, to its stand-in."""
        held = held or {}
        notified, reached = self.log.notified([i.incident_id for i, _ in incidents])
        memory = self.log.series_memory(sorted({i.series_key for i, _ in incidents}))
        intents: list[Intent] = []
        # Oldest first, so that within one batch a flapping series meets its own cooldown.
        for incident, run_id in sorted(
            incidents, key=lambda item: (item[0].incident_start, item[0].incident_id)
        ):
            decision = decide(
                incident,
                notified.get(incident.incident_id),
                memory.get(incident.series_key),
                self.settings.policy,
            )
            if decision is None:
                continue
            notice = IncidentNotice(
                incident=incident,
                kind=decision.kind,
                version=decision.version,
                run_url=self.settings.run_url(run_id),
                dashboard_url=self.settings.dashboard_link(incident.brand, incident.incident_id),
            )
            told = reached.get(incident.incident_id)
            planned = len(intents)
            unreadable = held.get(incident.brand)
            targets = [unreadable] if unreadable else self._audience(incident)
            for destination in targets:
                if unreadable is not None:
                    wanted = True  # the stand-in for all of them
                elif decision.kind == "resolved" and told is not None:
                    wanted = destination.name in told  # only those who heard of it hear the end
                else:
                    wanted = accepts(destination, incident.severity)
                if wanted:
                    intents.append(Intent.of_incident(notice, destination))
            if decision.version == 1 and len(intents) > planned:
                memory[incident.series_key] = SeriesMemory(
                    incident.incident_id, incident.incident_start, incident.severity
                )
        recorded = self.log.record(intents, self.clock())
        dead = [
            Outcome(i.key, DEAD_LETTER, None, i.destination.reason, None)
            for i in intents
            if isinstance(i.destination, UnreadableDestinations)
        ]
        if dead:
            self.log.settle(dead, self.clock(), unsent=())
            self.dead_at_planning += len(dead)
        return recorded

    def _hand_on(self, claimed: Claimed) -> list[str]:
        """A re-sent alert of unreadable destinations becomes intents for the brand's
        destinations as they read now; returns their keys (raises if they still do not read)."""
        notice = claimed.notice
        assert isinstance(notice, IncidentNotice)
        intents = [
            Intent.of_incident(notice, destination)
            for destination in self.destinations(claimed.brand)
            if accepts(destination, notice.severity)
        ]
        self.log.record(intents, self.clock())
        return [i.key for i in intents]

    def record_failure(
        self, *, run_id: str, job: str, brand: str, day: str, error: str, scope: str = ""
    ) -> str | None:
        """Log a pipeline-failure notice for the platform destination; returns its key.
        `brand` may list several brands ("acme, globex") and `day` be a range
        ("2026-11-01..2026-11-02"): every listed brand's secrets are scrubbed."""
        if self.platform is None:
            return None
        secrets = self.platform.secrets()
        for name in filter(None, brand.split(", ")):
            try:
                for destination in self.destinations(name):
                    secrets += destination.secrets()
            except Exception:  # the notice must go out even if the brand's settings are broken
                pass
        notice = FailureNotice(
            run_id=run_id,
            job=job,
            brand=brand,
            date=day,
            error=scrub(error, secrets),
            run_url=self.settings.run_url(run_id),
            scope=scope,
        )
        intent = Intent(notice, self.platform, date.fromisoformat(day[:10]) if day else None)
        self.log.record([intent], self.clock())
        return intent.key

    def _audience(self, incident: Incident) -> list[Destination]:
        """Who hears of an incident: the brand's destinations, or for a data problem (rows
        missing from a connector) the platform team, who can fix it."""
        if incident.anomaly_type in DATA_PROBLEMS:
            return [self.platform] if self.platform is not None else []
        return self.destinations(incident.brand)

    def _destination(self, claimed: Claimed) -> Destination | None:
        if isinstance(claimed.notice, FailureNotice):
            return self.platform
        if isinstance(claimed.notice, IncidentNotice) and (
            claimed.notice.incident.anomaly_type in DATA_PROBLEMS
        ):
            return self.platform
        for destination in self.destinations(claimed.brand):
            if destination.name == claimed.destination_name:
                return destination
        return None

    def deliver_due(self, deadline: float, keys: Sequence[str] | None = None) -> DeliveryReport:
        """Send due intents until the monotonic `deadline`, each at most once per call;
        leases this call has no time left for are given back."""
        report = DeliveryReport()
        tried: list[str] = []
        keys = None if keys is None else list(keys)
        while time.monotonic() < deadline:
            batch = self.log.claim_due(
                self.clock(), self.settings.claim_lease, self.settings.batch, keys, tried
            )
            if not batch:
                break
            outcomes: list[Outcome] = []
            try:
                for claimed in batch:
                    if time.monotonic() >= deadline:
                        break
                    outcomes.append(self._attempt(claimed, report, keys))
                    tried.append(claimed.key)
            finally:
                unsent = [c.key for c in batch[len(outcomes) :]]
                self.log.settle(outcomes, self.clock(), unsent)
        return report

    def _attempt(self, claimed: Claimed, report: DeliveryReport, keys: list[str] | None) -> Outcome:
        destination: Destination | None = None
        if claimed.destination_name == UNREADABLE:
            try:
                handed = self._hand_on(claimed)
            except Exception as exc:
                error = DeliveryError(unreadable_reason(claimed.brand, exc))
                return self._failed(claimed, error, report, configured=True)
            if keys is not None:
                keys.extend(handed)  # a re-send sends them in the same call
            return Outcome(claimed.key, HANDED_ON, None, None, None)
        try:
            destination = self._destination(claimed)
            if destination is None:
                raise DeliveryError(
                    f"destination {claimed.destination_name!r} of brand {claimed.brand!r} "
                    "is no longer configured"
                )
            first = idempotency_key(claimed.notice.notice_id, destination.name, 1)
            code = destination.send(claimed.notice, claimed.key, first)
        except DeliveryError as exc:
            return self._failed(claimed, exc, report, destination is not None)
        except Exception as exc:
            # A broken setting or a bug must not stop the other alerts, and may pass (a vault
            # that was unreachable): retry. Its text may hold data, so only the type is kept.
            error = DeliveryError(f"{claimed.destination_name!r}: {type(exc).__name__}")
            return self._failed(claimed, error, report, configured=True)
        report.delivered[claimed.brand] += 1
        return Outcome(claimed.key, DELIVERED, code, None, None)

    def _failed(
        self, claimed: Claimed, exc: DeliveryError, report: DeliveryReport, configured: bool
    ) -> Outcome:
        attempts = claimed.attempt + 1
        dead = (
            not configured
            or attempts >= self.settings.max_attempts
            or not _retryable(exc.response_code)
            or (exc.unsafe_to_repeat and attempts >= 2)
        )
        error = str(exc)
        report.errors.append(error)
        if dead:
            report.dead_lettered += 1
            return Outcome(claimed.key, DEAD_LETTER, exc.response_code, error, None)
        report.failed += 1
        retry_at = self.clock() + self.settings.backoff(attempts)
        return Outcome(claimed.key, FAILED, exc.response_code, error, retry_at)
