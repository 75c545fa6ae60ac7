"""The heartbeat: the `brand_refresh` job, its hourly refresh of today (and of yesterday while
its last hours settle), and a daily restatement.

Ad platforms keep revising recent days (late conversions, invalid-click refunds), so the
restatement re-materializes a trailing window every day.

Runs are requested per batch of brands (`WARROOM_BATCH_BRANDS`, default 25): a run costs
Dagster about a second and a half of bookkeeping whatever it holds (bench/RESULTS.md), so a run
per brand would triple the hour's work at 1,000 brands. A batch is a partition range, brands
(in registry order) x days, and each asset still treats each brand on its own. If a batch run
fails, `batch_retry` re-runs its brands one per run, so one brand's broken keys hold back no
other brand for longer than one retry.
"""

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import dagster as dg

from warroom_pipelines.assets.anomalies import performance_anomalies
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.channels import registry
from warroom_pipelines.partitions import (
    BRANDS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    invalid_brand_keys,
    partition_key,
)

DEMO_RESTATEMENT_DAYS = 7
DEFAULT_BATCH_BRANDS = 25
# Until this UTC hour the hourly refresh also re-reads yesterday: platforms report an hour's
# figures up to a few hours late. Later revisions are the daily restatement's.
YESTERDAY_SETTLES_HOUR = 6
BATCH_TAG = "warroom/batch"
BRAND_TAG = "warroom/brand"
REASON_TAG = "warroom/reason"

brand_assets = [*channel_assets, unified_performance, performance_anomalies]
# The partitioning (brand x date) is the assets': Dagster infers the job's from them.
brand_refresh_job = dg.define_asset_job(
    "brand_refresh",
    selection=dg.AssetSelection.assets(*brand_assets),
    description="Ingest, unify, check and score brand-days: one, or a batch of brands.",
    # Steps run in the run's own process: a process per step would import the definitions
    # (~2 s) six times a run and PyOD (~5 s) once more; batches already give the parallelism
    # (bench/RESULTS.md).
    executor_def=dg.in_process_executor,
)
# The ingestion asset of each source, and what is rebuilt from them.
SOURCES: dict[str, dg.AssetKey] = {asset.key.path[-1]: asset.key for asset in channel_assets}
DOWNSTREAM: list[dg.AssetKey] = [a.key for a in brand_assets if a not in channel_assets]


def batch_size(environ: Mapping[str, str] | None = None) -> int:
    """Brands per run, from WARROOM_BATCH_BRANDS (1 = a run per brand)."""
    value = (os.environ if environ is None else environ).get("WARROOM_BATCH_BRANDS", "").strip()
    if not value:
        return DEFAULT_BATCH_BRANDS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"WARROOM_BATCH_BRANDS must be a positive integer, got {value!r}")
    return int(value)


