"""The delivery log's SQL, written once and run on BigQuery in production and on DuckDB locally.

BigQuery has no unique keys, no ON CONFLICT and no RETURNING, so the log is kept with
statements both warehouses run the same way:

- an intent is recorded by a MERGE that inserts only keys the table does not hold yet;
- rows are leased by a MERGE that stamps the due rows with a fresh `claim_id` and a lease end,
  then read back by that claim id; a concurrent claimer no longer sees them as due;
- a batch's outcomes, and the leases it gives back, are one MERGE.

Each statement is atomic on its own; one that loses a race with another writer of the table is
retried by the runner, and a claim that keeps losing claims nothing (`LostRace`). Only how a
parameter is written differs between the two (`@name` and `UNNEST(@list)` on BigQuery, typed
`$name` on DuckDB): that is the `Dialect`. Values travel as query parameters, never in the SQL
text; the log holds no destination address or secret (only its name and kind), and errors
were scrubbed by the destinations before they got here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

import pandas as pd

from warroom_pipelines.alerts.incidents import (
    Incident,
    Notified,
    SeriesMemory,
    incidents_by_brand_day,
)
from warroom_pipelines.alerts.log.store import PENDING, Claimed, Intent, Outcome
from warroom_pipelines.alerts.messages import notice_from_dict
from warroom_pipelines.warehouse.base import TableRef
from warroom_pipelines.warehouse.tables import ANOMALIES

Kind = Literal["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP", "DATE"]
Value = str | int | float | bool | datetime | date | None


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("incident_id", "STRING", True),
    Column("brand", "STRING", True),
    Column("date", "DATE"),
    Column("destination_kind", "STRING", True),
    Column("destination_name", "STRING", True),
    Column("message_kind", "STRING", True),
    Column("version", "INT64", True),
    Column("attempt", "INT64", True),
    Column("status", "STRING", True),
    Column("response_code", "INT64"),
    Column("first_attempt_at", "TIMESTAMP"),
    Column("last_attempt_at", "TIMESTAMP"),
    Column("error", "STRING"),
    Column("idempotency_key", "STRING", True),  # the key: unique by how rows are written
    Column("severity", "STRING", True),
    Column("money_at_stake", "FLOAT64"),
    Column("series_key", "STRING"),
    Column("incident_start", "TIMESTAMP"),
    Column("recorded_at", "TIMESTAMP", True),
    Column("next_attempt_at", "TIMESTAMP"),
    Column("notice", "STRING", True),
    Column("claim_id", "STRING"),  # the lease that last claimed the row
)
_KINDS = {column.name: column.kind for column in COLUMNS}
_INTENT_COLUMNS = (
    "incident_id",
    "brand",
    "date",
    "destination_kind",
    "destination_name",
    "message_kind",
    "version",
    "idempotency_key",
    "severity",
    "money_at_stake",
    "series_key",
    "incident_start",
    "notice",
)
_OUTCOME_FIELDS: tuple[tuple[str, Kind], ...] = (
    ("idempotency_key", "STRING"),
    ("sent", "BOOL"),
    ("status", "STRING"),
    ("response_code", "INT64"),
    ("error", "STRING"),
    ("next_attempt_at", "TIMESTAMP"),
)
_LOG_COLUMNS = (
    "incident_id, brand, date, destination_kind, destination_name, message_kind, version, "
    "attempt, status, response_code, first_attempt_at, last_attempt_at, error"
)


@dataclass(frozen=True)
class Param:
    """A query parameter: a scalar, a list of `kind` (`many`), or a list of rows (`fields`)."""

    name: str
    kind: Kind
    value: Any
    many: bool = False
    fields: tuple[tuple[str, Kind], ...] = ()


class Dialect(Protocol):
    """How one warehouse's SQL spells a parameter."""

    def scalar(self, param: Param) -> str:
        """The parameter as a value."""
        ...

    def listed(self, param: Param) -> str:
        """The list parameter as the right-hand side of IN."""
        ...

    def rows(self, param: Param) -> str:
        """The list-of-rows parameter as a table (a FROM source with the fields as columns)."""
        ...


