"""campaign_budgets: each campaign's daily budget per brand-day, for the Sentry's pacing.

Demo brands get the demo source's own budgets. Connected brands get their platforms'
campaign settings, which say what a budget is now, never what it was (edits are not
versioned in the read APIs): they are read for today's partition only, and a past day keeps
the budgets stored while it was today. A platform whose read fails keeps that brand-day's
stored budgets and is logged; it fails neither the brand's other platforms nor other brands
(the Sentry infers the caps it lacks from the campaigns' own spend).
"""

import dagster as dg
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.assets.channels import INGESTION_GROUP, WAREHOUSE_POOL, of_brand_day
from warroom_pipelines.channels import registry
from warroom_pipelines.channels.budgets import BUDGET_COLUMNS, budget_frame, typed_budgets
from warroom_pipelines.channels.health import READ_ERRORS, failure_reason
from warroom_pipelines.partitions import brand_date_partitions, demo_brand_keys, run_brand_dates
from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.warehouse.tables import BUDGETS


@dg.asset(
    partitions_def=brand_date_partitions,
    group_name=INGESTION_GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    metadata={"partition_expr": {"brand": "brand", "date": "date"}},
    description="One row per campaign and day with a known daily budget (account currency): "
    "the demo source's, or the platforms' campaign settings read on the day.",
)
def campaign_budgets(
    context: dg.AssetExecutionContext,
    demo_source: DemoSourceResource,
    ad_platforms: AdPlatformsResource,
    vault: VaultResource,
    warehouse: WarehouseResource,
) -> pd.DataFrame:
    brand_days = run_brand_dates(context)
    demo = demo_brand_keys(context.instance)
    today = clock.today()
    stored = warehouse.get().read_slices(BUDGETS, brand_days)
    if stored.empty:
        stored = typed_budgets(pd.DataFrame(columns=BUDGET_COLUMNS))
    frames: list[pd.DataFrame] = []
    failed: list[str] = []
    for brand, days in brand_days.items():
        if demo_source.serves(brand, demo):
            frames += [demo_source.budgets(brand, day) for day in days]
            continue
        for day in days:
            kept = typed_budgets(of_brand_day(stored, brand, day))
            if day != today:
                frames.append(kept)
                continue
            try:
                keys = vault.for_brand(brand)
            except READ_ERRORS as exc:
                failed.append(f"{brand}: {failure_reason(exc, 'the ad platforms')}")
                frames.append(kept)
                continue
            for channel in registry.names():
                try:
                    read = ad_platforms.budgets(channel, keys)
                except READ_ERRORS as exc:
                    failed.append(f"{brand} {channel}: {failure_reason(exc, channel)}")
                    frames.append(kept.loc[kept["channel"] == channel])
                    continue
                if read is not None:
                    frames.append(budget_frame(brand, channel, day, read))
    if failed:
        context.log.warning(
            f"campaign budgets kept as stored for {len(failed)} read(s): " + "; ".join(failed[:10])
        )
    parts = [f for f in frames if len(f)]
    budgets = typed_budgets(
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BUDGET_COLUMNS)
    )
    context.add_output_metadata({"batch_budgets": len(budgets), "batch_failed_reads": len(failed)})
    return budgets
