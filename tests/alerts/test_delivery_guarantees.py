"""Exactly once at the receiver: through outages, sensor restarts, retries and two brands."""

import json
import threading

import dagster as dg
import duckdb
import pandas as pd
import pytest

from tests.alerts.conftest import World, anomaly_rows
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.alerts.destinations import HTTP_TIMEOUT_S
from warroom_pipelines.assets.alerts import no_dead_letters
from warroom_pipelines.commands.alerts import retry_dead_letters
from warroom_pipelines.resources.alerts import DestinationConfig
from warroom_pipelines.warehouse import LakeFiles

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]


def _log(world: World) -> pd.DataFrame:
    with duckdb.connect(LakeFiles(world.warehouse.path).state, read_only=True) as con:
        return con.execute("SELECT * FROM alert_deliveries ORDER BY idempotency_key").df()


def _keys(world: World, name: str) -> list[str]:
    return [r.headers["Idempotency-Key"] for r in world.receivers[name].received]


def test_receiver_down_for_several_ticks_then_back_gets_every_alert_once(world: World) -> None:
    for name in ("acme-slack", "acme-hook"):
        world.receivers[name].stop()
    rows = pd.concat(
        [
            anomaly_rows("acme", "inc-a", "2026-11-02T08:00", 2),
            anomaly_rows(
                "acme", "inc-b", "2026-11-02T10:00", 3, anomaly_type="ctr_drop", metric="ctr"
            ),
        ]
    )
    world.materialize(rows, "acme", "2026-11-02")
    for _ in range(3):
        world.tick()
    log = _log(world)
    assert set(log["status"]) == {"failed"} and set(log["attempt"]) == {3}
    assert log["error"].str.contains("ConnectionError").all()

    for name in ("acme-slack", "acme-hook"):
        world.receivers[name].start()
    world.tick()
    world.tick()
    assert sorted(_keys(world, "acme-slack")) == ["inc-a:war-room:v1", "inc-b:war-room:v1"]
    assert sorted(_keys(world, "acme-hook")) == ["inc-a:ops-hook:v1", "inc-b:ops-hook:v1"]
    log = _log(world)
    assert set(log["status"]) == {"delivered"} and set(log["attempt"]) == {4}


def test_reevaluating_from_an_earlier_cursor_sends_nothing_twice(world: World) -> None:
    world.materialize(anomaly_rows("acme", "inc-r", "2026-11-02T08:00", 2), "acme", "2026-11-02")
    first = world.tick()
    world.materialize(
        anomaly_rows("acme", "inc-r", "2026-11-02T08:00", 3, severity="critical"),
        "acme",
        "2026-11-02",
    )
    world.tick()
    # A restart that lost the cursor, and a re-evaluation of the first tick.
    world.tick(cursor=None)
    world.tick(cursor=first.cursor)
    world.tick(cursor="0")
    assert _keys(world, "acme-hook") == ["inc-r:ops-hook:v1", "inc-r:ops-hook:v2"]
    assert _keys(world, "acme-slack") == ["inc-r:war-room:v1", "inc-r:war-room:v2"]
    assert len(world.smtp.messages) == 1


def test_two_brands_in_one_tick_reach_only_their_own_destinations(world: World) -> None:
    world.materialize(anomaly_rows("acme", "acme-inc", "2026-11-02T08:00", 2), "acme", "2026-11-02")
    world.materialize(
        anomaly_rows("globex", "globex-inc", "2026-11-02T08:00", 2, severity="info"),
        "globex",
        "2026-11-02",
    )
    result = world.tick()
    assert {b["brand"] for b in world.bodies("acme-hook")} == {"acme"}
    assert {b["brand"] for b in world.bodies("globex-hook")} == {"globex"}
    assert [b["incident_id"] for b in world.bodies("globex-hook")] == ["globex-inc"]
    assert "acme" not in json.dumps(world.bodies("globex-slack"))
    assert "globex" not in json.dumps(world.bodies("acme-slack"))
    log = _log(world)
    assert set(zip(log["brand"], log["destination_kind"], strict=True)) == {
        ("acme", "slack"),
        ("acme", "webhook"),
        ("globex", "slack"),
        ("globex", "webhook"),
    }
    check = result.asset_events[0]
    assert isinstance(check, dg.AssetCheckEvaluation) and check.passed


