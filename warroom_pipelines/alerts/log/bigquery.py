"""The delivery log in the BigQuery dataset: partitioned by day on `date` and clustered by
`brand`, like War Room's other tables. Every statement is one BigQuery job, atomic on its own;
one that loses a race with another writer of the table is retried (`BigQueryWarehouse.mutate`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from google.api_core import exceptions as gexc
from google.cloud import bigquery

from warroom_pipelines.alerts.log.sql import Column, Dialect, LostRace, Param, SqlDeliveryLog
from warroom_pipelines.warehouse.base import TableRef
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse, is_conflict
from warroom_pipelines.warehouse.tables import DELIVERIES


class BigQueryDialect:
    """`@name` parameters; a list is UNNEST-ed."""

    def scalar(self, param: Param) -> str:
        return f"@{param.name}"

    def listed(self, param: Param) -> str:
        return f"UNNEST(@{param.name})"

    def rows(self, param: Param) -> str:
        return f"(SELECT * FROM UNNEST(@{param.name}))"


def query_parameter(param: Param) -> Any:
    """The typed BigQuery parameter of one `Param`."""
    if param.fields:
        return bigquery.ArrayQueryParameter(
            param.name,
            "STRUCT",
            [
                bigquery.StructQueryParameter(
                    None,
                    *(bigquery.ScalarQueryParameter(n, kind, row[n]) for n, kind in param.fields),
                )
                for row in param.value
            ],
        )
    if param.many:
        return bigquery.ArrayQueryParameter(param.name, param.kind, list(param.value))
    return bigquery.ScalarQueryParameter(param.name, param.kind, param.value)


class BigQueryRunner:
    """The log's statements as BigQuery jobs."""

    dialect: Dialect = BigQueryDialect()

    def __init__(self, warehouse: BigQueryWarehouse) -> None:
        self.warehouse = warehouse

    @contextmanager
    def session(self) -> Iterator[None]:
        """Nothing to hold: every call is its own job."""
        yield

    def create_log(self, table: TableRef, columns: Sequence[Column]) -> None:
        schema = [
            bigquery.SchemaField(c.name, c.kind, mode="REQUIRED" if c.required else "NULLABLE")
            for c in columns
        ]
        self.warehouse.ensure_table(table, schema)

    def has_table(self, table: TableRef) -> bool:
        return self.warehouse.has_table(table)

    def sql_table(self, table: TableRef) -> str:
        return self.warehouse.sql_table(table)

    def select(self, sql: str, params: Sequence[Param]) -> pd.DataFrame:
        return self.warehouse.select(sql, [query_parameter(p) for p in params])

    def mutate(self, sql: str, params: Sequence[Param]) -> int:
        try:
            job = self.warehouse.mutate(sql, [query_parameter(p) for p in params])
        except gexc.GoogleAPIError as exc:
            if is_conflict(exc):
                raise LostRace(f"other writers kept {DELIVERIES} busy") from exc
            raise
        return int(job.num_dml_affected_rows or 0)


def bigquery_delivery_log(warehouse: BigQueryWarehouse) -> SqlDeliveryLog:
    return SqlDeliveryLog(BigQueryRunner(warehouse), DELIVERIES)
