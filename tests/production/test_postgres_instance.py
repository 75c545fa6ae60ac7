"""The production Dagster instance (deploy/dagster.yaml) on a real PostgreSQL server: runs,
materializations, schedule ticks and sensor ticks all land in Postgres."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import pytest
import yaml

from tests.production.conftest import Postgres
from tests.support import AFTER_THE_FIXTURES, local_resources
from warroom_pipelines.partitions import brands_partitions, partition_key
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.schedules import brand_assets
from warroom_pipelines.warehouse import DuckDBWarehouse

pytestmark = AFTER_THE_FIXTURES


ROOT = Path(__file__).resolve().parents[2]
BRANDS = ("acme-outdoor", "globex-beauty")
DAY = date(2026, 3, 2)


def production_instance_config() -> dict[str, Any]:
    """deploy/dagster.yaml without the Kubernetes run launcher (no cluster in a test)."""
    config = yaml.safe_load((ROOT / "deploy" / "dagster.yaml").read_text())
    launcher = config.pop("run_launcher")
    assert (launcher["module"], launcher["class"]) == ("dagster_k8s", "K8sRunLauncher")
    return config


@pytest.fixture
def pg_instance(
    dagster_db: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dg.DagsterInstance]:
    for name, value in dagster_db.env().items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(production_instance_config()))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def _rows(db: Postgres, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    con = psycopg2.connect(host=db.host, port=db.port, user=db.user, dbname=db.db_name)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())
    finally:
        con.close()


def test_the_production_instance_uses_postgres_and_the_queued_coordinator(
    pg_instance: dg.DagsterInstance,
) -> None:
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import (
        PostgresEventLogStorage,
        PostgresRunStorage,
        PostgresScheduleStorage,
    )

    assert isinstance(pg_instance.run_storage, PostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)
    assert isinstance(pg_instance.run_coordinator, QueuedRunCoordinator)
    limits = pg_instance.get_concurrency_config().run_queue_config
    assert limits is not None
    assert {limit["key"] for limit in limits.tag_concurrency_limits} >= {
        "warroom/brand",
        "warroom/batch",
        "dagster/backfill",
    }


def test_two_brands_materialize_into_postgres_storage(
    pg_instance: dg.DagsterInstance, dagster_db: Postgres, tmp_path: Path
) -> None:
    pg_instance.add_dynamic_partitions(brands_partitions.name, list(BRANDS))
    resources = local_resources(
        tmp_path / "warehouse.duckdb", tmp_path, DemoSourceResource(campaigns_per_channel=2)
    )
    for brand in BRANDS:
        result = dg.materialize(
            brand_assets,
            instance=pg_instance,
            resources=resources,
            partition_key=partition_key(brand, DAY),
        )
        assert result.success

    # What Dagster recorded, read straight from PostgreSQL.
    runs = _rows(dagster_db, "SELECT status FROM runs")
    assert sorted(r[0] for r in runs) == ["SUCCESS", "SUCCESS"]
    materialized = _rows(
        dagster_db,
        "SELECT asset_key, partition FROM event_logs "
        "WHERE dagster_event_type = 'ASSET_MATERIALIZATION'",
    )
    unified = {p for key, p in materialized if "unified_performance" in key}
    assert unified == {str(partition_key(b, DAY)) for b in BRANDS}
    assert set(_rows(dagster_db, "SELECT partition FROM dynamic_partitions")) == {
        (b,) for b in BRANDS
    }
    # And each brand's rows are in the warehouse, only under its own brand.
    stored = DuckDBWarehouse(tmp_path / "warehouse.duckdb", read_only=True).query(
        "SELECT brand, count(*) AS n FROM main.unified_performance GROUP BY brand ORDER BY brand"
    )
    assert list(stored["brand"]) == list(BRANDS)
    assert (stored["n"] > 0).all()


def test_schedule_and_sensor_ticks_are_recorded_in_postgres(
    pg_instance: dg.DagsterInstance,
    dagster_db: Postgres,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dagster._core.scheduler.instigation import InstigatorType, TickStatus
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import ModuleTarget
    from dagster._daemon.sensor import execute_sensor_iteration
    from dagster._scheduler.scheduler import launch_scheduled_runs

    monkeypatch.setenv("WARROOM_PROFILE", "local")
    monkeypatch.setenv("WARROOM_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    pg_instance.add_dynamic_partitions(brands_partitions.name, list(BRANDS))
    logger = logging.getLogger("warroom.test")
    target = ModuleTarget(
        module_name="tests.production.probe_workspace",
        attribute="defs",
        working_directory=str(ROOT),
        location_name="warroom",
    )
    with create_test_daemon_workspace_context(target, pg_instance) as workspace:
        start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        iteration_times: dict[str, Any] = {}
        # The first pass starts the schedule; the second crosses minute 5 of the next hour.
        list(launch_scheduled_runs(workspace, logger, start, iteration_times))
        list(
            launch_scheduled_runs(
                workspace, logger, start + timedelta(hours=1, minutes=6), iteration_times
            )
        )
        list(execute_sensor_iteration(workspace, logger, None, None))

    schedule_ticks = [
        tick
        for state in pg_instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
        if state.name == "hourly_refresh"
        for tick in pg_instance.get_ticks(state.instigator_origin_id, state.selector_id)
    ]
    assert [t.status for t in schedule_ticks] == [TickStatus.SUCCESS]
    # 11:05: today only (yesterday has settled), every brand in one batch run.
    (queued,) = pg_instance.get_runs(dg.RunsFilter(run_ids=list(schedule_ticks[0].run_ids)))
    assert queued.tags["warroom/batch"] == f"{BRANDS[0]}..{BRANDS[-1]}"
    assert queued.tags["dagster/asset_partition_range_start"] == f"{BRANDS[0]}|2026-03-02"
    assert queued.tags["dagster/asset_partition_range_end"] == f"{BRANDS[-1]}|2026-03-02"

    sensor_state = next(
        s
        for s in pg_instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        if s.name == "brand_probe"
    )
    sensor_ticks = pg_instance.get_ticks(
        sensor_state.instigator_origin_id, sensor_state.selector_id
    )
    assert [t.status for t in sensor_ticks] == [TickStatus.SKIPPED]
    assert sensor_ticks[0].skip_reason == "2 brands registered"

    # Both kinds of tick are rows of the Postgres schedule storage.
    kinds = _rows(dagster_db, "SELECT type, status FROM job_ticks ORDER BY id")
    assert ("SCHEDULE", "SUCCESS") in kinds and ("SENSOR", "SKIPPED") in kinds
