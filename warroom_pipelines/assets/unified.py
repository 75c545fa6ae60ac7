"""The unified performance table: every source of a brand-day, in one shape."""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from warroom_pipelines.assets.channels import WAREHOUSE_POOL, channel_assets, channel_summary
from warroom_pipelines.channels.clock import utc_day_bounds
from warroom_pipelines.partitions import brand_and_date, brand_date_partitions
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.schema import finalize, quality_checks
from warroom_pipelines.warehouse import TableRef

UNIFIED_TABLE = TableRef("main", "unified_performance")
_CHECKS: dict[str, tuple[dg.AssetCheckSeverity, str]] = {
    "unique_key": (
        dg.AssetCheckSeverity.ERROR,
        "One row per brand, channel, account, campaign and hour.",
    ),
    "non_negative": (
        dg.AssetCheckSeverity.ERROR,
        "Impressions, clicks, spend, conversions and value are not negative.",
    ),
    "clicks_within_impressions": (
        dg.AssetCheckSeverity.ERROR,
        "No row has more clicks than impressions.",
    ),
    "hours_complete": (
        dg.AssetCheckSeverity.WARN,
        "Every account that reports the day reports each of its hours so far.",
    ),
}
_CHANNEL_INPUTS = {asset.key.path[-1]: dg.AssetIn(key=asset.key) for asset in channel_assets}


@dg.asset(
    partitions_def=brand_date_partitions,
    ins=_CHANNEL_INPUTS,
    group_name="performance",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb", "pandas"},
    metadata={"partition_expr": {"brand": "brand", "date": "date"}},
    check_specs=[
        dg.AssetCheckSpec(name, asset="unified_performance", description=text, blocking=False)
        for name, (_, text) in _CHECKS.items()
    ],
    description="One row per brand x channel x ad account x campaign x UTC hour, with derived "
    "ctr, cpc, cpm, cpa, cvr and roas (null where the denominator is 0).",
)
def unified_performance(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, **sources: pd.DataFrame
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    brand, day = brand_and_date(context)
    ingested_at = datetime.now(UTC)
    parts = [frame for frame in sources.values() if not frame.empty]
    raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    table = finalize(raw, brand=brand, ingested_at=ingested_at)
    yield dg.Output(table, metadata=channel_summary(table))

    # The checks read back what the I/O manager stored, not the frame we meant to store.
    stored = warehouse.get().read_slice(UNIFIED_TABLE, brand=brand, start=day, end=day)
    now_hour = pd.Timestamp(ingested_at).floor("h")
    complete_before = min(utc_day_bounds(day)[1], now_hour)
    for name, outcome in quality_checks(stored, complete_before=complete_before).items():
        yield dg.AssetCheckResult(
            check_name=name,
            passed=outcome.passed,
            severity=_CHECKS[name][0],
            metadata={"failures": outcome.failures, "detail": outcome.detail},
        )
