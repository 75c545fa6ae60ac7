"""War Room's definitions plus a probe sensor, for the scheduler/sensor test on PostgreSQL.

The probe stands in for the sensors that other areas add (brand registry sync, alert
dispatch): what is tested is that the daemon records its ticks in Postgres storage.
"""

import dagster as dg

from warroom_pipelines.definitions import defs as warroom_defs
from warroom_pipelines.partitions import brands_partitions
from warroom_pipelines.schedules import brand_refresh_job


@dg.sensor(
    job=brand_refresh_job, default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=1
)
def brand_probe(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    brands = context.instance.get_dynamic_partitions(brands_partitions.name)
    return dg.SkipReason(f"{len(brands)} brands registered")


defs = dg.Definitions.merge(warroom_defs, dg.Definitions(sensors=[brand_probe]))
