"""One ingestion asset per source, each a brand-day slice of `channel_metrics.<source>`.

A run may cover a batch of brand-days: each brand is read on its own (with its own keys for
the ad platforms), and the batch's slices are stored together. A brand is a demo brand (the
demo source serves it) or a connected brand (the platforms it has keys for serve it), never
both. Each source also stores its channel health per brand-day (`channel_health.<source>`).
"""

from datetime import date
from typing import Any

import dagster as dg
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.assets.metadata import add_brand_day_metadata, batch_summary
from warroom_pipelines.channels import registry
from warroom_pipelines.channels.health import (
    DEMO,
    NO_KEYS,
    OK,
    READ_ERRORS,
    after_failure,
    failure_reason,
    health_frame,
    health_row,
    no_keys_reason,
)
from warroom_pipelines.partitions import (
    brand_date_partitions,
    demo_brand_keys,
    partition_key,
    run_brand_dates,
)
from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.schema import RAW_COLUMNS, account_hours, empty_raw_frame, validate_raw
from warroom_pipelines.warehouse import TableRef

INGESTION_GROUP = "ingestion"
# Steps that write the warehouse share this pool: one commit at a time, none retried.
WAREHOUSE_POOL = "warehouse"
HEALTH_SCHEMA = "channel_health"  # channel_health.<source>: one row per brand-day


@dg.asset(
    key=["channel_metrics", "demo"],
    partitions_def=brand_date_partitions,
    group_name=INGESTION_GROUP,
    pool=WAREHOUSE_POOL,
    kinds={"python", "duckdb"},
    description="Campaign x hour metrics from the demo source (a realistic, deterministic "
    "stand-in for Meta, Google and TikTok) for demo brands only.",
)
def demo_channel_metrics(
    context: dg.AssetExecutionContext,
    demo_source: DemoSourceResource,
    warehouse: WarehouseResource,
) -> pd.DataFrame:
    frames, health, not_connected = [], [], []
    brand_days = run_brand_dates(context)
    demo = demo_brand_keys(context.instance)
    checked_at = clock.now_timestamp()
    for brand, days in brand_days.items():
        if not demo_source.serves(brand, demo):
            not_connected.append(brand)  # a connected brand: the demo source never writes
            continue
        for day in days:
            frame = demo_source.metrics(brand, day)
            validate_raw(frame, brand=brand, channel="demo")
            frames.append(frame)
            health.append(_ok(brand, day, DEMO, frame, checked_at))
    combined = _combined(frames)
    store_health(warehouse, DEMO, health, brand_days)
    context.add_output_metadata(
        {**_statuses(len(brand_days), not_connected), **batch_summary(combined, brand_days)}
    )
    add_brand_day_metadata(context, combined, brand_days)
    return combined


def health_table(channel: str) -> TableRef:
    return TableRef(HEALTH_SCHEMA, channel)


def store_health(
    warehouse: WarehouseResource,
    channel: str,
    rows: list[dict[str, Any]],
    brand_days: dict[str, list[date]],
) -> None:
    """Replace the run's brand-days of `channel_health.<channel>` (whole, like the metrics)."""
    warehouse.get().replace_slices(health_table(channel), health_frame(rows), brand_days)


