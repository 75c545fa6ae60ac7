"""Brands x date: the tenant boundary of every War Room asset.

A partition is one brand-day. A run covers one brand-day, or a batch of them (a range of
brands x a range of days, as the schedules request it) so that 1,000 brands do not pay
Dagster's per-run cost 1,000 times; assets handle each brand of a batch on its own, with its
own keys and its own slice of every table. The date dimension's start is configurable
(`WARROOM_START_DATE`) because Dagster stays healthy up to about 100,000 partitions per
asset: 1,000 brands x 365 days is past that, so large deployments start later.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import cast

import dagster as dg

# Brand keys are checked without Dagster so that the vault (plain Python) shares the rule.
from warroom_pipelines.brand_keys import BRANDS as BRANDS
from warroom_pipelines.brand_keys import DEMO_REGISTRY as DEMO_REGISTRY
from warroom_pipelines.brand_keys import InvalidBrandKey as InvalidBrandKey
from warroom_pipelines.brand_keys import invalid_brand_keys as invalid_brand_keys
from warroom_pipelines.brand_keys import validate_brand_key as validate_brand_key

BRAND_DIMENSION = "brand"
DATE_DIMENSION = "date"
DEFAULT_START_DATE = "2026-01-01"
# The run tags Dagster reads a run's partition and partition range from: a run of one
# partition, or a single run over a range (what the schedules request for a batch, as Dagster's
# maintainers show in github.com/dagster-io/dagster/discussions/11653). Dagster does not export
# these names; tests/test_partitions.py checks that Dagster reads them.
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def start_date() -> str:
    """The first day of the date dimension (YYYY-MM-DD), from WARROOM_START_DATE."""
    value = os.environ.get("WARROOM_START_DATE", DEFAULT_START_DATE)
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"WARROOM_START_DATE must be YYYY-MM-DD, got {value!r}") from exc
    return value


brands_partitions = dg.DynamicPartitionsDefinition(name=BRANDS)
# end_offset=1: today is a partition too, so the hourly refresh can fill it as hours end.
dates_partitions = dg.DailyPartitionsDefinition(
    start_date=start_date(), timezone="UTC", end_offset=1
)
brand_date_partitions = dg.MultiPartitionsDefinition(
    {BRAND_DIMENSION: brands_partitions, DATE_DIMENSION: dates_partitions}
)


def demo_brand_keys(instance: dg.DagsterInstance) -> set[str]:
    """The brands registered as demo brands (`warroom brands add --demo`, `warroom demo`)."""
    return set(instance.get_dynamic_partitions(DEMO_REGISTRY))


def partition_key(brand: str, day: str | date) -> dg.MultiPartitionKey:
    """The multi-partition key of one brand-day."""
    return dg.MultiPartitionKey(
        {BRAND_DIMENSION: validate_brand_key(brand), DATE_DIMENSION: str(day)}
    )


def brand_and_day(key: str) -> tuple[str, date]:
    """The brand and day of one multi-partition key ("acme|2026-11-29")."""
    parsed = brand_date_partitions.get_partition_key_from_str(key)
    dims = cast(dg.MultiPartitionKey, parsed).keys_by_dimension
    return dims[BRAND_DIMENSION], date.fromisoformat(dims[DATE_DIMENSION])


def brand_dates(keys: Iterable[str]) -> dict[str, list[date]]:
    """The days of each brand among multi-partition keys, brands in the order given."""
    by_brand: dict[str, list[date]] = defaultdict(list)
    for key in keys:
        brand, day = brand_and_day(key)
        by_brand[brand].append(day)
    return {brand: sorted(days) for brand, days in by_brand.items()}


def run_brand_dates(
    context: dg.AssetExecutionContext | dg.OpExecutionContext,
) -> dict[str, list[date]]:
    """The brand-days of this run: one for a single partition, many for a batch."""
    return brand_dates(context.partition_keys)


def run_tags_brand_dates(
    tags: Mapping[str, str], instance: dg.DagsterInstance
) -> dict[str, list[date]]:
    """The brand-days of a run from its tags, for one partition (`dagster/partition`) or a
    range (batch runs and backfills carry only the range's start and end keys); empty for a
    run without partitions."""
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        keys = brand_date_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(start, end), dynamic_partitions_store=instance
        )
        return brand_dates(keys)
    key = tags.get(PARTITION_TAG)
    return brand_dates([key]) if key else {}
