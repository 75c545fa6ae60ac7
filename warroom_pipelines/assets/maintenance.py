"""Warehouse maintenance, daily: the local DuckLake's small files merged and its old snapshots
forgotten (each hourly run leaves a few small Parquet files and a snapshot per table).

BigQuery manages its own storage, so in production the job has nothing to do.
"""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from warroom_pipelines import clock
from warroom_pipelines.assets.channels import WAREHOUSE_POOL
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.warehouse import DuckDBWarehouse

# How long a snapshot stays readable after a newer one: an analyst's transaction open longer
# than this may find its files gone (autocommit queries never do).
SNAPSHOT_RETENTION = timedelta(days=1)


@dg.op(pool=WAREHOUSE_POOL)
def compact_warehouse(warehouse: WarehouseResource) -> dg.Output[None]:
    """Merge small files, expire snapshots older than SNAPSHOT_RETENTION, delete their files."""
    store = warehouse.get()
    if not isinstance(store, DuckDBWarehouse):
        return dg.Output(None, metadata={"skipped": "BigQuery manages its own storage"})
    return dg.Output(None, metadata=store.maintain(older_than=clock.now() - SNAPSHOT_RETENTION))


@dg.job(description="Compact the local warehouse's files and expire its old snapshots.")
def warehouse_maintenance() -> None:
    compact_warehouse()


warehouse_maintenance_schedule = dg.ScheduleDefinition(
    job=warehouse_maintenance,
    cron_schedule="15 4 * * *",  # daily, between the hourly runs (:05) and the pages (:35)
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
