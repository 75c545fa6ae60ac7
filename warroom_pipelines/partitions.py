"""Brands x date: the tenant boundary of every War Room asset.

A run touches exactly one brand. The date dimension's start is configurable
(`WARROOM_START_DATE`) because Dagster stays healthy up to about 100,000 partitions per
asset: 1,000 brands x 365 days is past that, so large deployments start later.
"""

from __future__ import annotations

import os
from datetime import date
from typing import cast

import dagster as dg

# Brand keys are checked without Dagster so that the vault (plain Python) shares the rule.
from warroom_pipelines.brand_keys import InvalidBrandKey as InvalidBrandKey
from warroom_pipelines.brand_keys import validate_brand_key as validate_brand_key

BRAND_DIMENSION = "brand"
DATE_DIMENSION = "date"
DEFAULT_START_DATE = "2026-01-01"


def start_date() -> str:
    """The first day of the date dimension (YYYY-MM-DD), from WARROOM_START_DATE."""
    value = os.environ.get("WARROOM_START_DATE", DEFAULT_START_DATE)
    try:
        date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"WARROOM_START_DATE must be YYYY-MM-DD, got {value!r}") from exc
    return value


BRANDS = "brands"  # the dynamic partitions that are the brand registry
brands_partitions = dg.DynamicPartitionsDefinition(name=BRANDS)
# end_offset=1: today is a partition too, so the hourly refresh can fill it as hours end.
dates_partitions = dg.DailyPartitionsDefinition(
    start_date=start_date(), timezone="UTC", end_offset=1
)
brand_date_partitions = dg.MultiPartitionsDefinition(
    {BRAND_DIMENSION: brands_partitions, DATE_DIMENSION: dates_partitions}
)


def partition_key(brand: str, day: str | date) -> dg.MultiPartitionKey:
    """The multi-partition key of one brand-day."""
    return dg.MultiPartitionKey(
        {BRAND_DIMENSION: validate_brand_key(brand), DATE_DIMENSION: str(day)}
    )


def brand_and_date(context: dg.AssetExecutionContext | dg.OpExecutionContext) -> tuple[str, date]:
    """The run's brand and day, from its multi-partition key."""
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        key = brand_date_partitions.get_partition_key_from_str(key)
    keys = cast(dg.MultiPartitionKey, key).keys_by_dimension
    return keys[BRAND_DIMENSION], date.fromisoformat(keys[DATE_DIMENSION])
