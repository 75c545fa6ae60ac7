"""The heartbeat: an hourly refresh of today and yesterday, and a daily restatement.

Ad platforms keep revising recent days (late conversions, invalid-click refunds), so the
restatement re-materializes a trailing window every day.
"""

import os
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import dagster as dg

from warroom_pipelines.partitions import BRANDS, partition_key

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

DEFAULT_RESTATEMENT_DAYS = 7


def restatement_days() -> int:
    value = os.environ.get("WARROOM_RESTATEMENT_DAYS", str(DEFAULT_RESTATEMENT_DAYS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"WARROOM_RESTATEMENT_DAYS must be a positive integer, got {value!r}")
    return int(value)


def brand_day_requests(
    brands: Sequence[str], days: list[date], *, tick: str, reason: str
) -> list[dg.RunRequest]:
    """One run per brand-day (the tenant boundary), keyed so a re-evaluated tick adds nothing."""
    return [
        dg.RunRequest(
            run_key=f"{reason}:{tick}:{brand}:{day.isoformat()}",
            partition_key=partition_key(brand, day),
            tags={"warroom/brand": brand, "warroom/reason": reason},
        )
        for brand in brands
        for day in days
    ]


def build_schedules(job: "UnresolvedAssetJobDefinition") -> list[dg.ScheduleDefinition]:
    @dg.schedule(
        name="hourly_refresh",
        cron_schedule="5 * * * *",
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refresh today's and yesterday's metrics for every brand, hourly.",
    )
    def hourly_refresh(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        now = context.scheduled_execution_time
        brands = context.instance.get_dynamic_partitions(BRANDS)
        today = now.date()
        return brand_day_requests(
            brands,
            [today, today - timedelta(days=1)],
            tick=now.strftime("%Y-%m-%dT%H"),
            reason="hourly",
        )

    @dg.schedule(
        name="daily_restatement",
        cron_schedule="30 6 * * *",
        job=job,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Re-materialize the last N days (WARROOM_RESTATEMENT_DAYS, default 7), "
        "because ad platforms restate conversions.",
    )
    def daily_restatement(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        now = context.scheduled_execution_time
        brands = context.instance.get_dynamic_partitions(BRANDS)
        today = now.date()
        days = [today - timedelta(days=n) for n in range(2, restatement_days() + 2)]
        return brand_day_requests(brands, days, tick=now.strftime("%Y-%m-%d"), reason="restatement")

    return [hourly_refresh, daily_restatement]