class LostRace(RuntimeError):
    """A statement kept losing to another writer of the same table."""


class Runner(Protocol):
    """What the log needs of a warehouse: its dialect, names, and statements run."""

    dialect: Dialect

    def session(self) -> AbstractContextManager[object]: ...

    def create_log(self, table: TableRef, columns: Sequence[Column]) -> None:
        """Create the log's table if it is absent, and add columns it lacks."""
        ...

    def has_table(self, table: TableRef) -> bool: ...

    def sql_table(self, table: TableRef) -> str: ...

    def select(self, sql: str, params: Sequence[Param]) -> pd.DataFrame: ...

    def mutate(self, sql: str, params: Sequence[Param]) -> int:
        """Run one DML statement; returns the rows it changed (LostRace when it kept losing)."""
        ...


@dataclass
class Statement:
    """The parameters of one statement, named as the SQL text is written."""

    dialect: Dialect
    named: dict[str, Param] = field(default_factory=dict)

    @property
    def params(self) -> list[Param]:
        return list(self.named.values())

    def _add(self, param: Param) -> Param:
        """A name used twice is one parameter (BigQuery refuses a name given twice)."""
        return self.named.setdefault(param.name, param)

    def value(self, name: str, kind: Kind, value: Value) -> str:
        return self.dialect.scalar(self._add(Param(name, kind, value)))

    def listed(self, name: str, kind: Kind, values: Iterable[Value]) -> str:
        return self.dialect.listed(self._add(Param(name, kind, list(values), many=True)))

    def rows(
        self, name: str, fields: Sequence[tuple[str, Kind]], rows: list[dict[str, Any]]
    ) -> str:
        return self.dialect.rows(self._add(Param(name, "STRING", rows, True, tuple(fields))))