def _ok(
    brand: str, day: date, channel: str, frame: pd.DataFrame, checked_at: pd.Timestamp
) -> dict[str, Any]:
    return health_row(
        brand,
        day,
        channel,
        OK,
        checked_at=checked_at,
        last_success=checked_at,
        hours=account_hours(frame),
    )


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
    """The brand's campaign-hours from one ad platform, read with the brand's own keys.

    A brand-day whose read fails keeps its last good rows (the source is marked stale in the
    channel health, or failed when there were none): the step itself succeeds, so that one
    brand's broken platform never fails the other brands of the batch, nor holds back the
    brand's other channels.
    """

    @dg.asset(
        key=["channel_metrics", channel],
        partitions_def=brand_date_partitions,
        group_name=INGESTION_GROUP,
        # One pool per platform keeps runs of many brands inside its rate limits together.
        pool=channel,
        kinds={"python", "api"},
        description=f"Campaign x hour metrics from {channel} for connected brands that have "
        "its keys (an empty partition, marked 'not connected', for the others).",
    )
    def platform_metrics(
        context: dg.AssetExecutionContext,
        ad_platforms: AdPlatformsResource,
        vault: VaultResource,
        demo_source: DemoSourceResource,
        warehouse: WarehouseResource,
    ) -> pd.DataFrame:
        frames, health, not_connected = [], [], []
        failed: dict[tuple[str, date], str] = {}
        api_calls, retries, waited = 0, 0, 0.0
        brand_days = run_brand_dates(context)
        demo = demo_brand_keys(context.instance)
        checked_at = clock.now_timestamp()
        for brand, days in brand_days.items():
            if demo_source.serves(brand, demo):
                continue  # a demo brand: the demo source alone serves it
            try:
                keys = vault.for_brand(brand)  # this brand's keys only, dropped with the loop
            except READ_ERRORS as exc:
                failed.update({(brand, day): failure_reason(exc, channel) for day in days})
                continue
            for day in days:
                try:
                    fetch = ad_platforms.fetch(channel, keys, day)
                    if fetch is not None:
                        validate_raw(fetch.frame, brand=brand, channel=channel)
                except READ_ERRORS as exc:
                    failed[(brand, day)] = failure_reason(exc, channel)
                    continue
                if fetch is None:
                    not_connected.append(brand)
                    reason = no_keys_reason(channel)
                    health += [
                        health_row(brand, d, channel, NO_KEYS, checked_at=checked_at, reason=reason)
                        for d in days
                    ]
                    break
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
                health.append(_ok(brand, day, channel, fetch.frame, checked_at))
        kept, kept_health = _keep_last_good(warehouse, channel, failed, checked_at)
        combined = _combined([f for f in [*frames, kept] if len(f)])
        store_health(warehouse, channel, health + kept_health, brand_days)
        if failed:
            context.log.warning(
                f"{channel}: {len(failed)} brand-day(s) could not be read; their last good "
                "rows are kept: "
                + "; ".join(f"{b} {d}: {r}" for (b, d), r in sorted(failed.items())[:10])
            )
        context.add_output_metadata(
            {
                **_statuses(len(brand_days), not_connected),
                **batch_summary(combined, brand_days),
                "batch_api_calls": api_calls,
                "batch_retries": retries,
                "batch_rate_limit_wait_s": round(waited, 3),
                "batch_failed_brand_days": len(failed),
            }
        )
        add_brand_day_metadata(context, combined, brand_days)
        return combined

    return platform_metrics


def _keep_last_good(
    warehouse: WarehouseResource,
    channel: str,
    failed: dict[tuple[str, date], str],
    checked_at: pd.Timestamp,
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The stored rows of the failed brand-days, to be written back as they were, and the
    health rows that say they are stale (or failed, when there were none)."""
    if not failed:
        return empty_raw_frame(), []
    slices: dict[str, list[date]] = {}
    for brand, day in failed:
        slices.setdefault(brand, []).append(day)
    store = warehouse.get()
    rows = store.read_slices(TableRef("channel_metrics", channel), slices)
    previous = store.read_slices(health_table(channel), slices)
    health, frames = [], []
    for (brand, day), reason in failed.items():
        mine = _of_brand_day(rows, brand, day)
        before = _of_brand_day(previous, brand, day).to_dict("records")
        frames.append(mine[list(RAW_COLUMNS)] if len(mine) else empty_raw_frame())
        health.append(
            after_failure(
                brand,
                day,
                channel,
                reason,
                before[0] if before else None,
                kept_rows=len(mine),
                checked_at=checked_at,
            )
        )
    return _combined(frames), health


def _of_brand_day(frame: pd.DataFrame, brand: str, day: date) -> pd.DataFrame:
    if frame.empty:
        return frame
    return frame.loc[(frame["brand"] == brand) & (frame["date"] == pd.Timestamp(day))]


channel_assets = [demo_channel_metrics, *(platform_asset(c) for c in registry.names())]
