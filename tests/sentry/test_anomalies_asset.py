"""performance_anomalies through Dagster: two brands, real DuckDB, each brand on its own rows."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.support import AFTER_THE_FIXTURES, local_resources
from warroom_pipelines.assets.anomalies import performance_anomalies
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import UNIFIED_TABLE, unified_performance
from warroom_pipelines.partitions import BRANDS, partition_key
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.schema import finalize
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import ANOMALY_COLUMNS, detect
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

pytestmark = AFTER_THE_FIXTURES

DAY = date(2026, 11, 10)
ANOMALIES_TABLE = TableRef("main", "performance_anomalies")
WINDOW = 7
HISTORY = [DAY - timedelta(days=n) for n in range(WINDOW + 2, -1, -1)]
ASSETS = [*channel_assets, unified_performance, performance_anomalies]
INGESTED_AT = datetime(2026, 11, 11, tzinfo=UTC)
RUN_CONFIG = {"ops": {"performance_anomalies": {"config": {"window_days": WINDOW}}}}


class RunawaySource(DemoSourceResource):
    """The demo source, where globex's Meta budget cap is removed on DAY from 08:00 UTC."""

    def metrics(self, brand, day, as_of=None):
        frame = super().metrics(brand, day, as_of)
        if brand == "globex" and day == DAY:
            hit = (frame["channel"] == "meta_ads") & (frame["hour_start"].dt.hour >= 8)
            frame.loc[hit, ["impressions", "clicks"]] *= 4
            frame.loc[hit, "spend"] *= 6
        return frame


SEEDED, THROUGH_DAGSTER = HISTORY[:-2], HISTORY[-2:]


def _seeded(path) -> dict[str, Any]:
    """Resources on a warehouse holding the older history, written straight in; the last two
    days run through Dagster."""
    source = RunawaySource(incident_rate=0.0)
    resources = local_resources(path, path.parent, source)
    warehouse = resources["warehouse"].get()
    for brand in ("acme", "globex"):
        for day in SEEDED:
            rows = finalize(source.metrics(brand, day), brand=brand, ingested_at=INGESTED_AT)
            warehouse.replace_slice(UNIFIED_TABLE, rows, brand=brand, dates=[day])
    return resources


def _stored(path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT * FROM performance_anomalies ORDER BY ALL").df()


@pytest.fixture(scope="module")
def materialized(tmp_path_factory) -> dict[str, Any]:
    path = tmp_path_factory.mktemp("sentry") / "warehouse.duckdb"
    resources = _seeded(path)
    through_dagster = THROUGH_DAGSTER
    results = {}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        for brand in ("acme", "globex"):
            for day in through_dagster:
                result = dg.materialize(
                    ASSETS,
                    instance=instance,
                    resources=resources,
                    partition_key=partition_key(brand, day),
                    run_config=RUN_CONFIG,
                )
                assert result.success
            results[brand] = result
    return {"path": path, "results": results, "stored": _stored(path)}


def test_each_brand_gets_its_own_anomalies(materialized) -> None:
    stored = materialized["stored"]
    assert list(stored.columns) == list(ANOMALY_COLUMNS)
    globex = stored.loc[stored["brand"] == "globex"]
    acme = stored.loc[stored["brand"] == "acme"]
    runaway = globex.loc[(globex["level"] == "channel") & (globex["channel"] == "meta_ads")]
    assert "spend_spike" in set(runaway["anomaly_type"])
    assert runaway["severity"].isin(["warning", "critical"]).any()
    assert "spend_spike" not in set(acme["anomaly_type"])
    assert (stored["date"].dt.date == DAY).all()


def test_anomalies_come_from_the_brands_own_rows_only(materialized) -> None:
    warehouse = DuckDBWarehouse(materialized["path"], read_only=True)
    stored = materialized["stored"]
    for brand in ("acme", "globex"):
        own = warehouse.read_slice(UNIFIED_TABLE, brand=brand, start=HISTORY[0], end=DAY)
        rows = stored.loc[stored["brand"] == brand]
        campaigns = set(rows.loc[rows["level"] == "campaign", "campaign_id"])
        assert campaigns <= set(own["campaign_id"])
        # Exactly what the engine finds on this brand's rows alone.
        expected = detect(own, DAY, DetectorConfig(window_days=WINDOW))
        got = warehouse.read_slice(ANOMALIES_TABLE, brand=brand, start=DAY, end=DAY)
        assert len(got) == len(expected)
        assert set(got["incident_id"]) == set(expected["incident_id"])


def test_metadata_counts_types_and_severities(materialized) -> None:
    result = materialized["results"]["globex"]
    events = result.asset_materializations_for_node("performance_anomalies")
    metadata = events[0].metadata
    assert metadata["type:spend_spike"].value >= 1
    assert any(key.startswith("severity:") for key in metadata)
    assert "spend_spike" in metadata["top_incidents"].value
    assert metadata["detector"].value == DetectorConfig().detector == "ecod"


def test_every_row_belongs_to_its_partitions_brand(materialized) -> None:
    stored = materialized["stored"]
    assert set(stored["brand"]) <= {"acme", "globex"}
    ids = stored.groupby("incident_id")["brand"].nunique()
    assert (ids == 1).all()
    assert not pd.Series(stored["incident_id"]).eq("").any()


def test_one_batch_run_of_both_brands_and_days_finds_what_single_runs_found(
    materialized, tmp_path
) -> None:
    path = tmp_path / "warehouse.duckdb"
    resources = _seeded(path)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(BRANDS, ["acme", "globex"])
        result = dg.materialize(
            ASSETS,
            instance=instance,
            resources=resources,
            run_config=RUN_CONFIG,
            tags={
                "dagster/asset_partition_range_start": str(
                    partition_key("acme", THROUGH_DAGSTER[0])
                ),
                "dagster/asset_partition_range_end": str(partition_key("globex", DAY)),
            },
        )
    assert result.success
    events = result.asset_materializations_for_node("performance_anomalies")
    assert len(events) == 4  # 2 brands x 2 days, one run
    batched = _stored(path)
    single = materialized["stored"]
    assert len(batched) == len(single) > 0
    pd.testing.assert_frame_equal(batched, single)
    # Each brand-day's materialization counts its own anomalies, not the batch's.
    per_day = {str(e.partition): e.metadata["brand_day_anomalies"].value for e in events}
    stored_day = batched["date"].dt.date.astype(str)
    assert per_day == {
        key: int(((batched["brand"] == brand) & (stored_day == day)).sum())
        for key in per_day
        for brand, day in [key.split("|")]
    }
    assert per_day["globex|2026-11-10"] > 0
    top = events[0].metadata["top_incidents"].value
    assert "globex" in top and "spend_spike" in top
