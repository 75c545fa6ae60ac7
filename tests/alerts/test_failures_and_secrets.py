"""Pipeline failures reach the platform destination once; no secret reaches any log."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.alerts.conftest import World, anomaly_rows
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.partitions import brand_date_partitions, partition_key
from warroom_pipelines.sensors.alerts import pipeline_failure_notice

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

LEAKY_TOKEN = "EAAB-partner-access-token-42"


@dg.asset(partitions_def=brand_date_partitions)
def exploding_source() -> None:
    raise ConnectionError(
        f"GET https://graph.partner.test/v19/insights?access_token={LEAKY_TOKEN} failed"
    )


def _fail_a_run(world: World) -> dg.RunFailureSensorContext:
    result = dg.materialize(
        [exploding_source],
        instance=world.instance,
        partition_key=partition_key("acme", "2026-11-02"),
        raise_on_error=False,
    )
    assert not result.success
    world.run_ids.append(result.run_id)
    return _failure_context(world, result)


def _failure_context(world: World, result: dg.ExecuteInProcessResult) -> dg.RunFailureSensorContext:
    return dg.build_run_status_sensor_context(
        sensor_name="pipeline_failure_notice",
        dagster_event=result.get_run_failure_event(),
        dagster_instance=world.instance,
        dagster_run=world.instance.get_run_by_id(result.run_id),  # type: ignore[arg-type]
        resources=world.resources(),
    ).for_run_failure()


def test_a_failed_run_gives_one_platform_notice_without_secrets(world: World) -> None:
    context = _fail_a_run(world)
    pipeline_failure_notice(context)
    pipeline_failure_notice(context)  # the same failure seen twice
    world.tick()
    (notice,) = world.bodies("platform")
    assert notice["kind"] == "open" and notice["severity"] == "critical"
    body = notice["notice"]
    assert (body["type"], body["job"], body["brand"], body["date"]) == (
        "run_failure",
        "__ephemeral_asset_job__",
        "acme",
        "2026-11-02",
    )
    assert "ConnectionError" in body["error"] and "<url>" in body["error"]
    assert LEAKY_TOKEN not in str(notice)
    assert not world.receivers["platform"].rejected
    assert world.bodies("acme-slack") == []  # failures go to the platform, not the brand


def test_a_failed_batch_run_sends_no_notice_its_brands_are_re_run(world: World) -> None:
    world.instance.add_dynamic_partitions("brands", ["acme", "globex"])
    result = dg.materialize(
        [exploding_source],
        instance=world.instance,
        tags={
            "dagster/asset_partition_range_start": str(partition_key("acme", "2026-11-02")),
            "dagster/asset_partition_range_end": str(partition_key("globex", "2026-11-02")),
            "warroom/batch": "acme..globex",
        },
        raise_on_error=False,
    )
    assert not result.success
    pipeline_failure_notice(_failure_context(world, result))
    world.tick()
    assert world.bodies("platform") == []
    # The same failure in a run of one brand is notified (the batch's retry runs are such).
    pipeline_failure_notice(_fail_a_run(world))
    world.tick()
    assert [n["notice"]["brand"] for n in world.bodies("platform")] == ["acme"]


def test_a_failure_notice_survives_a_platform_outage(world: World) -> None:
    world.receivers["platform"].stop()
    context = _fail_a_run(world)
    pipeline_failure_notice(context)  # Dagster advances the cursor even though this send failed
    world.receivers["platform"].start()
    world.tick()
    world.tick()
    assert [n["notice"]["type"] for n in world.bodies("platform")] == ["run_failure"]


def _files_text(root: Path) -> str:
    return "\n".join(
        path.read_bytes().decode("utf-8", "replace") for path in root.rglob("*") if path.is_file()
    )


def test_no_destination_secret_in_event_log_delivery_log_or_compute_logs(
    world: World, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for name in ("acme-slack", "acme-hook", "platform"):
        world.receivers[name].stop()
    world.smtp.password = "not-the-configured-password"  # email fails at login
    rows = pd.concat(
        [
            anomaly_rows("acme", "inc-x", "2026-11-02T08:00", 2, severity="critical"),
            anomaly_rows("globex", "inc-y", "2026-11-02T08:00", 2),
        ]
    )
    world.materialize(rows, "acme", "2026-11-02")
    world.materialize(rows, "globex", "2026-11-02")
    world.tick()
    pipeline_failure_notice(_fail_a_run(world))
    for name in ("acme-slack", "acme-hook", "platform"):
        world.receivers[name].start()
    world.tick()
    assert world.bodies("acme-slack") and world.bodies("platform")

    with duckdb.connect(world.warehouse.path, read_only=True) as con:
        delivery_log = con.execute("SELECT * FROM alert_deliveries").df()
    assert delivery_log["error"].str.contains("SMTP 535").any()  # the failure was logged
    events = "\n".join(
        str(record.event_log_entry)
        for run_id in world.run_ids
        for record in world.instance.get_records_for_run(run_id).records
    )
    captured = capfd.readouterr()
    searched = {
        "event log": events,
        "delivery log": delivery_log.to_csv(),
        "dagster home (storage, compute logs)": _files_text(world.root / "dagster_home"),
        "sensor and run logs": captured.out + captured.err + caplog.text,
        # What receivers got (their own URL path aside): alerts carry no credentials either.
        "alert bodies and headers": str(
            [(r.headers, r.body) for rec in world.receivers.values() for r in rec.received]
        )
        + str([m.as_string() for m in world.smtp.messages]),
    }
    # The searches see what they should: the partner's token (not ours) is in the event log.
    assert LEAKY_TOKEN in searched["event log"]
    assert world.run_ids[0] in searched["dagster home (storage, compute logs)"]
    assert "ConnectionError" in searched["sensor and run logs"]
    for where, text in searched.items():
        for secret in world.secrets:
            assert secret not in text, f"{secret!r} found in {where}"
