"""The alert delivery log on BigQuery, driven by the real Dispatcher and the real
google-cloud-bigquery client against the recording stand-in (bigquery_api.py), with a real
webhook receiver: the MERGE statements and parameters sent, and no secret in any of it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.alerts.conftest import anomaly_rows
from tests.alerts.receivers import HttpReceiver
from tests.production.bigquery_api import DATASET, PROJECT, Answer, BigQueryAPI
from warroom_pipelines.alerts.delivery import AlertSettings, Dispatcher
from warroom_pipelines.alerts.destinations import Destination, WebhookDestination
from warroom_pipelines.alerts.incidents import group_incidents
from warroom_pipelines.vault.secret import Secret
from warroom_pipelines.warehouse.bigquery import BigQueryWarehouse
from warroom_pipelines.warehouse.bigquery_deliveries import BigQueryDeliveryLog

TABLE = f"`{PROJECT}.{DATASET}.alert_deliveries`"
HOOK_PATH = "/hooks/T0ACME/not-for-the-warehouse-5521"
SIGNING_SECRET = "whsec-not-for-the-warehouse-9913"
NOW = datetime(2026, 3, 2, 12, 5, tzinfo=UTC)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    hook = HttpReceiver(signing_secret=SIGNING_SECRET)
    hook.start()
    yield hook
    hook.stop()


class AcmeHook:
    """acme's one destination; no other brand has any."""

    def __init__(self, hook: Destination) -> None:
        self.hook = hook

    def destinations(self, brand: str) -> list[Destination]:
        return [self.hook] if brand == "acme" else []


def _params(query: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in query["queryParameters"]}


def _structs(parameter: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {k: v.get("value") for k, v in item["structValues"].items()}
        for item in parameter["parameterValue"]["arrayValues"]
    ]


def _claimed_rows(api: BigQueryAPI) -> Any:
    """Answer the read-back of a claim with the intent recorded earlier, once."""
    answered: list[str] = []

    def answer(config: dict[str, Any]) -> Answer:
        if "WHERE claim_id = @claim" not in config["query"] or answered:
            return [], []
        merge = next(
            q
            for q in api.queries
            if q["query"].startswith(f"MERGE {TABLE} AS d USING (SELECT * FROM UNNEST(@intents))")
        )
        (intent,) = _structs(_params(merge)["intents"])
        answered.append(intent["idempotency_key"])
        fields = [
            {"name": "idempotency_key", "type": "STRING"},
            {"name": "brand", "type": "STRING"},
            {"name": "destination_name", "type": "STRING"},
            {"name": "attempt", "type": "INTEGER"},
            {"name": "notice", "type": "STRING"},
        ]
        row = [
            intent["idempotency_key"],
            intent["brand"],
            intent["destination_name"],
            "0",
            intent["notice"],
        ]
        return fields, [row]

    return answer


def test_an_alert_is_recorded_claimed_and_settled_with_merges_and_no_secret(
    api: BigQueryAPI, warehouse: BigQueryWarehouse, receiver: HttpReceiver
) -> None:
    hook = WebhookDestination(
        "ops-hook", Secret(receiver.url(HOOK_PATH)), Secret(SIGNING_SECRET), "warning"
    )
    log = BigQueryDeliveryLog(warehouse)
    dispatcher = Dispatcher(log, AcmeHook(hook), AlertSettings(), clock=lambda: NOW)
    incidents = group_incidents(
        anomaly_rows("acme", "inc-acme-1", "2026-03-02 08:00", 3, severity="critical")
    )

    # 1. Recorded before anything is sent: one MERGE that inserts only unknown keys.
    api.dml_affected_rows = 1
    assert dispatcher.plan([(incident, "run-1") for incident in incidents]) == 1
    table = api.tables[f"{PROJECT}.{DATASET}.alert_deliveries"]
    assert table["timePartitioning"] == {"type": "DAY", "field": "date"}
    assert table["clustering"] == {"fields": ["brand"]}
    (record,) = [q for q in api.queries if q["query"].startswith("MERGE")]
    assert record["query"].startswith(
        f"MERGE {TABLE} AS d USING (SELECT * FROM UNNEST(@intents)) AS i "
        "ON d.idempotency_key = i.idempotency_key WHEN NOT MATCHED THEN INSERT ("
    )
    assert "WHEN MATCHED" not in record["query"]  # a known key is left as it is
    (intent,) = _structs(_params(record)["intents"])
    assert intent["idempotency_key"] == "inc-acme-1:ops-hook:v1"
    assert (intent["brand"], intent["destination_kind"], intent["version"]) == (
        "acme",
        "webhook",
        "1",
    )
    assert intent["date"] == "2026-03-02"
    assert json.loads(intent["notice"])["incident"]["brand"] == "acme"
    assert _params(record)["pending"]["parameterValue"]["value"] == "pending"

    # 2. Claimed by a MERGE that stamps a lease, read back by its claim id, then sent.
    api.answer = _claimed_rows(api)
    api.dml_affected_rows = 0
    report = dispatcher.deliver_due(time.monotonic() + 30)
    assert report.delivered == {"acme": 1}
    (received,) = receiver.received
    assert received.headers["Idempotency-Key"] == "inc-acme-1:ops-hook:v1"
    claim = next(q for q in api.queries if "SET next_attempt_at = @lease_until" in q["query"])
    assert claim["query"].startswith(f"MERGE {TABLE} AS d USING (SELECT idempotency_key FROM")
    assert "WHERE status IN ('pending', 'failed')" in claim["query"]
    params = _params(claim)
    lease_end = params["lease_until"]["parameterValue"]["value"]
    assert datetime.fromisoformat(lease_end) == NOW + AlertSettings().claim_lease
    assert params["limit"]["parameterValue"]["value"] == str(AlertSettings().batch)
    read_back = next(q for q in api.queries if "WHERE claim_id = @claim" in q["query"])
    assert _params(read_back)["claim"] == params["claim"]

    # 3. Settled by one MERGE: the outcome of the attempt.
    settle = [q for q in api.queries if "WHEN MATCHED AND r.sent" in q["query"]]
    assert len(settle) == 1
    (outcome,) = _structs(_params(settle[0])["batch"])
    assert outcome["idempotency_key"] == "inc-acme-1:ops-hook:v1"
    assert (outcome["sent"], outcome["status"], outcome["response_code"]) == (
        "true",
        "delivered",
        "200",
    )

    # Nothing War Room sent to BigQuery carries the destination's address or signing secret.
    sent = b"\n".join(api.bodies)
    for secret in (SIGNING_SECRET, HOOK_PATH, receiver.url(HOOK_PATH)):
        assert secret.encode() not in sent
    assert b"ops-hook" in sent  # the destination is logged by name


