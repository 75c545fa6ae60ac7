"""One ingestion asset per source, each a brand-day slice of `channel_metrics.<source>`.

A run may cover a batch of brand-days: each brand is read on its own (with its own keys for
the ad platforms), and the batch's slices are stored together.
"""

import dagster as dg
import pandas as pd

from warroom_pipelines.assets.metadata import add_brand_day_metadata, batch_summary
from warroom_pipelines.partitions import brand_date_partitions, partition_key, run_brand_dates
from warroom_pipelines.resources.ad_platforms import PLATFORMS, AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.schema import empty_raw_frame, validate_raw

INGESTION_GROUP = "ingestion"
# Steps that write the warehouse share this pool: one commit at a time, none retried.
WAREHOUSE_POOL = "warehouse"


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
    frames, not_connected = [], []
    brand_days = run_brand_dates(context)
    for brand, days in brand_days.items():
        if not demo_source.serves(brand):
            not_connected.append(brand)
            continue
        for day in days:
            frame = demo_source.metrics(brand, day)
            validate_raw(frame, brand=brand, channel="demo")
            frames.append(frame)
    combined = _combined(frames)
    context.add_output_metadata(
        {**_statuses(len(brand_days), not_connected), **batch_summary(combined, brand_days)}
    )
    add_brand_day_metadata(context, combined, brand_days)
    return combined


def _combined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if frames else empty_raw_frame()


def _statuses(brands: int, not_connected: list[str]) -> dict[str, dg.MetadataValue]:
    """Which brands of the run this source does not serve (their slices are stored empty)."""
    if not not_connected:
        status = "ok"
    else:
        status = "not connected" if len(not_connected) == brands else "partly connected"
    return {
        "status": dg.MetadataValue.text(status),
        "not_connected": dg.MetadataValue.int(len(not_connected)),
        "not_connected_brands": dg.MetadataValue.text(", ".join(not_connected) or "none"),
    }


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
        frames, not_connected = [], []
        api_calls, retries, waited = 0, 0, 0.0
        brand_days = run_brand_dates(context)
        for brand, days in brand_days.items():
            keys = vault.for_brand(brand)  # this brand's keys only, dropped with the loop
            for day in days:
                fetch = ad_platforms.fetch(channel, keys, day)
                if fetch is None:
                    not_connected.append(brand)
                    break
                validate_raw(fetch.frame, brand=brand, channel=channel)
                summary = fetch.summary()
                api_calls += summary["api_calls"]
                retries += summary["retries"]
                waited += summary["rate_limit_wait_s"]
                context.add_asset_metadata(
                    {
                        "api_calls": summary["api_calls"],
                        "retries": summary["retries"],
                        "rate_limit_wait_s": round(summary["rate_limit_wait_s"], 3),
                        "per_account": dg.MetadataValue.json(summary["accounts"]),
                    },
                    partition_key=str(partition_key(brand, day)),
                )
                frames.append(fetch.frame)
        combined = _combined(frames)
        context.add_output_metadata(
            {
                **_statuses(len(brand_days), not_connected),
                **batch_summary(combined, brand_days),
                "batch_api_calls": api_calls,
                "batch_retries": retries,
                "batch_rate_limit_wait_s": round(waited, 3),
            }
        )
        add_brand_day_metadata(context, combined, brand_days)
        return combined

    return platform_metrics


channel_assets = [demo_channel_metrics, *(platform_asset(c) for c in PLATFORMS)]
