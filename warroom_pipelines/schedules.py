"""The heartbeat: an hourly refresh of today and yesterday, and a daily restatement.

Ad platforms keep revising recent days (late conversions, invalid-click refunds), so the
restatement re-materializes a trailing window every day.
"""

import os
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import dagster as dg

from warroom_pipelines.channels import RESTATEMENT_DAYS
from warroom_pipelines.partitions import BRANDS, partition_key

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import (
        UnresolvedAssetJobDefinition,
    )

DEMO_RESTATEMENT_DAYS = 7


def restatement_windows(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Days before yesterday that the restatement re-pulls, per source.

    Defaults: each platform's restatement window (RESTATEMENT_DAYS) and 7 for the demo.
    WARROOM_RESTATEMENT_DAYS is one number for every source ("7") or source=days pairs
    ("meta_ads=28,demo=3") that override the defaults.
    """
    env = os.environ if environ is None else environ
    windows = {"demo": DEMO_RESTATEMENT_DAYS, **RESTATEMENT_DAYS}
    value = env.get("WARROOM_RESTATEMENT_DAYS", "").strip()
    if not value:
        return windows
    if value.isdigit():
        pairs = [(source, value) for source in windows]
    else:
        pairs = [p.partition("=")[::2] for p in value.split(",")]
    for source, days in pairs:
        if source.strip() not in windows or not days.strip().isdigit() or int(days) < 1:
            raise ValueError(
                "WARROOM_RESTATEMENT_DAYS must be a positive integer or source=days pairs "
                f"with sources from {sorted(windows)}, got {value!r}"
            )
        windows[source.strip()] = int(days)
    return windows


def brand_day_requests(
    brands: Sequence[str],
    days: list[date],
    *,
    tick: str,
    reason: str,
    assets: Sequence[dg.AssetKey] | None = None,
) -> list[dg.RunRequest]:
    """One run per brand-day (the tenant boundary), keyed so a re-evaluated tick adds nothing."""
    return [
        dg.RunRequest(
            run_key=f"{reason}:{tick}:{brand}:{day.isoformat()}",
            partition_key=partition_key(brand, day),
            tags={"warroom/brand": brand, "warroom/reason": reason},
            asset_selection=list(assets) if assets is not None else None,
        )
        for brand in brands
        for day in days
    ]


def build_schedules(
    job: "UnresolvedAssetJobDefinition",
    sources: Mapping[str, dg.AssetKey],
    downstream: Sequence[dg.AssetKey],
) -> list[dg.ScheduleDefinition]:
    """`sources`: the ingestion asset of each source; `downstream`: what is rebuilt from them."""

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
        description="Re-pull the days before yesterday that each ad platform still revises "
        "(Meta 28, Google 14, TikTok 7, demo 7; WARROOM_RESTATEMENT_DAYS overrides) and rebuild "
        "what depends on them.",
    )
    def daily_restatement(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        now = context.scheduled_execution_time
        brands = context.instance.get_dynamic_partitions(BRANDS)
        windows = restatement_windows()
        requests: list[dg.RunRequest] = []
        for back in range(2, max(windows.values()) + 2):
            restated = [sources[s] for s, days in windows.items() if days >= back - 1]
            requests += brand_day_requests(
                brands,
                [now.date() - timedelta(days=back)],
                tick=now.strftime("%Y-%m-%d"),
                reason="restatement",
                assets=[*restated, *downstream],
            )
        return requests

    return [hourly_refresh, daily_restatement]
