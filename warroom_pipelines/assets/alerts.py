"""alert_deliveries: the delivery log as an asset (written by the alert sensors, not by runs),
with the check that no alert gave up."""

import dagster as dg

from warroom_pipelines.alerts.log.store import DeliveryStore
from warroom_pipelines.resources.alerts import delivery_log
from warroom_pipelines.resources.warehouse import WarehouseResource

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
