"""One ingestion asset per source, each a brand-day slice of `channel_metrics.<source>`."""

import dagster as dg
import pandas as pd

from warroom_pipelines.partitions import brand_and_date, brand_date_partitions
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.schema import empty_raw_frame, validate_raw

INGESTION_GROUP = "ingestion"


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


channel_assets = [demo_channel_metrics]
