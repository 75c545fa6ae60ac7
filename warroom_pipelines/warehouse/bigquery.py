"""The production warehouse: one BigQuery dataset, tables partitioned by day on `date` and
clustered by `brand`.

Why not Dagster's `BigQueryPandasIOManager` (dagster-gcp-pandas): it replaces a partition as
a DELETE and then a separate load, so a failure in between leaves the brand-day empty; it
changes the case of column names on the way in, so analysts' lower-case SQL breaks; it creates
tables without day partitioning or clustering (the scans, and the bill, grow with every brand);
and an open issue reports it failing on time x dynamic multi-partitions, which is every War
Room asset. So War Room keeps its own `WarehouseIOManager` and gives it this class, which
implements the same `Warehouse` contract as the DuckDB file.

How a brand-day slice is replaced, whole or not at all:
1. the frame goes to a staging table with a load job (free, typed by an explicit schema, no
   query-size limit; the staging table expires after an hour in case this process dies);
2. one multi-statement script deletes the brand's dates and inserts the staged rows between
   BEGIN TRANSACTION and COMMIT TRANSACTION. A failing statement fails the script and BigQuery
   rolls the transaction back, so readers see the old slice or the new one, never neither.
A load job straight into the target cannot delete, and DELETE + load are two jobs: that is
the gap this closes. Transactions that mutate the same table conflict; a conflicting one is
retried a few times, and `deploy/dagster.yaml` caps concurrent writers per warehouse.

Tables live in one dataset (one IAM grant): `main.x` is `<dataset>.x`, and a prefixed asset
such as `channel_metrics.demo` is `<dataset>.channel_metrics__demo`.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from warroom_pipelines import clock
from warroom_pipelines.warehouse.base import (
    Slices,
    SqlTypes,
    TableRef,
    WarehouseError,
    check_slices,
)

STAGING_TTL = timedelta(hours=1)
_CONFLICT_RETRIES = 4


def _field_type(column: str, dtype: object) -> str:
    kind = str(dtype)
    if column == "date":
        return "DATE"
    if kind.startswith("datetime64"):
        # Naive datetimes in War Room are UTC by convention; BigQuery keeps them as TIMESTAMP.
        return "TIMESTAMP"
    if kind in ("int64", "Int64", "int32", "Int32"):
        return "INT64"
    if kind in ("float64", "Float64", "float32"):
        return "FLOAT64"
    if kind in ("bool", "boolean"):
        return "BOOL"
    return "STRING"


def schema_for(frame: pd.DataFrame) -> list[bigquery.SchemaField]:
    """The BigQuery schema of a frame; column names must already be lower-case."""
    upper = [str(c) for c in frame.columns if str(c) != str(c).lower()]
    if upper:
        raise WarehouseError(f"column names must be lower-case, got {upper}")
    return [
        bigquery.SchemaField(str(c), _field_type(str(c), t), mode="NULLABLE")
        for c, t in frame.dtypes.items()
    ]


def target_table(table: TableRef, *, project: str, dataset: str) -> str:
    """`project.dataset.table` of a War Room table (see the module docstring)."""
    name = table.table if table.schema == "main" else f"{table.schema}__{table.table}"
    return f"{project}.{dataset}.{name}"


def _quote(table_id: str) -> str:
    return "`" + table_id.replace("`", "") + "`"


def partitioned_table(table_id: str, schema: list[bigquery.SchemaField]) -> bigquery.Table:
    """A new War Room table: partitioned by day on `date`, clustered by brand."""
    table = bigquery.Table(table_id, schema=schema)
    table.time_partitioning = bigquery.TimePartitioning(
        type_=bigquery.TimePartitioningType.DAY, field="date"
    )
    table.clustering_fields = ["brand"]
    table.require_partition_filter = False
    return table


def staging_table(
    table_id: str, schema: list[bigquery.SchemaField], *, now: datetime
) -> bigquery.Table:
    """A uniquely named table that holds one slice until the transaction has copied it."""
    project, dataset, name = table_id.split(".")
    staging = bigquery.Table(
        f"{project}.{dataset}._staging_{name}_{uuid.uuid4().hex[:12]}", schema=schema
    )
    staging.expires = now + STAGING_TTL
    return staging


def load_config(schema: list[bigquery.SchemaField]) -> bigquery.LoadJobConfig:
    return bigquery.LoadJobConfig(
        schema=schema,
        source_format=bigquery.SourceFormat.PARQUET,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        create_disposition=bigquery.CreateDisposition.CREATE_NEVER,
    )


def as_parquet(frame: pd.DataFrame) -> io.BytesIO:
    """The load job's file: `date` as a calendar day, every other time explicitly in UTC
    (War Room's naive datetimes are UTC; a TIMESTAMP column wants that said)."""
    out = frame.copy()
    for column, dtype in out.dtypes.items():
        if column == "date":
            out[column] = pd.to_datetime(out[column]).dt.date
        elif str(dtype).startswith("datetime64") and "UTC" not in str(dtype):
            out[column] = out[column].dt.tz_localize("UTC")
    buffer = io.BytesIO()
    out.to_parquet(buffer, index=False)
    buffer.seek(0)
    return buffer


# The rows of `slice_parameters`' brand-days: `@dates` and `@brands` let BigQuery prune
# partitions and clusters; `@slices` ("brand/day") keeps a batch whose brands cover different
# days to exactly its own brand-days.
SLICE_FILTER = (
    "date IN UNNEST(@dates) AND brand IN UNNEST(@brands) "
    "AND CONCAT(brand, '/', CAST(date AS STRING)) IN UNNEST(@slices)"
)


def replace_script(target_id: str, staging_id: str | None, columns: Sequence[str]) -> str:
    """Delete the brand-days (SLICE_FILTER) and insert the staged rows (if any), in one
    transaction."""
    names = ", ".join(f"`{c}`" for c in columns)
    insert = (
        f"INSERT INTO {_quote(target_id)} ({names}) SELECT {names} FROM {_quote(staging_id)};\n"
        if staging_id
        else ""
    )
    return (
        "BEGIN TRANSACTION;\n"
        f"DELETE FROM {_quote(target_id)} WHERE {SLICE_FILTER};\n"
        f"{insert}"
        "COMMIT TRANSACTION;"
    )


def slice_parameters(slices: Slices) -> list[Any]:
    days = sorted({day for dates in slices.values() for day in dates})
    pairs = sorted(f"{brand}/{day.isoformat()}" for brand, dates in slices.items() for day in dates)
    return [
        bigquery.ArrayQueryParameter("brands", "STRING", sorted(slices)),
        bigquery.ArrayQueryParameter("dates", "DATE", days),
        bigquery.ArrayQueryParameter("slices", "STRING", pairs),
    ]


def positional_parameters(params: Sequence[object]) -> list[bigquery.ScalarQueryParameter]:
    """`?` parameters of `Warehouse.query`, typed from their Python values."""
    typed = []
    for value in params:
        if not isinstance(value, (str, int, float, date)):
            value = str(value)
        if isinstance(value, bool):
            kind = "BOOL"
        elif isinstance(value, int):
            kind = "INT64"
        elif isinstance(value, float):
            kind = "FLOAT64"
        elif isinstance(value, datetime):
            kind = "TIMESTAMP"
        elif isinstance(value, date):
            kind = "DATE"
        else:
            kind = "STRING"
        typed.append(bigquery.ScalarQueryParameter(None, kind, value))
    return typed


def is_conflict(exc: BaseException) -> bool:
    """BigQuery's words for a transaction that lost a race with another on the same table."""
    text = str(exc).lower()
    return "concurrent update" in text or "transaction is aborted" in text


class BigQueryWarehouse:
    """War Room's tables in one BigQuery dataset (credentials: the runtime's service account)."""

    sql_types = SqlTypes(double="FLOAT64", timestamp="TIMESTAMP", string="STRING", integer="INT64")

    def __init__(
        self,
        *,
        project: str,
        dataset: str,
        location: str | None = None,
        client: bigquery.Client | None = None,
        api_endpoint: str | None = None,
    ) -> None:
        self.project = project
        self.dataset = dataset
        self.location = location
        self._client = client
        self._api_endpoint = api_endpoint

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            if self._api_endpoint:
                # An emulator: it takes no Google credentials.
                self._client = bigquery.Client(
                    project=self.project,
                    location=self.location,
                    credentials=AnonymousCredentials(),
                    client_options={"api_endpoint": self._api_endpoint},
                )
            else:
                # The runtime's service account (Workload Identity on GKE): no key files.
                self._client = bigquery.Client(project=self.project, location=self.location)
        return self._client

    def table_id(self, table: TableRef) -> str:
        return target_table(table, project=self.project, dataset=self.dataset)

    def sql_table(self, table: TableRef) -> str:
        return _quote(self.table_id(table))

    def has_table(self, table: TableRef) -> bool:
        try:
            self.client.get_table(self.table_id(table))
        except gexc.NotFound:
            return False
        return True

    def ensure_table(self, table: TableRef, schema: list[bigquery.SchemaField]) -> str:
        """Create the table partitioned and clustered if absent; add new columns at the end."""
        table_id = self.table_id(table)
        try:
            existing = self.client.get_table(table_id)
        except gexc.NotFound:
            self.client.create_table(partitioned_table(table_id, schema), exists_ok=True)
            return table_id
        known = {field.name for field in existing.schema}
        added = [field for field in schema if field.name not in known]
        if added:
            existing.schema = [*existing.schema, *added]
            self.client.update_table(existing, ["schema"])
        return table_id

    def replace_slice(
        self, table: TableRef, frame: pd.DataFrame, *, brand: str, dates: Sequence[date]
    ) -> int:
        return self.replace_slices(table, frame, {brand: dates})

    def replace_slices(self, table: TableRef, frame: pd.DataFrame, slices: Slices) -> int:
        check_slices(table, frame, slices)
        schema = schema_for(frame)
        try:
            if frame.empty:
                self._clear_slices(table, slices)
                return 0
            target_id = self.ensure_table(table, schema)
            staging = staging_table(target_id, schema, now=clock.now())
            self.client.create_table(staging)
            try:
                data = as_parquet(frame)
                self.client.load_table_from_file(
                    data, staging, size=data.getbuffer().nbytes, job_config=load_config(schema)
                ).result()
                self.mutate(
                    replace_script(
                        target_id,
                        f"{staging.project}.{staging.dataset_id}.{staging.table_id}",
                        [field.name for field in schema],
                    ),
                    slice_parameters(slices),
                )
            finally:
                self.client.delete_table(staging, not_found_ok=True)
        except gexc.GoogleAPIError as exc:
            raise WarehouseError(
                f"could not replace {table} for brands {sorted(slices)}: "
                f"{exc.__class__.__name__}: {getattr(exc, 'message', exc)}"
            ) from exc
        return len(frame)

    def _clear_slices(self, table: TableRef, slices: Slices) -> None:
        """No rows for the slice: delete what it had (no table yet means nothing to clear)."""
        if self.has_table(table):
            self.mutate(replace_script(self.table_id(table), None, []), slice_parameters(slices))

    def mutate(self, sql: str, parameters: list[Any]) -> bigquery.QueryJob:
        """Run a DML statement or a transaction script, retrying a few times when it loses a
        race with another writer of the same table; returns the finished job."""
        config = bigquery.QueryJobConfig(query_parameters=parameters)
        attempt = 0
        while True:
            try:
                job = self.client.query(sql, job_config=config)
                job.result()
                return job
            except gexc.GoogleAPIError as exc:
                if not is_conflict(exc) or attempt == _CONFLICT_RETRIES:
                    raise
                time.sleep(min(2.0**attempt, 20.0))
                attempt += 1

    def read_slice(
        self,
        table: TableRef,
        *,
        brand: str,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        if not self.has_table(table):
            return pd.DataFrame()
        # Fewer columns is fewer bytes billed.
        selected = ", ".join(f"`{c}`" for c in columns) if columns else "*"
        return self.select(
            f"SELECT {selected} FROM {self.sql_table(table)} "
            "WHERE brand = @brand AND date BETWEEN @start AND @end",
            [
                bigquery.ScalarQueryParameter("brand", "STRING", brand),
                bigquery.ScalarQueryParameter("start", "DATE", start),
                bigquery.ScalarQueryParameter("end", "DATE", end),
            ],
        )

    def read_slices(self, table: TableRef, slices: Slices) -> pd.DataFrame:
        if not self.has_table(table):
            return pd.DataFrame()
        return self.select(
            f"SELECT * FROM {self.sql_table(table)} WHERE {SLICE_FILTER}",
            slice_parameters(slices),
        )

    def query(self, sql: str, params: Sequence[object] = ()) -> pd.DataFrame:
        return self.select(sql, positional_parameters(params))

    def execute_script(self, sql: str) -> None:
        self.client.query(sql).result()

    def ping(self) -> None:
        """Reach the dataset (what `warroom doctor` checks); raises WarehouseError if not."""
        try:
            self.client.get_dataset(f"{self.project}.{self.dataset}", timeout=15)
        except gexc.GoogleAPIError as exc:
            raise WarehouseError(
                f"BigQuery dataset {self.project}.{self.dataset} is not reachable: "
                f"{exc.__class__.__name__}"
            ) from exc

    def select(self, sql: str, parameters: list[Any]) -> pd.DataFrame:
        """Run a query with named (or positional) parameters; the table's dtypes back."""
        config = bigquery.QueryJobConfig(query_parameters=parameters)
        rows = self.client.query(sql, job_config=config).result()
        frame = rows.to_arrow(create_bqstorage_client=False).to_pandas()
        return normalize_read(frame)


def normalize_read(frame: pd.DataFrame) -> pd.DataFrame:
    """Give BigQuery's answer the table's dtypes: DATE as datetime64 midnight, times in UTC."""
    for column, dtype in frame.dtypes.items():
        kind = str(dtype)
        if column == "date":
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
        elif kind.startswith("datetime64") and "UTC" in kind:
            frame[column] = frame[column].dt.tz_convert("UTC")
    return frame
