"""One ingestion asset per source, each a brand-day slice of `channel_metrics.<source>`."""

import dagster as dg
import pandas as pd

from warroom_pipelines.partitions import brand_and_date, brand_date_partitions
from warroom_pipelines.resources.ad_platforms import PLATFORMS, AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.schema import empty_raw_frame, validate_raw

INGESTION_GROUP = "ingestion"
# DuckDB allows one writer process: steps that write the warehouse share this pool.
WAREHOUSE_POOL = "warehouse"


def channel_summary(frame: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    """Rows, spend and conversions per channel and account, for the Dagster UI."""
    if frame.empty:
        return {"rows": dg.MetadataValue.int(0)}
    per_account = (
        frame.groupby(["channel", "account_id", "currency"])
        .agg(
            rows=("campaign_id", "size"),
            campaigns=("campaign_id", "nunique"),
            spend=("spend", "sum"),
            conversions=("conversions", "sum"),
        )
        .reset_index()
    )
    per_account["spend"] = per_account["spend"].round(2)
    return {
        "rows": dg.MetadataValue.int(len(frame)),
        "spend": dg.MetadataValue.float(round(float(frame["spend"].sum()), 2)),
        "accounts": dg.MetadataValue.md(per_account.to_markdown(index=False)),
    }


@dg.asset(
    key=["channel_metrics", "demo"],
    partitions_def=brand_date_partitions,
    group_name=INGESTION_GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description="Campaign x hour metrics from the demo source (a realistic, deterministic "
    "stand-in for Meta, Google and TikTok) for brands it serves.",
)
def demo_channel_metrics(
    context: dg.AssetExecutionContext, demo_source: DemoSourceResource
) -> pd.DataFrame:
    brand, day = brand_and_date(context)
    if not demo_source.serves(brand):
        context.add_output_metadata({"status": "not connected", "rows": 0})
        return empty_raw_frame()
    frame = demo_source.metrics(brand, day)
    validate_raw(frame, brand=brand, channel="demo")
    context.add_output_metadata({"status": "ok", **channel_summary(frame)})
    return frame


def platform_asset(channel: str) -> dg.AssetsDefinition:
    """The brand's campaign-hours from one ad platform, read with the brand's own keys."""

    @dg.asset(
        key=["channel_metrics", channel],
        partitions_def=brand_date_partitions,
        group_name=INGESTION_GROUP,
        # One pool per platform keeps runs of many brands inside its rate limits together.
        pool=channel,
        kinds={"python", "api"},
        description=f"Campaign x hour metrics from {channel} for brands that connected it "
        "(an empty partition, marked 'not connected', for the others).",
    )
    def platform_metrics(
        context: dg.AssetExecutionContext, ad_platforms: AdPlatformsResource, vault: VaultResource
    ) -> pd.DataFrame:
        brand, day = brand_and_date(context)
        fetch = ad_platforms.fetch(channel, vault.for_brand(brand), day)
        if fetch is None:
            context.add_output_metadata({"status": "not connected", "rows": 0})
            return empty_raw_frame()
        validate_raw(fetch.frame, brand=brand, channel=channel)
        summary = fetch.summary()
        context.add_output_metadata(
            {
                "status": "ok",
                **channel_summary(fetch.frame),
                "api_calls": summary["api_calls"],
                "retries": summary["retries"],
                "rate_limit_wait_s": summary["rate_limit_wait_s"],
                "per_account": dg.MetadataValue.json(summary["accounts"]),
            }
        )
        return fetch.frame

    return platform_metrics


channel_assets = [demo_channel_metrics, *(platform_asset(c) for c in PLATFORMS)]
