"""The alert delivery log (`alert_deliveries`) in BigQuery, with MERGE instead of upserts.

The same contract as the DuckDB log (`alerts.delivery.DeliveryStore`), keyed the same way: the
idempotency key `<incident>:<destination>:v<version>`. BigQuery has no unique keys, no
ON CONFLICT and no RETURNING, so:

- an intent is recorded by a MERGE that inserts only keys the table does not hold yet; a
  re-evaluated tick, a restarted sensor or two racing sensors land on the same row;
- rows are leased by a MERGE that stamps the due rows with a fresh `claim_id` and a lease end,
  then read back by that claim id; a concurrent claimer no longer sees them as due;
- a batch's outcomes, and the leases it gives back, are one MERGE.

Every statement is one BigQuery job, atomic on its own; a statement that loses a race with
another writer of the table is retried (`BigQueryWarehouse.mutate`). The table is partitioned
by day on `date` and clustered by `brand`, like War Room's other tables. Values travel as
query parameters, never in the SQL text; the log holds no destination address or secret
(only its name and kind), and errors were scrubbed by the destinations before they got here.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from warroom_pipelines.alerts.delivery import (
    ANOMALIES,
    DELIVERIES,
    PENDING,
    Claimed,
    Intent,
    Outcome,
    notified_from_rows,
)
from warroom_pipelines.alerts.incidents import (
    Incident,
    Notified,
    SeriesMemory,
    incidents_by_brand_day,
)
from warroom_pipelines.alerts.messages import notice_from_dict
from warroom_pipelines.warehouse.base import slices_of
from warroom_pipelines.warehouse.bigquery import (
    SLICE_FILTER,
    BigQueryWarehouse,
    is_conflict,
    slice_parameters,
)

F = bigquery.SchemaField
SCHEMA = [
    F("incident_id", "STRING", mode="REQUIRED"),
    F("brand", "STRING", mode="REQUIRED"),
    F("date", "DATE"),
    F("destination_kind", "STRING", mode="REQUIRED"),
    F("destination_name", "STRING", mode="REQUIRED"),
    F("message_kind", "STRING", mode="REQUIRED"),
    F("version", "INT64", mode="REQUIRED"),
    F("attempt", "INT64", mode="REQUIRED"),
    F("status", "STRING", mode="REQUIRED"),
    F("response_code", "INT64"),
    F("first_attempt_at", "TIMESTAMP"),
    F("last_attempt_at", "TIMESTAMP"),
    F("error", "STRING"),
    F("idempotency_key", "STRING", mode="REQUIRED"),
    F("severity", "STRING", mode="REQUIRED"),
    F("money_at_stake", "FLOAT64"),
    F("series_key", "STRING"),
    F("incident_start", "TIMESTAMP"),
    F("recorded_at", "TIMESTAMP", mode="REQUIRED"),
    F("next_attempt_at", "TIMESTAMP"),
    F("notice", "STRING", mode="REQUIRED"),
    F("claim_id", "STRING"),  # the lease that last claimed the row (BigQuery has no RETURNING)
]
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
_LOG_COLUMNS = (
    "incident_id, brand, date, destination_kind, destination_name, message_kind, version, "
    "attempt, status, response_code, first_attempt_at, last_attempt_at, error"
)


Value = str | int | float | bool | datetime | date | None


def _scalar(name: str, kind: str, value: Value) -> bigquery.ScalarQueryParameter:
    return bigquery.ScalarQueryParameter(name, kind, value)


def _strings(name: str, values: Sequence[str]) -> bigquery.ArrayQueryParameter:
    return bigquery.ArrayQueryParameter(name, "STRING", list(values))


def _structs(name: str, rows: list[list[bigquery.ScalarQueryParameter]]) -> Any:
    return bigquery.ArrayQueryParameter(
        name, "STRUCT", [bigquery.StructQueryParameter(None, *fields) for fields in rows]
    )


def _intent_fields(intent: Intent) -> list[bigquery.ScalarQueryParameter]:
    n = intent.notice
    values: dict[str, tuple[str, Value]] = {
        "incident_id": ("STRING", n.notice_id),
        "brand": ("STRING", n.brand),
        "date": ("DATE", intent.day),
        "destination_kind": ("STRING", intent.destination.kind),
        "destination_name": ("STRING", intent.destination.name),
        "message_kind": ("STRING", n.kind),
        "version": ("INT64", n.version),
        "idempotency_key": ("STRING", intent.key),
        "severity": ("STRING", n.severity),
        "money_at_stake": ("FLOAT64", intent.money_at_stake),
        "series_key": ("STRING", intent.series_key),
        "incident_start": ("TIMESTAMP", intent.incident_start),
        "notice": ("STRING", json.dumps(n.to_dict())),
    }
    return [_scalar(column, *values[column]) for column in _INTENT_COLUMNS]


def _outcome_fields(key: str, outcome: Outcome | None) -> list[bigquery.ScalarQueryParameter]:
    """A batch row: an attempt's outcome, or (None) a lease given back unused."""
    return [
        _scalar("idempotency_key", "STRING", key),
        _scalar("sent", "BOOL", outcome is not None),
        _scalar("status", "STRING", outcome.status if outcome else None),
        _scalar("response_code", "INT64", outcome.response_code if outcome else None),
        _scalar("error", "STRING", outcome.error if outcome else None),
        _scalar("next_attempt_at", "TIMESTAMP", outcome.next_attempt_at if outcome else None),
    ]


