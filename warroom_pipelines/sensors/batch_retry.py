"""When a batch run fails, its brands run again one per run.

A batch shares its steps: one brand's expired token or malformed report fails the step for
every brand in it. Re-running each brand on its own refreshes the healthy ones within minutes
and leaves the broken brand failing alone, with its own failure notice. A run of one brand is
never retried here (Dagster's run retries are the tool for transient failures).
"""

import logging

import dagster as dg

from warroom_pipelines.partitions import run_tags_brand_dates
from warroom_pipelines.schedules import (
    BATCH_TAG,
    REASON_TAG,
    batch_requests,
    brand_refresh_job,
    warn_invalid_brands,
)


def retry_requests(
    run: dg.DagsterRun,
    instance: dg.DagsterInstance,
    log: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
) -> list[dg.RunRequest]:
    """A run per brand of a failed batch run, over the batch's days and assets; invalid brand
    keys in the batch are left out (and named on `log`)."""
    if BATCH_TAG not in run.tags:
        return []
    days = run_tags_brand_dates(run.tags, instance)
    if not days:
        return []
    if log is not None:
        warn_invalid_brands(log, list(days), f"batch_retry of run {run.run_id}")
    all_days = sorted({day for brand_days in days.values() for day in brand_days})
    return batch_requests(
        list(days),
        all_days[0],
        all_days[-1],
        tick=f"retry-of-{run.run_id}",
        reason=run.tags.get(REASON_TAG, "retry"),
        size=1,
        assets=sorted(run.asset_selection, key=str) if run.asset_selection else None,
    )


@dg.run_failure_sensor(
    name="batch_retry",
    monitored_jobs=[brand_refresh_job],
    request_job=brand_refresh_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Re-runs the brands of a failed batch run one brand per run, so that one "
    "brand's failure holds back no other brand.",
)
def batch_retry(context: dg.RunFailureSensorContext) -> list[dg.RunRequest]:
    requests = retry_requests(context.dagster_run, context.instance, context.log)
    if requests:
        context.log.info(
            f"run {context.dagster_run.run_id} ({context.dagster_run.tags[BATCH_TAG]}) "
            f"failed: re-running its {len(requests)} brands one per run"
        )
    return requests