def _records(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as Python values, nulls as None (pandas reads them as NaN / NaT / <NA>)."""
    return list(frame.astype(object).where(frame.notna(), None).itertuples(index=False))


def _utc(value: Any) -> datetime:
    return pd.Timestamp(value).tz_convert(UTC).to_pydatetime()


def _intent_row(intent: Intent) -> dict[str, Value]:
    n = intent.notice
    return {
        "incident_id": n.notice_id,
        "brand": n.brand,
        "date": intent.day,
        "destination_kind": intent.destination.kind,
        "destination_name": intent.destination.name,
        "message_kind": n.kind,
        "version": n.version,
        "idempotency_key": intent.key,
        "severity": n.severity,
        "money_at_stake": intent.money_at_stake,
        "series_key": intent.series_key,
        "incident_start": intent.incident_start,
        "notice": json.dumps(n.to_dict()),
    }


def _outcome_row(key: str, outcome: Outcome | None) -> dict[str, Value]:
    """A batch row: an attempt's outcome, or (None) a lease given back unused."""
    return {
        "idempotency_key": key,
        "sent": outcome is not None,
        "status": outcome.status if outcome else None,
        "response_code": outcome.response_code if outcome else None,
        "error": outcome.error if outcome else None,
        "next_attempt_at": outcome.next_attempt_at if outcome else None,
    }


class SqlDeliveryLog:
    """The `alert_deliveries` table kept by the statements above, on the runner's warehouse."""

    def __init__(self, runner: Runner, table: TableRef) -> None:
        self.runner = runner
        self.table_ref = table
        self.table = runner.sql_table(table)
        self._ready = False

    def session(self) -> AbstractContextManager[object]:
        return self.runner.session()

    def _statement(self) -> Statement:
        return Statement(self.runner.dialect)

    def ensure(self) -> None:
        if not self._ready:
            self.runner.create_log(self.table_ref, COLUMNS)
            self._ready = True

    def _select(self, sql: str, statement: Statement) -> list[tuple[Any, ...]]:
        self.ensure()
        return _records(self.runner.select(sql, statement.params))

    def incidents(
        self, brand_days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], list[Incident]]:
        if not brand_days or not self.runner.has_table(ANOMALIES):
            return {}
        anomalies = self.runner.sql_table(ANOMALIES)
        s = self._statement()
        brands = s.listed("brands", "STRING", sorted({brand for brand, _ in brand_days}))
        dates = s.listed("dates", "DATE", sorted({day for _, day in brand_days}))
        pairs = s.listed("slices", "STRING", [f"{b}/{d.isoformat()}" for b, d in brand_days])
        frame = self.runner.select(
            f"SELECT * FROM {anomalies} WHERE brand IN {brands} AND incident_id IN "
            f"(SELECT incident_id FROM {anomalies} WHERE date IN {dates} AND brand IN {brands} "
            f"AND CONCAT(brand, '/', CAST(date AS STRING)) IN {pairs})",
            s.params,
        )
        return incidents_by_brand_day(frame, brand_days)

    def notified(
        self, incident_ids: Sequence[str]
    ) -> tuple[dict[str, Notified], dict[str, set[str]]]:
        if not incident_ids:
            return {}, {}
        s = self._statement()
        rows = self._select(
            "SELECT incident_id, destination_name, version, message_kind, severity, "
            f"money_at_stake FROM {self.table} "
            f"WHERE incident_id IN {s.listed('incident_ids', 'STRING', incident_ids)} "
            "ORDER BY incident_id, version",
            s,
        )
        last: dict[str, Notified] = {}
        reached: dict[str, set[str]] = {}
        for incident_id, destination, version, kind, severity, money in rows:
            last[incident_id] = Notified(int(version), kind, severity, float(money or 0.0))
            reached.setdefault(incident_id, set()).add(destination)
        return last, reached

    def series_memory(self, series_keys: Sequence[str]) -> dict[str, SeriesMemory]:
        if not series_keys:
            return {}
        s = self._statement()
        rows = self._select(
            f"SELECT series_key, incident_id, incident_start, severity FROM {self.table} "
            f"WHERE series_key IN {s.listed('series_keys', 'STRING', series_keys)} "
            "QUALIFY row_number() OVER (PARTITION BY series_key "
            "ORDER BY incident_start DESC, version DESC) = 1",
            s,
        )
        return {
            key: SeriesMemory(incident_id, _utc(start), severity)
            for key, incident_id, start, severity in rows
        }

    def record(self, intents: Sequence[Intent], now: datetime) -> int:
        unique = list({intent.key: intent for intent in intents}.values())
        if not unique:
            return 0
        self.ensure()
        s = self._statement()
        fields = [(column, _KINDS[column]) for column in _INTENT_COLUMNS]
        source = s.rows("intents", fields, [_intent_row(i) for i in unique])
        columns = ", ".join(_INTENT_COLUMNS)
        values = ", ".join(f"i.{c}" for c in _INTENT_COLUMNS)
        return self.runner.mutate(
            f"MERGE INTO {self.table} AS d USING {source} AS i "
            "ON d.idempotency_key = i.idempotency_key "
            f"WHEN NOT MATCHED THEN INSERT ({columns}, attempt, status, recorded_at) "
            f"VALUES ({values}, 0, {s.value('pending', 'STRING', PENDING)}, "
            f"{s.value('now', 'TIMESTAMP', now)})",
            s.params,
        )

    def claim_due(
        self,
        now: datetime,
        lease: timedelta,
        limit: int,
        keys: Sequence[str] | None = None,
        skip: Sequence[str] = (),
    ) -> list[Claimed]:
        """Lease up to `limit` due rows: stamp them with a new claim id, then read them back."""
        self.ensure()
        claim = uuid.uuid4().hex
        s = self._statement()
        only = "" if keys is None else f"AND idempotency_key IN {s.listed('keys', 'STRING', keys)} "
        at = s.value("now", "TIMESTAMP", now)
        due = (
            f"SELECT idempotency_key FROM {self.table} WHERE status IN ('pending', 'failed') "
            f"AND (next_attempt_at IS NULL OR next_attempt_at <= {at}) "
            f"AND idempotency_key NOT IN {s.listed('skip', 'STRING', skip)} {only}"
            f"ORDER BY recorded_at, idempotency_key LIMIT {s.value('limit', 'INT64', limit)}"
        )
        try:
            self.runner.mutate(
                f"MERGE INTO {self.table} AS d USING ({due}) AS due "
                "ON d.idempotency_key = due.idempotency_key WHEN MATCHED THEN UPDATE SET "
                f"next_attempt_at = {s.value('lease_until', 'TIMESTAMP', now + lease)}, "
                f"claim_id = {s.value('claim', 'STRING', claim)}",
                s.params,
            )
        except LostRace:
            return []  # other callers kept winning the race for these rows
        read = self._statement()
        rows = self._select(
            "SELECT idempotency_key, brand, destination_name, attempt, notice "
            f"FROM {self.table} WHERE claim_id = {read.value('claim', 'STRING', claim)} "
            "ORDER BY idempotency_key",
            read,
        )
        return [
            Claimed(key, brand, name, int(attempt), notice_from_dict(json.loads(notice)))
            for key, brand, name, attempt, notice in rows
        ]

    def settle(self, outcomes: Sequence[Outcome], now: datetime, unsent: Sequence[str]) -> None:
        """One MERGE: the batch's outcomes, and its unused leases given back."""
        batch = [_outcome_row(o.key, o) for o in outcomes]
        batch += [_outcome_row(key, None) for key in unsent]
        if not batch:
            return
        self.ensure()
        s = self._statement()
        source = s.rows("batch", _OUTCOME_FIELDS, batch)
        at = s.value("now", "TIMESTAMP", now)
        self.runner.mutate(
            f"MERGE INTO {self.table} AS d USING {source} AS r "
            "ON d.idempotency_key = r.idempotency_key "
            "WHEN MATCHED AND r.sent THEN UPDATE SET status = r.status, "
            "attempt = d.attempt + 1, response_code = r.response_code, error = r.error, "
            f"first_attempt_at = coalesce(d.first_attempt_at, {at}), last_attempt_at = {at}, "
            "next_attempt_at = r.next_attempt_at "
            "WHEN MATCHED THEN UPDATE SET next_attempt_at = NULL",
            s.params,
        )

    def requeue_dead_letters(self, brand: str | None = None) -> list[str]:
        s = self._statement()
        only = s.value("brand", "STRING", brand)
        keys = sorted(
            row[0]
            for row in self._select(
                f"SELECT idempotency_key FROM {self.table} WHERE status = 'dead_letter' "
                f"AND ({only} IS NULL OR brand = {only})",
                s,
            )
        )
        if keys:
            update = self._statement()
            self.runner.mutate(
                f"UPDATE {self.table} SET status = 'pending', attempt = 0, "
                "next_attempt_at = NULL "
                f"WHERE idempotency_key IN {update.listed('keys', 'STRING', keys)} "
                "AND status = 'dead_letter'",
                update.params,
            )
        return keys

    def dead_letters_by_brand(self) -> dict[str, int]:
        rows = self._select(
            f"SELECT brand, count(*) AS n FROM {self.table} WHERE status = 'dead_letter' "
            "GROUP BY brand ORDER BY brand",
            self._statement(),
        )
        return {brand: int(n) for brand, n in rows}

    def rows(self, brand: str | None = None) -> pd.DataFrame:
        self.ensure()
        s = self._statement()
        only = s.value("brand", "STRING", brand)
        return self.runner.select(
            f"SELECT {_LOG_COLUMNS} FROM {self.table} WHERE ({only} IS NULL OR brand = {only}) "
            "ORDER BY recorded_at, idempotency_key",
            s.params,
        )
