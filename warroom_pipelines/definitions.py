"""The one Definitions object of War Room; resources come from the chosen profile."""

from __future__ import annotations

import dagster as dg

from warroom_pipelines.assets.anomalies import performance_anomalies
from warroom_pipelines.assets.budgets import campaign_budgets
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.dashboard import (
    command_center,
    command_center_job,
    command_center_schedule,
)
from warroom_pipelines.assets.maintenance import (
    warehouse_maintenance,
    warehouse_maintenance_schedule,
)
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.home import owner_only_files
from warroom_pipelines.partitions import brand_date_partitions
from warroom_pipelines.profiles import profile_name, resources_for
from warroom_pipelines.schedules import build_schedules
from warroom_pipelines.sensors.alerts import (
    alert_deliveries,
    alert_dispatch,
    no_dead_letters,
    pipeline_failure_notice,
)
from warroom_pipelines.sensors.batch_retry import build_batch_retry_sensor
from warroom_pipelines.sensors.brand_registry import brand_registry_sensor

# The code server and every run's process write in the home (warehouse, pages, alert files,
# compute logs): owner-only, whatever umask the process was started with.
owner_only_files()

brand_assets = [*channel_assets, campaign_budgets, unified_performance, performance_anomalies]

brand_refresh_job = dg.define_asset_job(
    "brand_refresh",
    selection=dg.AssetSelection.assets(*brand_assets),
    partitions_def=brand_date_partitions,
    description="Ingest, unify, check and score brand-days: one, or a batch of brands.",
    # Steps run in the run's own process: a process per step would import the definitions
    # (~2 s) six times a run and PyOD (~5 s) once more; batches already give the parallelism
    # (bench/RESULTS.md).
    executor_def=dg.in_process_executor,
)

defs = dg.Definitions(
    assets=[*brand_assets, command_center, alert_deliveries],
    asset_checks=[no_dead_letters],
    jobs=[brand_refresh_job, command_center_job, warehouse_maintenance],
    schedules=[
        *build_schedules(
            brand_refresh_job,
            sources={asset.key.path[-1]: asset.key for asset in channel_assets},
            downstream=[a.key for a in brand_assets if a not in channel_assets],
        ),
        command_center_schedule,
        warehouse_maintenance_schedule,
    ],
    sensors=[
        brand_registry_sensor,
        alert_dispatch,
        pipeline_failure_notice,
        build_batch_retry_sensor(brand_refresh_job),
    ],
    resources=resources_for(profile_name()),
)
