"""The Command Center asset: the analyst views and the HTML pages, after each refresh.

The same on both profiles: views in the local DuckLake or the BigQuery dataset, pages in a folder
or the dashboard bucket (the resources decide).

Not partitioned: one materialization renders every brand (each brand page from that brand's
rows only) and the overview. It runs on its own schedule a little after the hourly refresh,
so a slow brand never holds the others' pages back.
"""

import dagster as dg
import pandas as pd

from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.dashboard import Published, create_views, publish
from warroom_pipelines.partitions import BRANDS
from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.resources.warehouse import WarehouseResource


def _summary(published: Published) -> str:
    rows = [
        {
            "brand": s.brand + (" (demo)" if s.demo else ""),
            "status": s.status.label,
            "open incidents": s.open_incidents,
            "money at stake": round(s.money_at_stake, 2),
            "currency": s.currency,
            "spend today": None if s.spend_today is None else round(s.spend_today, 2),
            "spend 7 d": None if s.spend_week is None else round(s.spend_week, 2),
            "CPA 7 d": None if s.cpa_week is None else round(s.cpa_week, 2),
            "ROAS 7 d": None if s.roas_week is None else round(s.roas_week, 2),
        }
        for s in published.summaries
    ]
    if not rows:
        return "No brands with data yet."
    end = f"{published.end:%Y-%m-%d %H:00} UTC" if published.end is not None else ""
    return f"Data to {end}.\n\n" + pd.DataFrame(rows).to_markdown(index=False)


@dg.asset(
    deps=[unified_performance, dg.AssetKey("performance_anomalies")],
    group_name="command_center",
    kinds={"html", "duckdb"},
    description="The Command Center: an HTML page per brand and an overview of every brand, "
    "plus the analyst views daily_performance, campaign_performance and open_incidents.",
)
def command_center(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    command_center: CommandCenterResource,
) -> dg.MaterializeResult:
    store = warehouse.get()
    views = create_views(store)
    brands = context.instance.get_dynamic_partitions(BRANDS)
    published = publish(store, command_center.pages(), brands=brands)
    return dg.MaterializeResult(
        metadata={
            "overview": dg.MetadataValue.path(published.overview),
            "brand_pages": dg.MetadataValue.json(published.brand_pages),
            "brands": dg.MetadataValue.int(len(published.brand_pages)),
            "views": dg.MetadataValue.text(", ".join(views) or "none (no unified table yet)"),
            "summary": dg.MetadataValue.md(_summary(published)),
        }
    )


command_center_job = dg.define_asset_job(
    "command_center_refresh",
    selection=dg.AssetSelection.assets(command_center),
    description="Re-create the analyst views and re-render the dashboard pages.",
)

command_center_schedule = dg.ScheduleDefinition(
    name="command_center_hourly",
    job=command_center_job,
    cron_schedule="35 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Render the Command Center after the hourly refresh (which starts at :05).",
)
