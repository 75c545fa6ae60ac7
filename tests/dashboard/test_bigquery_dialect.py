"""The Command Center on BigQuery: the views and reads War Room sends through the real
google-cloud-bigquery client (to the recording stand-in, tests/production/bigquery_api.py).

No BigQuery runs offline, so for the pages the stand-in answers each query by running it on the
two-brand DuckDB file after undoing exactly what the BigQuery dialect changes (table names,
cast types); the answers then travel back as BigQuery REST rows through the client. Pages
rendered that way must equal the pages rendered from DuckDB directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
from pytest_httpserver import HTTPServer

from tests.dashboard.conftest import NOW
from tests.dashboard.test_brand_pages import leaks_of
from tests.gcs_api import GCSAPI
from tests.production.bigquery_api import DATASET, PROJECT, Answer, BigQueryAPI
from warroom_pipelines.assets.dashboard import command_center
from warroom_pipelines.dashboard import VIEW_NAMES, create_views, publish
from warroom_pipelines.partitions import BRANDS
from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.warehouse import DuckDBWarehouse
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse

DATASET_PREFIX = f"`{PROJECT}.{DATASET}."
_BACK_TO_DUCKDB = {
    " AS FLOAT64)": " AS DOUBLE)",
    " AS TIMESTAMP)": " AS TIMESTAMPTZ)",
    " AS STRING)": " AS VARCHAR)",
    " AS INT64)": " AS BIGINT)",
}
_REST_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "INTEGER",
    "INTEGER": "INTEGER",
    "HUGEINT": "INTEGER",
    "DOUBLE": "FLOAT",
    "DATE": "DATE",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "BOOLEAN": "BOOLEAN",
}


def _parameter(p: dict[str, Any]) -> object:
    kind, value = p["parameterType"]["type"], p["parameterValue"].get("value")
    if value is None:
        return None
    if kind == "INT64":
        return int(value)
    if kind == "FLOAT64":
        return float(value)
    if kind == "DATE":
        return date.fromisoformat(value)
    if kind == "TIMESTAMP":
        return pd.Timestamp(value).to_pydatetime()
    return value


def _cell(value: Any, kind: str) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if kind == "TIMESTAMP":
        return str(pd.Timestamp(value).value // 1000)  # microseconds since the epoch
    if kind == "DATE":
        return pd.Timestamp(value).date().isoformat()
    if kind == "BOOLEAN":
        return "true" if value else "false"
    return str(value)


def duckdb_answers(duck: DuckDBWarehouse) -> Callable[[dict[str, Any]], Answer]:
    """Answer a BigQuery query job from the DuckDB file, as BigQuery's REST API would."""

    def answer(config: dict[str, Any]) -> Answer:
        if config["query"].startswith("CREATE"):
            return [], []  # the views: DDL, nothing to answer
        sql = re.sub(r"`" + re.escape(DATASET_PREFIX[1:]) + r"(\w+)`", r"main.\1", config["query"])
        for bigquery_type, duckdb_type in _BACK_TO_DUCKDB.items():
            sql = sql.replace(bigquery_type, duckdb_type)
        params = [_parameter(p) for p in config.get("queryParameters", [])]
        with duck.connect(read_only=True) as con:
            result = con.execute(sql, params)
            kinds = [_REST_TYPES[str(d[1])] for d in result.description]
            names = [d[0] for d in result.description]
            rows = result.fetchall()
        fields = [
            {"name": n, "type": k, "mode": "NULLABLE"} for n, k in zip(names, kinds, strict=True)
        ]
        return fields, [[_cell(v, k) for v, k in zip(row, kinds, strict=True)] for row in rows]

    return answer


def _without_build_time(html: str) -> str:
    """The page without its build time, and its raw float attributes to 10 digits: the two
    warehouses store rows differently and add them up in another order."""
    html = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", "<time>", html)
    return re.sub(r"\d+\.\d{7,}", lambda m: f"{float(m[0]):.10g}", html)


