"""The one Definitions object of War Room: one set per area, merged, and the resources of the
chosen profile."""

from __future__ import annotations

import dagster as dg

from warroom_pipelines.assets.dashboard import (
    command_center,
    command_center_job,
    command_center_schedule,
)
from warroom_pipelines.assets.maintenance import (
    warehouse_maintenance,
    warehouse_maintenance_schedule,
)
from warroom_pipelines.home import owner_only_files
from warroom_pipelines.profiles import profile_name, resources_for
from warroom_pipelines.schedules import (
    brand_assets,
    brand_refresh_job,
    daily_restatement,
    hourly_refresh,
)
from warroom_pipelines.sensors.alerts import (
    alert_deliveries,
    alert_dispatch,
    no_dead_letters,
    pipeline_failure_notice,
)
from warroom_pipelines.sensors.batch_retry import batch_retry
from warroom_pipelines.sensors.brand_registry import brand_registry_sensor

# The code server and every run's process write in the home (warehouse, pages, alert files,
# compute logs): owner-only, whatever umask the process was started with.
owner_only_files()

defs = dg.Definitions.merge(
    # Brand-days: the registry, ingest -> unify -> score, on the hour and in the restatement.
    dg.Definitions(
        assets=brand_assets,
        jobs=[brand_refresh_job],
        schedules=[hourly_refresh, daily_restatement],
        sensors=[brand_registry_sensor, batch_retry],
    ),
    # Alerts: the delivery log, its check, dispatch and the platform's failure notices.
    dg.Definitions(
        assets=[alert_deliveries],
        asset_checks=[no_dead_letters],
        sensors=[alert_dispatch, pipeline_failure_notice],
    ),
    # The Command Center's pages, a little after each hourly refresh.
    dg.Definitions(
        assets=[command_center], jobs=[command_center_job], schedules=[command_center_schedule]
    ),
    # The local warehouse's housekeeping.
    dg.Definitions(jobs=[warehouse_maintenance], schedules=[warehouse_maintenance_schedule]),
    dg.Definitions(resources=resources_for(profile_name())),
)