def test_dead_letters_are_visible_and_resent_by_retry(world: World) -> None:
    alerts = world.alerts_with(max_attempts=2)
    world.receivers["globex-hook"].stop()
    world.materialize(
        anomaly_rows("globex", "g-1", "2026-11-02T08:00", 2, severity="info"),
        "globex",
        "2026-11-02",
    )
    world.tick(alerts=alerts)
    last = world.tick(alerts=alerts)
    check = last.asset_events[0]
    assert isinstance(check, dg.AssetCheckEvaluation)
    assert not check.passed and check.metadata["by_brand"].data == {"globex": 1}
    log = _log(world).set_index("destination_name")
    assert log.loc["webhook", "status"] == "dead_letter"
    assert log.loc["war-room", "status"] == "delivered"
    assert not no_dead_letters(warehouse=world.warehouse).passed  # the check run from the UI

    world.receivers["globex-hook"].start()
    world.tick(alerts=alerts)
    assert world.receivers["globex-hook"].received == []  # dead letters wait for a human
    dispatcher = alerts.process_config_and_initialize().dispatcher(
        world.warehouse.get(), world.vault
    )
    report = retry_dead_letters(dispatcher, "globex")
    assert report.delivered == {"globex": 1}
    world.tick(alerts=alerts)
    assert _keys(world, "globex-hook") == ["g-1:webhook:v1"]
    assert set(_log(world)["status"]) == {"delivered"}
    assert no_dead_letters(warehouse=world.warehouse).passed


def test_a_receiver_rejecting_the_signature_is_not_retried_forever(world: World) -> None:
    world.receivers["acme-hook"].signing_secret = "a-different-secret"
    world.materialize(anomaly_rows("acme", "inc-s", "2026-11-02T08:00", 2), "acme", "2026-11-02")
    world.tick()
    log = _log(world).set_index("destination_name")
    assert log.loc["ops-hook", "status"] == "dead_letter"
    assert log.loc["ops-hook", "response_code"] == 401
    assert len(world.receivers["acme-hook"].rejected) == 1


def test_two_ticks_racing_send_each_alert_once(world: World) -> None:
    rows = pd.concat(
        anomaly_rows("acme", f"race-{n}", "2026-11-02T08:00", 1, campaign_id=f"c-{n}")
        for n in range(12)
    )
    world.materialize(rows, "acme", "2026-11-02")
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            world.tick(cursor=None)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    keys = _keys(world, "acme-hook")
    assert len(keys) == len(set(keys)) == 12


def test_a_brand_with_broken_settings_holds_its_own_alerts_only(
    world: World,
) -> None:
    configs = world.alerts_config["destinations"]
    broken = [c for c in configs if c.brand != "globex"] + [
        DestinationConfig(brand="globex", name="ops-hook", kind="webhook", url="http://x.test")
    ]  # no signing secret
    alerts = world.alerts_with(destinations=broken)
    world.materialize(anomaly_rows("acme", "a-1", "2026-11-02T08:00", 1), "acme", "2026-11-02")
    world.materialize(
        anomaly_rows("globex", "g-1", "2026-11-02T08:00", 1, severity="info"),
        "globex",
        "2026-11-02",
    )
    world.materialize(anomaly_rows("acme", "a-2", "2026-11-03T08:00", 1), "acme", "2026-11-03")
    world.tick(alerts=alerts)
    assert _keys(world, "acme-hook") == ["a-1:ops-hook:v1", "a-2:ops-hook:v1"]
    assert _keys(world, "globex-hook") == []  # g-1 is a dead letter, not lost

    world.tick()  # the settings are fixed; the dead letter is re-sent by hand
    retry_dead_letters(world.alerts.dispatcher(world.warehouse.get(), world.vault), "globex")
    assert _keys(world, "globex-hook") == ["g-1:webhook:v1"]


def test_a_slack_post_that_timed_out_after_arriving_is_resent_at_most_once(world: World) -> None:
    """Slack ignores idempotency keys, so a repeat shows twice: a timed-out post (it may have
    arrived) is re-sent once, then left as a dead letter saying so; the webhook, which drops
    repeated keys, keeps its usual retries."""
    world.receivers["acme-slack"].answer_after_s = HTTP_TIMEOUT_S + 1
    world.materialize(anomaly_rows("acme", "inc-t", "2026-11-02T08:00", 2), "acme", "2026-11-02")
    for _ in range(4):
        world.tick()
    assert _keys(world, "acme-slack") == ["inc-t:war-room:v1"] * 2
    log = _log(world).set_index("destination_name")
    assert log.loc["war-room", "status"] == "dead_letter"
    assert log.loc["war-room", "attempt"] == 2
    assert "ReadTimeout (it may have arrived" in log.loc["war-room", "error"]
    assert log.loc["ops-hook", "status"] == "delivered"
