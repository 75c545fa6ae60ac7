"""The BigQuery delivery log's own statements, executed on DuckDB.

No BigQuery emulator runs offline, and the REST stand-in (tests/production/bigquery_api.py)
records SQL without executing it. So this runner takes exactly what `BigQueryRunner` would send
(the SQL text in BigQuery's dialect and the typed parameters `query_parameter` builds) and runs
it on an in-memory DuckDB after a mechanical rewrite of the parameter syntax only:
`@name` -> `$name` cast to its BigQuery type, `UNNEST(@list)` -> a DuckDB list scan, and
`` `project.dataset.table` `` -> the table's own name. The MERGE, lease and claim logic runs as
written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import pandas as pd
from google.cloud import bigquery

from warroom_pipelines.alerts.log.bigquery import BigQueryDialect, query_parameter
from warroom_pipelines.alerts.log.sql import Column, Dialect, LostRace, Param
from warroom_pipelines.warehouse.base import TableRef
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse

_TYPES = {
    "STRING": "VARCHAR",
    "INT64": "BIGINT",
    "FLOAT64": "DOUBLE",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
    "DATE": "DATE",
}
_ROWS = re.compile(r"\(SELECT \* FROM UNNEST\(@(\w+)\)\)")
_LIST = re.compile(r"UNNEST\(@(\w+)\)")
_SCALAR = re.compile(r"@(\w+)")
_TABLE = re.compile(r"`[^`]*\.([^.`]+)`")


def _binding(parameter: Any) -> tuple[str, Any]:
    """The DuckDB type and value of one BigQuery query parameter."""
    if isinstance(parameter, bigquery.ArrayQueryParameter) and parameter.array_type == "STRUCT":
        structs = parameter.values
        types = structs[0].struct_types if structs else {}
        fields = ", ".join(f"{name} {_TYPES[kind]}" for name, kind in types.items())
        return f"STRUCT({fields})[]", [dict(s.struct_values) for s in structs]
    if isinstance(parameter, bigquery.ArrayQueryParameter):
        return f"{_TYPES[parameter.array_type]}[]", list(parameter.values)
    return _TYPES[parameter.type_], parameter.value


def on_duckdb(sql: str, parameters: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """BigQuery SQL and parameters as DuckDB runs them (see the module docstring)."""
    bound = {p.name: _binding(p) for p in parameters}

    def typed(match: re.Match[str]) -> str:
        return f"CAST(${match.group(1)} AS {bound[match.group(1)][0]})"

    sql = _TABLE.sub(lambda m: f'"{m.group(1)}"', sql)
    sql = _ROWS.sub(lambda m: f"(SELECT UNNEST({typed(m)}, recursive := true))", sql)
    sql = _LIST.sub(lambda m: f"(SELECT UNNEST({typed(m)}))", sql)
    sql = _SCALAR.sub(typed, sql)
    return sql, {name: value for name, (_, value) in bound.items()}


class BigQueryOnDuckDB:
    """A `Runner` with BigQuery's dialect, names and parameters, executing on DuckDB."""

    dialect: Dialect = BigQueryDialect()

    def __init__(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.names = BigQueryWarehouse(project="warroom-test", dataset="warroom")
        self.statements: list[str] = []  # the BigQuery SQL, as BigQuery would have been sent it

    @contextmanager
    def session(self) -> Iterator[None]:
        yield

    def create_log(self, table: TableRef, columns: Sequence[Column]) -> None:
        types = ", ".join(f"{c.name} {_TYPES[c.kind]}" for c in columns)
        self.con.execute(f"CREATE TABLE IF NOT EXISTS {table.table} ({types})")

    def has_table(self, table: TableRef) -> bool:
        found = self.con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table.table]
        ).fetchall()
        return bool(found[0][0])

    def sql_table(self, table: TableRef) -> str:
        return self.names.sql_table(table)

    def _run(self, sql: str, params: Sequence[Param]) -> duckdb.DuckDBPyConnection:
        self.statements.append(sql)
        text, values = on_duckdb(sql, [query_parameter(p) for p in params])
        return self.con.execute(text, values)

    def select(self, sql: str, params: Sequence[Param]) -> pd.DataFrame:
        return self._run(sql, params).df()

    def mutate(self, sql: str, params: Sequence[Param]) -> int:
        try:
            ((changed,),) = self._run(sql, params).fetchall()
        except duckdb.TransactionException as exc:
            raise LostRace(str(exc)) from exc
        return int(changed)

    def add_table(self, name: str, frame: pd.DataFrame) -> None:
        """A War Room table as BigQuery holds it (`date` a DATE column)."""
        self.con.register("incoming", frame)
        self.con.execute(
            f"CREATE OR REPLACE TABLE {name} AS "
            "SELECT * REPLACE (CAST(date AS DATE) AS date) FROM incoming"
        )
        self.con.unregister("incoming")
