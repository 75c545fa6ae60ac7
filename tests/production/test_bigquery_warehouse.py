"""The BigQuery warehouse, driven through the real google-cloud-bigquery client.

No BigQuery emulator works offline here: `bqemulator` (1.0-1.4) needs DuckDB's spatial
extension, which PyPI ships (`duckdb-ext-spatial`) only for DuckDB <= 1.4.4, and on DuckDB
1.4.4 bqemulator fails at start-up registering its JSON functions; DuckDB 2.0 cannot load the
1.4.4 extension. So these tests go up to the wire: the real client sends real HTTP requests
to a recording stand-in (bigquery_api.py), and the tests check the tables, load jobs, rows,
transaction script and parameters War Room sends. SQL is not executed by the stand-in.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from pytest_httpserver import HTTPServer

from tests.production.bigquery_api import DATASET, PROJECT, BigQueryAPI
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.warehouse import TableRef, WarehouseError
from warroom_pipelines.warehouse.bigquery import (
    BigQueryWarehouse,
    replace_script,
    schema_for,
    target_table,
)

pytestmark = AFTER_THE_FIXTURES


UNIFIED = TableRef("main", "unified_performance")
DAY = date(2026, 3, 2)


def _frame(brand: str, n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "brand": [brand] * n,
            "date": pd.to_datetime([DAY] * n).astype("datetime64[us]"),
            "channel": ["meta_ads"] * n,
            "hour_start": pd.date_range("2026-03-02", periods=n, freq="h", tz="UTC"),
            "ingested_at": pd.Timestamp("2026-03-02 12:00").as_unit("us"),  # naive means UTC
            "impressions": pd.Series(range(n), dtype="int64"),
            "spend": [1.5] * n,
        }
    )


def test_tables_map_into_one_dataset() -> None:
    assert target_table(UNIFIED, project="p", dataset="d") == "p.d.unified_performance"
    assert target_table(TableRef("channel_metrics", "demo"), project="p", dataset="d") == (
        "p.d.channel_metrics__demo"
    )


def test_upper_case_columns_are_refused() -> None:
    frame = _frame("acme").rename(columns={"spend": "Spend"})
    with pytest.raises(WarehouseError, match="lower-case"):
        schema_for(frame)


def test_the_script_deletes_and_inserts_inside_one_transaction() -> None:
    script = replace_script("p.d.t", "p.d._staging_t_1", ["brand", "date", "spend"])
    statements = [s.strip() for s in script.split(";") if s.strip()]
    assert statements[0] == "BEGIN TRANSACTION"
    assert statements[1].startswith("DELETE FROM `p.d.t` WHERE date IN UNNEST(@dates)")
    assert "brand IN UNNEST(@brands)" in statements[1]
    assert "IN UNNEST(@slices)" in statements[1]
    assert statements[2] == (
        "INSERT INTO `p.d.t` (`brand`, `date`, `spend`) "
        "SELECT `brand`, `date`, `spend` FROM `p.d._staging_t_1`"
    )
    assert statements[3] == "COMMIT TRANSACTION"


def test_replace_slice_creates_a_partitioned_table_stages_and_commits(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    frame = _frame("acme-outdoor")
    assert warehouse.replace_slice(UNIFIED, frame, brand="acme-outdoor", dates=[DAY]) == 3

    target = api.tables[f"{PROJECT}.{DATASET}.unified_performance"]
    assert target["timePartitioning"] == {"type": "DAY", "field": "date"}
    assert target["clustering"] == {"fields": ["brand"]}
    assert [f["name"] for f in target["schema"]["fields"]] == list(frame.columns)
    assert {f["name"]: f["type"] for f in target["schema"]["fields"]}["date"] == "DATE"

    # The rows went by load job into a staging table, never straight into the target.
    ((load, rows),) = api.loads
    staging = load["destinationTable"]["tableId"]
    assert staging.startswith("_staging_unified_performance_")
    assert load["writeDisposition"] == "WRITE_APPEND"
    assert load["sourceFormat"] == "PARQUET"
    assert list(rows["date"]) == [DAY] * 3  # a calendar day, as the DATE column wants
    assert str(rows["ingested_at"].dt.tz) == "UTC"
    assert list(rows.columns) == list(frame.columns)
    assert set(rows["brand"]) == {"acme-outdoor"}

    # One script: delete this brand's day and insert the staged rows, in one transaction.
    ((query,),) = [api.queries]
    assert query["query"].startswith("BEGIN TRANSACTION;")
    assert f"FROM `{PROJECT}.{DATASET}.{staging}`" in query["query"]
    params = {p["name"]: p for p in query["queryParameters"]}
    values = {
        name: [v["value"] for v in p["parameterValue"]["arrayValues"]] for name, p in params.items()
    }
    assert values == {
        "brands": ["acme-outdoor"],
        "dates": ["2026-03-02"],
        "slices": ["acme-outdoor/2026-03-02"],
    }
    # The staging table is dropped afterwards (and expires on its own if we die first).
    assert api.deleted == [f"{PROJECT}.{DATASET}.{staging}"]


def test_an_empty_slice_deletes_without_loading(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    empty = _frame("acme-outdoor").iloc[0:0]
    assert warehouse.replace_slice(UNIFIED, empty, brand="acme-outdoor", dates=[DAY]) == 0
    assert api.queries == [] and api.tables == {}  # no table yet: nothing to clear
    warehouse.replace_slice(UNIFIED, _frame("acme-outdoor"), brand="acme-outdoor", dates=[DAY])
    warehouse.replace_slice(UNIFIED, empty, brand="acme-outdoor", dates=[DAY])
    assert len(api.loads) == 1
    script = api.queries[-1]["query"]
    assert "DELETE FROM" in script and "INSERT" not in script
    assert script.startswith("BEGIN TRANSACTION;") and script.endswith("COMMIT TRANSACTION;")


def test_a_failed_transaction_is_an_error_and_drops_the_staging_table(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    api.failing_query = "BEGIN TRANSACTION"
    with pytest.raises(WarehouseError, match="acme-outdoor"):
        warehouse.replace_slice(UNIFIED, _frame("acme-outdoor"), brand="acme-outdoor", dates=[DAY])
    assert [t for t in api.tables if "_staging_" in t] == []
    assert len(api.deleted) == 1


def test_rows_of_another_brand_are_refused_before_any_request(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    mixed = pd.concat([_frame("acme-outdoor"), _frame("globex-beauty")], ignore_index=True)
    with pytest.raises(WarehouseError, match="another brand"):
        warehouse.replace_slice(UNIFIED, mixed, brand="acme-outdoor", dates=[DAY])
    assert api.requests == []


def test_a_new_column_is_added_to_the_existing_table(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    warehouse.replace_slice(UNIFIED, _frame("acme-outdoor"), brand="acme-outdoor", dates=[DAY])
    wider = _frame("acme-outdoor").assign(conversions=1.0)
    warehouse.replace_slice(UNIFIED, wider, brand="acme-outdoor", dates=[DAY])
    fields = api.tables[f"{PROJECT}.{DATASET}.unified_performance"]["schema"]["fields"]
    assert [f["name"] for f in fields][-1] == "conversions"


def test_reading_an_absent_table_gives_an_empty_frame_without_a_query(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    assert warehouse.read_slice(UNIFIED, brand="acme-outdoor", start=DAY, end=DAY).empty
    assert api.queries == []


def test_ping_reaches_the_dataset_or_says_it_cannot(
    api: BigQueryAPI, warehouse: BigQueryWarehouse, httpserver: HTTPServer
) -> None:
    warehouse.ping()
    client = bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options={"api_endpoint": httpserver.url_for("").rstrip("/")},
    )
    with pytest.raises(WarehouseError, match="not reachable"):
        BigQueryWarehouse(project=PROJECT, dataset="missing", client=client).ping()


def test_read_slice_asks_for_one_brand_and_gives_the_table_dtypes(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    warehouse.replace_slice(UNIFIED, _frame("acme-outdoor"), brand="acme-outdoor", dates=[DAY])
    api.result_fields = [
        {"name": "brand", "type": "STRING"},
        {"name": "date", "type": "DATE"},
        {"name": "hour_start", "type": "TIMESTAMP"},
        {"name": "spend", "type": "FLOAT"},
    ]
    api.result_rows = [["acme-outdoor", "2026-03-02", "1772409600000000", "1.5"]]
    frame = warehouse.read_slice(UNIFIED, brand="acme-outdoor", start=DAY, end=DAY)

    query = api.queries[-1]
    assert "WHERE brand = @brand AND date BETWEEN @start AND @end" in query["query"]
    params = {p["name"]: p["parameterValue"]["value"] for p in query["queryParameters"]}
    assert params == {"brand": "acme-outdoor", "start": "2026-03-02", "end": "2026-03-02"}
    assert str(frame["date"].dtype) == "datetime64[us]"
    assert frame["date"].iloc[0] == pd.Timestamp("2026-03-02")
    assert str(frame["hour_start"].dt.tz) == "UTC"
    assert frame["hour_start"].iloc[0] == pd.Timestamp("2026-03-02 00:00", tz="UTC")


def test_the_io_manager_writes_a_brand_day_through_bigquery(
    api: BigQueryAPI, httpserver: HTTPServer
) -> None:
    """The same WarehouseIOManager as locally, given the production warehouse resource."""
    import dagster as dg

    from warroom_pipelines.assets.channels import demo_channel_metrics
    from warroom_pipelines.partitions import brands_partitions, partition_key
    from warroom_pipelines.resources.demo import DemoSourceResource
    from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource

    warehouse = WarehouseResource(
        bigquery_project=PROJECT,
        bigquery_dataset=DATASET,
        bigquery_api_endpoint=httpserver.url_for("").rstrip("/"),
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(brands_partitions.name, ["acme-outdoor"])
        result = dg.materialize(
            [demo_channel_metrics],
            instance=instance,
            partition_key=partition_key("acme-outdoor", DAY),
            resources={
                "io_manager": WarehouseIOManager(warehouse=warehouse),
                "warehouse": warehouse,
                "demo_source": DemoSourceResource(campaigns_per_channel=1),
            },
        )
    assert result.success
    table = api.tables[f"{PROJECT}.{DATASET}.channel_metrics__demo"]
    assert table["timePartitioning"] == {"type": "DAY", "field": "date"}
    # The asset stores its channel health too; the I/O manager's load is the metrics, last.
    assert len(api.loads) == 2
    _, rows = api.loads[-1]
    assert len(rows) > 0 and set(rows["brand"]) == {"acme-outdoor"}
    assert all(column == column.lower() for column in rows.columns)
    params = {p["name"]: p["parameterValue"] for p in api.queries[-1]["queryParameters"]}
    assert [v["value"] for v in params["brands"]["arrayValues"]] == ["acme-outdoor"]
    assert [v["value"] for v in params["dates"]["arrayValues"]] == ["2026-03-02"]