def test_a_failure_notice_is_scrubbed_before_it_is_logged(
    api: BigQueryAPI, warehouse: BigQueryWarehouse, receiver: HttpReceiver
) -> None:
    hook = WebhookDestination(
        "ops-hook", Secret(receiver.url(HOOK_PATH)), Secret(SIGNING_SECRET), "warning"
    )
    platform = WebhookDestination(
        "platform", Secret(receiver.url("/platform")), Secret("whsec-platform-0042"), "info"
    )
    log = BigQueryDeliveryLog(warehouse)
    dispatcher = Dispatcher(log, AcmeHook(hook), AlertSettings(), platform, clock=lambda: NOW)
    key = dispatcher.record_failure(
        run_id="run-9",
        job="brand_refresh",
        brand="acme",
        day="2026-03-02",
        error=f"POST {receiver.url(HOOK_PATH)} failed: signature {SIGNING_SECRET} refused",
    )
    assert key == "run-failure-run-9:platform:v1"
    (merge,) = [q for q in api.queries if q["query"].startswith("MERGE")]
    (intent,) = _structs(_params(merge)["intents"])
    assert intent["idempotency_key"] == key and intent["destination_name"] == "platform"
    assert "refused" in json.loads(intent["notice"])["error"]  # the error is logged, scrubbed
    sent = b"\n".join(api.bodies)
    for secret in (SIGNING_SECRET, HOOK_PATH, "whsec-platform-0042"):
        assert secret.encode() not in sent


def test_incidents_are_read_for_a_page_of_brand_days_in_one_query(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    log = BigQueryDeliveryLog(warehouse)
    page = [("acme", date(2026, 3, 2)), ("globex", date(2026, 3, 1))]
    assert log.incidents(page) == {}  # no Sentry table yet: no query
    assert api.queries == []
    api.add_table("performance_anomalies")
    log.incidents(page)
    (query,) = api.queries
    assert "WHERE brand IN UNNEST(@brands) AND incident_id IN" in query["query"]
    values = {
        name: [v["value"] for v in p["parameterValue"]["arrayValues"]]
        for name, p in _params(query).items()
    }
    assert values == {
        "brands": ["acme", "globex"],
        "dates": ["2026-03-01", "2026-03-02"],
        "slices": ["acme/2026-03-02", "globex/2026-03-01"],
    }


def test_dead_letters_are_requeued_by_key(api: BigQueryAPI, warehouse: BigQueryWarehouse) -> None:
    api.result_fields = [{"name": "idempotency_key", "type": "STRING"}]
    api.result_rows = [["inc-acme-2:ops-hook:v1"], ["inc-acme-1:ops-hook:v1"]]
    keys = BigQueryDeliveryLog(warehouse).requeue_dead_letters("acme")
    assert keys == ["inc-acme-1:ops-hook:v1", "inc-acme-2:ops-hook:v1"]
    select, update = api.queries
    assert "status = 'dead_letter' AND (@brand IS NULL OR brand = @brand)" in select["query"]
    assert update["query"].startswith(f"UPDATE {TABLE} SET status = 'pending', attempt = 0")
    values = _params(update)["keys"]["parameterValue"]["arrayValues"]
    assert [v["value"] for v in values] == keys


def test_the_lease_is_given_back_when_a_batch_runs_out_of_time(
    api: BigQueryAPI, warehouse: BigQueryWarehouse
) -> None:
    BigQueryDeliveryLog(warehouse).settle([], NOW + timedelta(minutes=1), ["inc-acme-1:x:v1"])
    (merge,) = api.queries
    assert merge["query"].endswith("WHEN MATCHED THEN UPDATE SET next_attempt_at = NULL")
    (row,) = _structs(_params(merge)["batch"])
    assert row == {
        "idempotency_key": "inc-acme-1:x:v1",
        "sent": "false",
        "status": None,
        "response_code": None,
        "error": None,
        "next_attempt_at": None,
    }
