"""Alert dispatch: a cursor sensor over every `performance_anomalies` materialization.

Not an `@asset_sensor`: that one sees only the newest materialization after its cursor, so
when several brand-days finish between ticks all but one would be missed. This sensor pages
through all of them by storage id. Each tick first records intents in the delivery log (so the
cursor may advance safely), then sends what is due within its time budget; what it cannot send
stays due for the next tick. Dead letters show as the `no_dead_letters` check of the
`alert_deliveries` asset.
"""

import time
from dataclasses import dataclass

import dagster as dg

from warroom_pipelines.alerts.delivery import DeliveryReport, DeliveryStore, Dispatcher
from warroom_pipelines.partitions import brand_and_day, run_tags_brand_dates
from warroom_pipelines.resources.alerts import AlertsResource, delivery_log
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.schedules import BATCH_TAG

ANOMALIES_KEY = dg.AssetKey("performance_anomalies")
DELIVERIES_KEY = dg.AssetKey("alert_deliveries")
DEAD_LETTER_CHECK = "no_dead_letters"

alert_deliveries = dg.AssetSpec(
    DELIVERIES_KEY,
    group_name="alerts",
    kinds={"duckdb"},
    deps=[ANOMALIES_KEY],
    description="One row per alert x destination x version with its delivery status; written "
    "by the alert_dispatch and pipeline_failure_notice sensors (table main.alert_deliveries; "
    "<dataset>.alert_deliveries on BigQuery).",
)


def dead_letter_evaluation(log: DeliveryStore) -> dg.AssetCheckEvaluation:
    """Passes when no alert is dead-lettered; the metadata counts dead letters per brand."""
    dead = log.dead_letters_by_brand()
    return dg.AssetCheckEvaluation(
        asset_key=DELIVERIES_KEY,
        check_name=DEAD_LETTER_CHECK,
        passed=not dead,
        metadata={"dead_letters": sum(dead.values()), "by_brand": dead},
        description="Re-send with `warroom alerts retry [--brand B]`." if dead else None,
    )


@dg.asset_check(
    asset=DELIVERIES_KEY,
    name=DEAD_LETTER_CHECK,
    description="No alert gave up after its retries (dead letter).",
)
def no_dead_letters(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    evaluation = dead_letter_evaluation(delivery_log(warehouse.get()))
    return dg.AssetCheckResult(
        passed=evaluation.passed,
        metadata=dict(evaluation.metadata),
        description=evaluation.description,
    )


@dataclass
class DispatchOutcome:
    cursor: int
    brand_days: int
    report: DeliveryReport
    blocked: str | None = None  # a brand-day that could not be planned; the cursor waits on it


def dispatch_new_anomalies(
    instance: dg.DagsterInstance,
    dispatcher: Dispatcher,
    *,
    cursor: int,
    page_size: int,
    deadline: float,
) -> DispatchOutcome:
    """Plan every anomaly materialization after `cursor` (half the time budget), then send
    what is due until `deadline`. Returns the storage id up to which everything is planned."""
    plan_until = time.monotonic() + (deadline - time.monotonic()) / 2
    brand_days = 0
    recorded = 0
    blocked = None
    while time.monotonic() < plan_until:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ANOMALIES_KEY, after_storage_id=cursor),
            limit=page_size,
            ascending=True,
        )
        planned = [
            (*brand_day, record.run_id)
            for record in page.records
            if record.partition_key and (brand_day := brand_and_day(record.partition_key))
        ]
        try:
            recorded += dispatcher.plan_brand_days(planned)
        except Exception as exc:
            # The log itself failed (not one brand's settings, which plan_brand_days holds as
            # dead letters): the cursor waits before this page and what is already due is
            # still sent. Only the type: text may hold data.
            blocked = f"{len(planned)} brand-days after storage id {cursor}: {type(exc).__name__}"
            break
        brand_days += len(planned)
        if page.records:
            cursor = page.records[-1].storage_id
        if not page.has_more:
            break
    report = dispatcher.deliver_due(deadline)
    report.recorded = recorded
    report.dead_lettered += dispatcher.dead_at_planning
    report.errors = [*dispatcher.held, *report.errors]
    return DispatchOutcome(cursor, brand_days, report, blocked)


@dg.sensor(
    name="alert_dispatch",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sends each new or worsened anomaly incident to its brand's destinations, "
    "once per destination and version.",
)
def alert_dispatch(
    context: dg.SensorEvaluationContext,
    alerts: AlertsResource,
    warehouse: WarehouseResource,
    vault: VaultResource,
) -> dg.SensorResult:
    dispatcher = alerts.dispatcher(warehouse.get(), vault)
    outcome = dispatch_new_anomalies(
        context.instance,
        dispatcher,
        cursor=int(context.cursor or 0),
        page_size=alerts.page_size,
        deadline=time.monotonic() + alerts.tick_budget_seconds,
    )
    report = outcome.report
    context.log.info(
        f"brand-days read: {outcome.brand_days}, alerts recorded: {report.recorded}, "
        f"delivered: {sum(report.delivered.values())}, retrying: {report.failed}, "
        f"dead letters: {report.dead_lettered}"
    )
    for error in report.errors:
        context.log.warning(error)  # scrubbed by the destinations: no URL or secret
    if outcome.blocked:
        context.log.error(f"cannot plan alerts for {outcome.blocked}; retrying next tick")
    events = [dead_letter_evaluation(dispatcher.log)] if report.attempted else []
    if not events and not outcome.brand_days:
        return dg.SensorResult(cursor=str(outcome.cursor), skip_reason="no new anomalies")
    return dg.SensorResult(cursor=str(outcome.cursor), asset_events=events)


def _failure_text(context: dg.RunFailureSensorContext) -> str:
    """The failed steps' errors (type and message, no stack), or the run's failure message."""
    texts = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            texts.append(error.message.strip())
            error = error.cause
    return " | ".join(texts) or context.failure_event.message or "run failed"


@dg.run_failure_sensor(
    name="pipeline_failure_notice",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Tells the platform destination which job, brand and day failed, and why.",
)
def pipeline_failure_notice(
    context: dg.RunFailureSensorContext,
    alerts: AlertsResource,
    warehouse: WarehouseResource,
    vault: VaultResource,
) -> None:
    # Dagster advances this sensor's cursor even when a tick fails, so the notice is written
    # to the delivery log first; if this send fails, alert_dispatch retries it.
    run = context.dagster_run
    if BATCH_TAG in run.tags:
        # batch_retry re-runs its brands one per run; a brand that fails again is notified
        # on its own, with that brand's secrets scrubbed from the error.
        context.log.info(f"batch run {run.tags[BATCH_TAG]} failed: its brands are re-run")
        return
    dispatcher = alerts.dispatcher(warehouse.get(), vault)  # the brands' secrets get scrubbed
    brand_days = run_tags_brand_dates(run.tags, context.instance)
    days = sorted({day.isoformat() for brand in brand_days.values() for day in brand})
    key = dispatcher.record_failure(
        run_id=run.run_id,
        job=run.job_name,
        brand=", ".join(brand_days),
        day="..".join(dict.fromkeys([days[0], days[-1]])) if days else "",
        error=_failure_text(context),
    )
    if key is None:
        context.log.warning("no platform destination configured: failure notice not sent")
        return
    report = dispatcher.deliver_due(time.monotonic() + alerts.tick_budget_seconds, keys=[key])
    for error in report.errors:
        context.log.warning(error)
