"""The local warehouse: one DuckDB file that analysts open with plain `duckdb`.

Dagster's DuckDB I/O manager replaces a partition as a DELETE and an INSERT in separate
statements, so a failure in between loses the partition. Here both run in one transaction,
and inserts match columns by name, not position.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from warroom_pipelines.warehouse.base import (
    Slices,
    SqlTypes,
    TableRef,
    WarehouseError,
    check_slices,
)

_LOCK_WAIT_S = 120.0


def _sql_type(column: str, dtype: object) -> str:
    kind = str(dtype)
    if column == "date":
        return "DATE"
    if kind.startswith("datetime64") and "UTC" in kind:
        return "TIMESTAMPTZ"
    if kind.startswith("datetime64"):
        return "TIMESTAMP"
    if kind in ("int64", "Int64", "int32"):
        return "BIGINT"
    if kind in ("float64", "Float64", "float32"):
        return "DOUBLE"
    if kind in ("bool", "boolean"):
        return "BOOLEAN"
    return "VARCHAR"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DuckDBWarehouse:
    """A DuckDB file. DuckDB allows one writer process, so connections are short-lived and
    opening one waits (with jitter) while another process holds the file."""

    sql_types = SqlTypes(
        double="DOUBLE", timestamp="TIMESTAMPTZ", string="VARCHAR", integer="BIGINT"
    )

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only

    @contextmanager
    def connect(self, *, read_only: bool | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        ro = self.read_only if read_only is None else read_only
        if not ro:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.path.exists():
            # A read on a fresh installation: an empty in-memory database answers it.
            con = duckdb.connect(":memory:")
            try:
                yield con
            finally:
                con.close()
            return
        deadline = time.monotonic() + _LOCK_WAIT_S
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=ro)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise WarehouseError(f"cannot open warehouse {self.path}: {exc}") from exc
                time.sleep(delay * (1 + random.random()))
                delay = min(delay * 2, 2.0)
        try:
            con.execute("SET TimeZone = 'UTC'")
            yield con
        finally:
            con.close()

    def _ensure_table(
        self, con: duckdb.DuckDBPyConnection, table: TableRef, frame: pd.DataFrame
    ) -> None:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(table.schema)}")
        existing = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [table.schema, table.table],
            ).fetchall()
        }
        target = self.sql_table(table)
        if not existing:
            columns = ", ".join(
                f"{_quote(str(c))} {_sql_type(str(c), t)}" for c, t in frame.dtypes.items()
            )
            con.execute(f"CREATE TABLE {target} ({columns})")
            return
        # New columns join at the end so that old readers keep working.
        for column, dtype in frame.dtypes.items():
            if column not in existing:
                con.execute(
                    f"ALTER TABLE {target} ADD COLUMN {_quote(str(column))} "
                    f"{_sql_type(str(column), dtype)}"
                )

    def replace_slices(self, table: TableRef, frame: pd.DataFrame, slices: Slices) -> int:
        check_slices(table, frame, slices)
        target = self.sql_table(table)
        with self.connect(read_only=False) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                self._ensure_table(con, table, frame)
                con.register("replaced_slices", _slice_frame(slices))
                con.execute(
                    f"DELETE FROM {target} AS t USING replaced_slices AS s "
                    "WHERE t.brand = s.brand AND t.date = s.date"
                )
                con.unregister("replaced_slices")
                if len(frame):
                    con.register("incoming_rows", frame)
                    con.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
                    con.unregister("incoming_rows")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return len(frame)

    def replace_slice(
        self, table: TableRef, frame: pd.DataFrame, *, brand: str, dates: Sequence[date]
    ) -> int:
        return self.replace_slices(table, frame, {brand: dates})

    def table_exists(self, con: duckdb.DuckDBPyConnection, table: TableRef) -> bool:
        ((count,),) = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [table.schema, table.table],
        ).fetchall()
        return bool(count)

    def has_table(self, table: TableRef) -> bool:
        with self.connect(read_only=True) as con:
            return self.table_exists(con, table)

    def sql_table(self, table: TableRef) -> str:
        return f"{_quote(table.schema)}.{_quote(table.table)}"

    def read_slice(
        self,
        table: TableRef,
        *,
        brand: str,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        selected = ", ".join(_quote(c) for c in columns) if columns else "*"
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return pd.DataFrame()
            frame = con.execute(
                f"SELECT {selected} FROM {self.sql_table(table)} "
                "WHERE brand = ? AND date BETWEEN ? AND ? ORDER BY ALL",
                [brand, start, end],
            ).df()
        return _normalize_read(frame)

    def read_slices(self, table: TableRef, slices: Slices) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            if not self.table_exists(con, table):
                return pd.DataFrame()
            con.register("read_slices", _slice_frame(slices))
            frame = con.execute(
                f"SELECT t.* FROM {self.sql_table(table)} AS t "
                "JOIN read_slices AS s ON t.brand = s.brand AND t.date = s.date ORDER BY ALL"
            ).df()
        return _normalize_read(frame)

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        with self.connect(read_only=True) as con:
            return _normalize_read(con.execute(sql, list(params)).df())

    def analyst_query(self, sql: str) -> pd.DataFrame:
        """An analyst's query, confined to the warehouse's tables.

        The file is opened first; then DuckDB's external access is switched off and its
        configuration locked, so the query can neither read nor write any other file
        (`COPY ... TO`, `EXPORT DATABASE`, `read_text`, `ATTACH`), install or load an
        extension, nor switch the access back on. A refusal raises duckdb.PermissionException
        (or InvalidInputException for a locked setting).
        """
        with self.connect(read_only=True) as con:
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            return _normalize_read(con.execute(sql).df())

    def execute_script(self, sql: str) -> None:
        """Run DDL (views) as the writer."""
        with self.connect(read_only=False) as con:
            con.execute(sql)


def _slice_frame(slices: Slices) -> pd.DataFrame:
    pairs = [(brand, day) for brand, days in slices.items() for day in days]
    return pd.DataFrame(
        {"brand": [p[0] for p in pairs], "date": pd.to_datetime([p[1] for p in pairs]).date}
    )


def _normalize_read(frame: pd.DataFrame) -> pd.DataFrame:
    """DuckDB hands back UTC as 'Etc/UTC' and DATE as datetime64: give the table's dtypes."""
    for column, dtype in frame.dtypes.items():
        kind = str(dtype)
        if kind.startswith("datetime64") and "UTC" in kind:
            frame[column] = frame[column].dt.tz_convert("UTC")
        if column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    return frame