def restatement_windows(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """Days before yesterday that the restatement re-pulls, per source.

    Defaults: each platform's restatement window (its registry record) and 7 for the demo.
    WARROOM_RESTATEMENT_DAYS is one number for every source ("7") or source=days pairs
    ("meta_ads=28,demo=3") that override the defaults.
    """
    env = os.environ if environ is None else environ
    windows = {"demo": DEMO_RESTATEMENT_DAYS, **registry.restatement_days()}
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


def restatement_text() -> str:
    """The default windows as people read them: "Meta Ads 28, ..., demo 7"."""
    platforms = [f"{p.label} {p.restatement_days}" for p in registry.platforms()]
    return ", ".join([*platforms, f"demo {DEMO_RESTATEMENT_DAYS}"])


def restatement_spans(windows: Mapping[str, int]) -> list[tuple[list[str], int, int]]:
    """Runs of consecutive days-back (from 2, the day before yesterday) restating the same
    sources: (sources, nearest days back, farthest days back)."""
    spans: list[tuple[list[str], int, int]] = []
    for back in range(2, max(windows.values()) + 2):
        restated = sorted(s for s, days in windows.items() if days >= back - 1)
        if spans and spans[-1][0] == restated:
            spans[-1] = (restated, spans[-1][1], back)
        else:
            spans.append((restated, back, back))
    return spans


def brand_runs(brands: Sequence[str]) -> list[list[str]]:
    """The valid brand keys, in registry order, in runs that no invalid key interrupts.

    A batch is a range of the registry, so a batch spanning an invalid key (a partition added
    by hand in the Dagster UI, e.g. "Acme Outdoor") would run it too and fail every brand's
    steps: batches are cut within these runs instead.
    """
    invalid = set(invalid_brand_keys(brands))
    runs: list[list[str]] = [[]]
    for brand in brands:
        if brand in invalid:
            runs.append([])
        else:
            runs[-1].append(brand)
    return [run for run in runs if run]


def warn_invalid_brands(
    log: logging.Logger | logging.LoggerAdapter[logging.Logger], brands: Sequence[str], doing: str
) -> None:
    """Name the invalid brand partitions that `doing` skips."""
    invalid = invalid_brand_keys(brands)
    if invalid:
        log.warning(
            f"{doing}: skipping invalid brand partitions {', '.join(map(repr, invalid))} "
            "(a brand key is a lowercase slug: a-z, 0-9 and '-'); the brand_registry sensor "
            "removes them"
        )


def batch_requests(
    brands: Sequence[str],
    first: date,
    last: date,
    *,
    tick: str,
    reason: str,
    size: int,
    assets: Sequence[dg.AssetKey] | None = None,
) -> list[dg.RunRequest]:
    """Runs of `size` brands (in registry order) x the days first..last, keyed so that a
    re-evaluated tick adds nothing. A run of one brand-day is a plain partition run.
    Invalid brand keys are left out (`brand_runs`)."""
    requests = []
    chunks = [run[at : at + size] for run in brand_runs(brands) for at in range(0, len(run), size)]
    for chunk in chunks:
        days = f"{first.isoformat()}..{last.isoformat()}" if first != last else first.isoformat()
        who = f"{chunk[0]}..{chunk[-1]}" if len(chunk) > 1 else chunk[0]
        tags = {REASON_TAG: reason, BATCH_TAG if len(chunk) > 1 else BRAND_TAG: who}
        if len(chunk) == 1 and first == last:
            partition: dg.MultiPartitionKey | None = partition_key(chunk[0], first)
        else:
            partition = None
            tags[RANGE_START_TAG] = str(partition_key(chunk[0], first))
            tags[RANGE_END_TAG] = str(partition_key(chunk[-1], last))
        requests.append(
            dg.RunRequest(
                run_key=f"{reason}:{tick}:{who}:{days}",
                partition_key=partition,
                tags=tags,
                asset_selection=list(assets) if assets is not None else None,
            )
        )
    return requests


@dg.schedule(
    name="hourly_refresh",
    cron_schedule="5 * * * *",
    job=brand_refresh_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refresh today's metrics for every brand, hourly, in batches of brands "
    f"(and yesterday's until {YESTERDAY_SETTLES_HOUR:02d}:00 UTC, while its last hours "
    "settle).",
)
def hourly_refresh(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    now = context.scheduled_execution_time
    brands = context.instance.get_dynamic_partitions(BRANDS)
    warn_invalid_brands(context.log, brands, "hourly_refresh")
    today = now.date()
    first = today - timedelta(days=1) if now.hour < YESTERDAY_SETTLES_HOUR else today
    return batch_requests(
        brands,
        first,
        today,
        tick=now.strftime("%Y-%m-%dT%H"),
        reason="hourly",
        size=batch_size(),
    )


@dg.schedule(
    name="daily_restatement",
    cron_schedule="30 6 * * *",
    job=brand_refresh_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Re-pull the days before yesterday that each ad platform still revises "
    f"({restatement_text()}; WARROOM_RESTATEMENT_DAYS overrides) and rebuild what depends "
    "on them.",
)
def daily_restatement(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    now = context.scheduled_execution_time
    brands = context.instance.get_dynamic_partitions(BRANDS)
    warn_invalid_brands(context.log, brands, "daily_restatement")
    requests: list[dg.RunRequest] = []
    # Days restated by the same sources make one range: e.g. 2-8 days back all sources,
    # 9-15 Meta and Google, 16-29 Meta only.
    for restated, back_from, back_to in restatement_spans(restatement_windows()):
        requests += batch_requests(
            brands,
            now.date() - timedelta(days=back_to),
            now.date() - timedelta(days=back_from),
            tick=now.strftime("%Y-%m-%d"),
            reason="restatement",
            size=batch_size(),
            assets=[*(SOURCES[s] for s in restated), *DOWNSTREAM],
        )
    return requests
