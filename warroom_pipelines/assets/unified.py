"""The unified performance table: every source of a brand-day, in one shape.

In a batch run each brand's rows are finalized on their own (errors name the brand), and the
checks judge every brand-day of the batch: a check fails if any brand-day fails it, and its
metadata names those brand-days. A source whose read failed still hands over its last good
rows (marked stale in its channel health), so the brand's other channels publish at once and
the failed one is filled in, with the whole brand-day, when it recovers.
"""

from collections.abc import Iterator
from datetime import date

import dagster as dg
import pandas as pd

from warroom_pipelines import clock
from warroom_pipelines.assets.channels import WAREHOUSE_POOL, channel_assets, health_table
from warroom_pipelines.assets.metadata import add_brand_day_metadata, batch_summary
from warroom_pipelines.partitions import brand_date_partitions, run_brand_dates
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.schema import CheckOutcome, empty_frame, finalize, quality_checks
from warroom_pipelines.warehouse.tables import UNIFIED

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
        "Every account-hour the sources reported (hours with delivery) is stored.",
    ),
}
_CHANNEL_INPUTS = {asset.key.path[-1]: dg.AssetIn(key=asset.key) for asset in channel_assets}
SOURCES = tuple(_CHANNEL_INPUTS)  # demo and the platforms: each keeps its channel health


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
    brand_days = run_brand_dates(context)
    ingested_at = clock.now()
    parts = [frame for frame in sources.values() if not frame.empty]
    raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["brand"])
    tables = [
        finalize(rows, brand=str(brand), ingested_at=ingested_at)
        for brand, rows in raw.groupby("brand", sort=False)
    ]
    table = pd.concat(tables, ignore_index=True) if tables else empty_frame()
    add_brand_day_metadata(context, table, brand_days)
    yield dg.Output(table, metadata=batch_summary(table, brand_days))

    # The checks read back what the I/O manager stored, not the frame we meant to store, and
    # judge completeness against what each source reported (its channel health).
    store = warehouse.get()
    stored = store.read_slices(UNIFIED, brand_days)
    health = pd.concat(
        [store.read_slices(health_table(source), brand_days) for source in SOURCES],
        ignore_index=True,
    )
    outcomes: dict[str, list[tuple[str, CheckOutcome]]] = {name: [] for name in _CHECKS}
    for brand, days in brand_days.items():
        for day in days:
            reported = {
                str(row["channel"]): int(row["reported_hours"])
                for row in _brand_day_rows(health, brand, day).to_dict("records")
                if not pd.isna(row["reported_hours"])
            }
            own = _brand_day_rows(stored, brand, day)
            for name, outcome in quality_checks(own, reported=reported).items():
                outcomes[name].append((f"{brand} {day}", outcome))
    for name, results in outcomes.items():
        failed = [(where, outcome) for where, outcome in results if not outcome.passed]
        yield dg.AssetCheckResult(
            check_name=name,
            passed=not failed,
            severity=_CHECKS[name][0],
            metadata={
                "brand_days": len(results),
                "failures": sum(outcome.failures for _, outcome in results),
                "failed_brand_days": len(failed),
                "detail": "; ".join(f"{where}: {o.detail}" for where, o in failed[:20])
                or (results[0][1].detail if len(results) == 1 else "all brand-days pass"),
            },
        )


def _brand_day_rows(stored: pd.DataFrame, brand: str, day: date) -> pd.DataFrame:
    if stored.empty:
        return stored
    return stored.loc[(stored["brand"] == brand) & (stored["date"] == pd.Timestamp(day))]