def test_views_are_created_in_the_dataset_in_bigquery_sql(
    api: BigQueryAPI, bigquery_warehouse: BigQueryWarehouse
) -> None:
    assert create_views(bigquery_warehouse) == []  # no unified table yet: nothing to view
    assert api.queries == []

    api.add_table("unified_performance")
    assert create_views(bigquery_warehouse) == list(VIEW_NAMES)
    script = api.queries[-1]["query"]
    for name in VIEW_NAMES:
        assert f"CREATE OR REPLACE VIEW {DATASET_PREFIX}{name}` AS" in script
    assert f"FROM {DATASET_PREFIX}unified_performance`" in script
    assert "CAST(NULL AS STRING) AS incident_id" in script  # no Sentry table yet: empty view
    for duckdb_only in ("main.", "::", "arg_max", "VARCHAR", "TIMESTAMPTZ", "DOUBLE"):
        assert duckdb_only not in script

    api.add_table("performance_anomalies")
    create_views(bigquery_warehouse)
    script = api.queries[-1]["query"]
    assert f"FROM {DATASET_PREFIX}performance_anomalies`" in script
    assert "CAST(NULL" not in script


def test_pages_from_bigquery_equal_pages_from_duckdb(
    api: BigQueryAPI,
    bigquery_warehouse: BigQueryWarehouse,
    two_brand_warehouse: DuckDBWarehouse,
    tmp_path: Path,
) -> None:
    for table in ("unified_performance", "performance_anomalies"):
        api.add_table(table)
    api.answer = duckdb_answers(two_brand_warehouse)

    from_bigquery = publish(bigquery_warehouse, tmp_path / "bigquery", now=NOW)
    from_duckdb = publish(two_brand_warehouse, tmp_path / "duckdb", now=NOW)

    assert sorted(from_bigquery.brand_pages) == ["acme", "globex"]
    for brand, page in from_bigquery.brand_pages.items():
        html = Path(page).read_text()
        assert 'data-tile="spend"' in html and "data-incident=" in html
        assert _without_build_time(html) == _without_build_time(
            Path(from_duckdb.brand_pages[brand]).read_text()
        )
    assert _without_build_time(Path(from_bigquery.overview).read_text()) == _without_build_time(
        Path(from_duckdb.overview).read_text()
    )

    # Every read is BigQuery SQL with positional parameters; brand reads carry the brand.
    sent = [q for q in api.queries if "CREATE" not in q["query"]]
    assert sent and all(q["parameterMode"] == "POSITIONAL" for q in sent)
    for query in sent:
        assert "main." not in query["query"] and "::" not in query["query"]
    globex_reads = [
        q
        for q in sent
        if any(p["parameterValue"].get("value") == "globex" for p in q["queryParameters"])
    ]
    assert globex_reads and all("brand = ?" in q["query"] for q in globex_reads)


def test_the_production_command_center_asset_writes_views_and_pages_to_the_bucket(
    api: BigQueryAPI,
    httpserver: HTTPServer,
    two_brand_warehouse: DuckDBWarehouse,
) -> None:
    """The asset with the production resources: BigQuery (the stand-in answering from the
    DuckDB file) and the dashboard bucket (a GCS server on the same port)."""
    gcs = GCSAPI("warroom-pages")
    gcs.install(httpserver)
    httpserver.handlers.insert(0, httpserver.handlers.pop())  # storage paths before BigQuery's
    for table in ("unified_performance", "performance_anomalies"):
        api.add_table(table)
    api.answer = duckdb_answers(two_brand_warehouse)
    endpoint = httpserver.url_for("").rstrip("/")
    resources = {
        "warehouse": WarehouseResource(
            bigquery_project=PROJECT, bigquery_dataset=DATASET, bigquery_api_endpoint=endpoint
        ),
        "command_center": CommandCenterResource(
            bucket="warroom-pages", gcp_project=PROJECT, storage_api_endpoint=endpoint
        ),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        result = dg.materialize([command_center], instance=instance, resources=resources)
    assert result.success
    metadata = result.asset_materializations_for_node("command_center")[0].metadata
    assert metadata["overview"].value == "gs://warroom-pages/index.html"
    assert metadata["brand_pages"].value == {
        "acme": "gs://warroom-pages/brands/acme.html",
        "globex": "gs://warroom-pages/brands/globex.html",
    }
    assert sorted(gcs.objects) == ["brands/acme.html", "brands/globex.html", "index.html"]
    assert any("CREATE OR REPLACE VIEW" in q["query"] for q in api.queries)
    acme = gcs.objects["brands/acme.html"].data.decode()
    assert leaks_of(acme, two_brand_warehouse, "globex") == []