def _records(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as Python values, nulls as None (pandas reads them as NaN / NaT / <NA>)."""
    return list(frame.astype(object).where(frame.notna(), None).itertuples(index=False))


def _utc(value: Any) -> datetime:
    return pd.Timestamp(value).tz_convert(UTC).to_pydatetime()


class BigQueryDeliveryLog:
    """The `alert_deliveries` table in the BigQuery dataset (see the module docstring)."""

    def __init__(self, warehouse: BigQueryWarehouse) -> None:
        self.warehouse = warehouse
        self.table = warehouse.sql_table(DELIVERIES)
        self._ready = False

    @contextmanager
    def session(self) -> Iterator[None]:
        """Nothing to hold: every call is its own job."""
        yield

    def ensure(self) -> None:
        """Create the table on first use: partitioned by day on `date`, clustered by brand."""
        if not self._ready:
            self.warehouse.ensure_table(DELIVERIES, SCHEMA)
            self._ready = True

    def _select(self, sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
        self.ensure()
        return _records(self.warehouse.select(sql, parameters))

    def incidents(
        self, brand_days: Sequence[tuple[str, date]]
    ) -> dict[tuple[str, date], list[Incident]]:
        if not brand_days or not self.warehouse.has_table(ANOMALIES):
            return {}
        anomalies = self.warehouse.sql_table(ANOMALIES)
        frame = self.warehouse.select(
            f"SELECT * FROM {anomalies} WHERE brand IN UNNEST(@brands) AND incident_id IN "
            f"(SELECT incident_id FROM {anomalies} WHERE {SLICE_FILTER})",
            slice_parameters(slices_of(brand_days)),
        )
        return incidents_by_brand_day(frame, brand_days)

    def notified(
        self, incident_ids: Sequence[str]
    ) -> tuple[dict[str, Notified], dict[str, set[str]]]:
        if not incident_ids:
            return {}, {}
        rows = self._select(
            "SELECT incident_id, destination_name, version, message_kind, severity, "
            f"money_at_stake FROM {self.table} WHERE incident_id IN UNNEST(@incident_ids) "
            "ORDER BY incident_id, version",
            [_strings("incident_ids", incident_ids)],
        )
        return notified_from_rows(rows)

    def series_memory(self, series_keys: Sequence[str]) -> dict[str, SeriesMemory]:
        if not series_keys:
            return {}
        rows = self._select(
            f"SELECT series_key, incident_id, incident_start, severity FROM {self.table} "
            "WHERE series_key IN UNNEST(@series_keys) "
            "QUALIFY row_number() OVER (PARTITION BY series_key "
            "ORDER BY incident_start DESC, version DESC) = 1",
            [_strings("series_keys", series_keys)],
        )
        return {
            key: SeriesMemory(incident_id, _utc(start), severity)
            for key, incident_id, start, severity in rows
        }

    def record(self, intents: Sequence[Intent], now: datetime) -> int:
        """MERGE the intents whose key is not in the log yet; returns how many were new."""
        unique = list({intent.key: intent for intent in intents}.values())
        if not unique:
            return 0
        self.ensure()
        columns = ", ".join(_INTENT_COLUMNS)
        values = ", ".join(f"i.{c}" for c in _INTENT_COLUMNS)
        job = self.warehouse.mutate(
            f"MERGE {self.table} AS d USING (SELECT * FROM UNNEST(@intents)) AS i "
            "ON d.idempotency_key = i.idempotency_key "
            f"WHEN NOT MATCHED THEN INSERT ({columns}, attempt, status, recorded_at) "
            f"VALUES ({values}, 0, @pending, @now)",
            [
                _structs("intents", [_intent_fields(i) for i in unique]),
                _scalar("pending", "STRING", PENDING),
                _scalar("now", "TIMESTAMP", now),
            ],
        )
        return int(job.num_dml_affected_rows or 0)

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
        only = "" if keys is None else "AND idempotency_key IN UNNEST(@keys) "
        parameters = [
            _scalar("now", "TIMESTAMP", now),
            _scalar("lease_until", "TIMESTAMP", now + lease),
            _scalar("claim", "STRING", claim),
            _scalar("limit", "INT64", limit),
            _strings("skip", skip),
        ]
        if keys is not None:
            parameters.append(_strings("keys", keys))
        try:
            self.warehouse.mutate(
                f"MERGE {self.table} AS d USING (SELECT idempotency_key FROM {self.table} "
                "WHERE status IN ('pending', 'failed') "
                "AND (next_attempt_at IS NULL OR next_attempt_at <= @now) "
                f"AND idempotency_key NOT IN UNNEST(@skip) {only}"
                "ORDER BY recorded_at, idempotency_key LIMIT @limit) AS due "
                "ON d.idempotency_key = due.idempotency_key "
                "WHEN MATCHED THEN UPDATE SET next_attempt_at = @lease_until, claim_id = @claim",
                parameters,
            )
        except gexc.GoogleAPIError as exc:
            if is_conflict(exc):
                return []  # other callers kept winning the race for these rows
            raise
        rows = self._select(
            "SELECT idempotency_key, brand, destination_name, attempt, notice "
            f"FROM {self.table} WHERE claim_id = @claim ORDER BY idempotency_key",
            [_scalar("claim", "STRING", claim)],
        )
        return [
            Claimed(key, brand, name, int(attempt), notice_from_dict(json.loads(notice)))
            for key, brand, name, attempt, notice in rows
        ]

    def settle(self, outcomes: Sequence[Outcome], now: datetime, unsent: Sequence[str]) -> None:
        """One MERGE: the batch's outcomes, and its unused leases given back."""
        batch = [_outcome_fields(o.key, o) for o in outcomes]
        batch += [_outcome_fields(key, None) for key in unsent]
        if not batch:
            return
        self.warehouse.mutate(
            f"MERGE {self.table} AS d USING (SELECT * FROM UNNEST(@batch)) AS r "
            "ON d.idempotency_key = r.idempotency_key "
            "WHEN MATCHED AND r.sent THEN UPDATE SET status = r.status, "
            "attempt = d.attempt + 1, response_code = r.response_code, error = r.error, "
            "first_attempt_at = coalesce(d.first_attempt_at, @now), last_attempt_at = @now, "
            "next_attempt_at = r.next_attempt_at "
            "WHEN MATCHED THEN UPDATE SET next_attempt_at = NULL",
            [_structs("batch", batch), _scalar("now", "TIMESTAMP", now)],
        )

    def requeue_dead_letters(self, brand: str | None = None) -> list[str]:
        """Dead letters become pending again with a fresh set of attempts."""
        brand_parameter = _scalar("brand", "STRING", brand)
        keys = sorted(
            row[0]
            for row in self._select(
                f"SELECT idempotency_key FROM {self.table} WHERE status = 'dead_letter' "
                "AND (@brand IS NULL OR brand = @brand)",
                [brand_parameter],
            )
        )
        if keys:
            self.warehouse.mutate(
                f"UPDATE {self.table} SET status = 'pending', attempt = 0, "
                "next_attempt_at = NULL "
                "WHERE idempotency_key IN UNNEST(@keys) AND status = 'dead_letter'",
                [_strings("keys", keys)],
            )
        return keys

    def dead_letters_by_brand(self) -> dict[str, int]:
        rows = self._select(
            f"SELECT brand, count(*) AS n FROM {self.table} WHERE status = 'dead_letter' "
            "GROUP BY brand ORDER BY brand",
            [],
        )
        return {brand: int(n) for brand, n in rows}

    def rows(self, brand: str | None = None) -> pd.DataFrame:
        """The log as analysts see it (the stored notice JSON left out)."""
        self.ensure()
        return self.warehouse.select(
            f"SELECT {_LOG_COLUMNS} FROM {self.table} WHERE (@brand IS NULL OR brand = @brand) "
            "ORDER BY recorded_at, idempotency_key",
            [_scalar("brand", "STRING", brand)],
        )
