"""The delivery log in the DuckDB file beside the local lake (`LakeFiles.state`): a DuckLake
has no primary keys, and only the alert sensors write this file, for a few milliseconds.

Opening the file costs tens of milliseconds, so a tick works in sessions (one connection for a
phase of DB-only work) and never holds the file while it sends.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pandas as pd

from warroom_pipelines.alerts.log.sql import (
    Column,
    Dialect,
    Kind,
    LostRace,
    Param,
    SqlDeliveryLog,
)
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef
from warroom_pipelines.warehouse.local import STATE
from warroom_pipelines.warehouse.tables import DELIVERIES

_TYPES: dict[Kind, str] = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
}
_CONFLICT_RETRIES = 3


class DuckDBDialect:
    """Typed `$name` parameters: DuckDB cannot tell the type of a NULL or an empty list."""

    def scalar(self, param: Param) -> str:
        return f"CAST(${param.name} AS {_TYPES[param.kind]})"

    def listed(self, param: Param) -> str:
        return f"(SELECT UNNEST(CAST(${param.name} AS {_TYPES[param.kind]}[])))"

    def rows(self, param: Param) -> str:
        fields = ", ".join(f"{name} {_TYPES[kind]}" for name, kind in param.fields)
        return f"(SELECT UNNEST(CAST(${param.name} AS STRUCT({fields})[]), recursive := true))"


class DuckDBRunner:
    """The log's statements on the warehouse's state file, attached as `state`."""

    dialect: Dialect = DuckDBDialect()

    def __init__(self, warehouse: DuckDBWarehouse) -> None:
        self.warehouse = warehouse
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

    def create_log(self, table: TableRef, columns: Sequence[Column]) -> None:
        """The table with its key, and (for a log written by an older War Room) the columns it
        lacks; a concurrent creator is no failure."""
        types = ", ".join(
            f"{c.name} {_TYPES[c.kind]}"
            + (" PRIMARY KEY" if c.name == "idempotency_key" else " NOT NULL" if c.required else "")
            for c in columns
        )
        with self.session() as con:
            for attempt in range(_CONFLICT_RETRIES):
                try:
                    con.execute(f"CREATE TABLE IF NOT EXISTS {self.sql_table(table)} ({types})")
                    break
                except duckdb.TransactionException:
                    if attempt == _CONFLICT_RETRIES - 1:
                        raise
            known = {
                row[0]
                for row in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = ? "
                    "AND schema_name = ? AND table_name = ?",
                    [STATE, table.schema, table.table],
                ).fetchall()
            }
            for column in columns:
                if column.name not in known:
                    con.execute(
                        f"ALTER TABLE {self.sql_table(table)} ADD COLUMN IF NOT EXISTS "
                        f"{column.name} {_TYPES[column.kind]}"
                    )

    def has_table(self, table: TableRef) -> bool:
        with self.session() as con:
            return self.warehouse.table_exists(con, table)

    def sql_table(self, table: TableRef) -> str:
        return self.warehouse.sql_table(table)

    def select(self, sql: str, params: Sequence[Param]) -> pd.DataFrame:
        with self.session() as con:
            return con.execute(sql, {p.name: p.value for p in params}).df()

    def mutate(self, sql: str, params: Sequence[Param]) -> int:
        for attempt in range(_CONFLICT_RETRIES):
            try:
                with self.session() as con:
                    ((changed,),) = con.execute(sql, {p.name: p.value for p in params}).fetchall()
                return int(changed)
            except (duckdb.ConstraintException, duckdb.TransactionException) as exc:
                # A concurrent writer changed the same rows first (DuckDB's optimistic
                # concurrency): the statement is run again on what it wrote.
                if attempt == _CONFLICT_RETRIES - 1:
                    raise LostRace(f"another writer kept {DELIVERIES} busy") from exc
        return 0


def local_delivery_log(warehouse: DuckDBWarehouse) -> SqlDeliveryLog:
    return SqlDeliveryLog(DuckDBRunner(warehouse), DELIVERIES)
