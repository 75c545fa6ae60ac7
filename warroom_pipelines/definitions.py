"""The one Definitions object of War Room; resources come from the chosen profile."""

from __future__ import annotations

import dagster as dg

from warroom_pipelines.assets.anomalies import performance_anomalies
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.partitions import brand_date_partitions
from warroom_pipelines.profiles import profile_name, resources_for
from warroom_pipelines.schedules import build_schedules

brand_assets = [*channel_assets, unified_performance, performance_anomalies]

brand_refresh_job = dg.define_asset_job(
    "brand_refresh",
    selection=dg.AssetSelection.assets(*brand_assets),
    partitions_def=brand_date_partitions,
    description="Ingest, unify and check one brand-day.",
)

defs = dg.Definitions(
    assets=brand_assets,
    jobs=[brand_refresh_job],
    schedules=build_schedules(brand_refresh_job),
    resources=resources_for(profile_name()),
)
