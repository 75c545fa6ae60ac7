"""Anomaly materializations -> alerts at real receivers, once per destination and version."""

import pandas as pd
import pytest

from tests.alerts.conftest import World, anomaly_rows
from tests.support import AFTER_THE_FIXTURES

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]


def test_one_incident_gives_one_message_per_destination_with_its_content(world: World) -> None:
    rows = anomaly_rows("acme", "inc-acme-1", "2026-11-02T09:00", 3, severity="critical")
    run_id = world.materialize(rows, "acme", "2026-11-02")
    world.tick()

    slack = world.bodies("acme-slack")
    assert len(slack) == 1
    text = str(slack[0]["blocks"])
    for expected in (
        "acme",
        "meta_ads",
        "Winter Sale",
        "cpa spike",
        "EUR 48.00",
        "EUR 20.00",
        "critical",
        "EUR 120.00",
        f"http://dagster.test/runs/{run_id}",
        "http://dashboard.test/brands/acme.html#incident-inc-acme-1",
    ):
        assert expected in text, expected
    hook = world.receivers["acme-hook"].received
    assert len(hook) == 1 and not world.receivers["acme-hook"].rejected
    document = hook[0].json()
    assert document["schema"] == "warroom.alert/v1"
    assert (document["incident_id"], document["kind"], document["version"]) == (
        "inc-acme-1",
        "open",
        1,
    )
    assert hook[0].headers["Idempotency-Key"] == "inc-acme-1:ops-hook:v1"
    slack_key = world.receivers["acme-slack"].received[0].headers["Idempotency-Key"]
    assert slack_key == "inc-acme-1:war-room:v1"
    assert world.smtp.logins == ["alerts@acme.test"]
    (mail,) = world.smtp.messages
    assert mail["Message-ID"] == "<inc-acme-1.email.v1@warroom.alerts>"
    assert "acme" in mail["Subject"] and "critical" in mail["Subject"]
    assert "Money at stake: EUR 120.00" in mail.get_body(("plain",)).get_content()
    assert "<table>" in mail.get_body(("html",)).get_content()
    assert world.bodies("globex-slack") == [] and world.bodies("globex-hook") == []


def test_minimum_severity_per_destination(world: World) -> None:
    world.materialize(anomaly_rows("acme", "inc-warn", "2026-11-02T09:00", 2), "acme", "2026-11-02")
    world.tick()
    assert len(world.bodies("acme-slack")) == 1
    assert world.smtp.messages == []  # the email destination wants critical only


def test_updates_and_resolution_are_follow_ups_of_the_same_incident(world: World) -> None:
    world.materialize(anomaly_rows("acme", "inc-1", "2026-11-02T09:00", 2), "acme", "2026-11-02")
    world.tick()
    # An hour more at the same size: not worth a message.
    world.materialize(anomaly_rows("acme", "inc-1", "2026-11-02T09:00", 3), "acme", "2026-11-02")
    world.tick()
    assert [b["kind"] for b in world.bodies("acme-hook")] == ["open"]
    # Critical now: an update; the email destination (critical only) hears of it first now.
    world.materialize(
        anomaly_rows("acme", "inc-1", "2026-11-02T09:00", 4, severity="critical"),
        "acme",
        "2026-11-02",
    )
    world.tick()
    world.materialize(
        anomaly_rows("acme", "inc-1", "2026-11-02T09:00", 5, severity="critical", resolved=True),
        "acme",
        "2026-11-02",
    )
    world.tick()
    world.tick()
    hook = world.bodies("acme-hook")
    assert [(b["incident_id"], b["kind"], b["version"]) for b in hook] == [
        ("inc-1", "open", 1),
        ("inc-1", "update", 2),
        ("inc-1", "resolved", 3),
    ]
    assert len(world.bodies("acme-slack")) == 3
    mails = world.smtp.messages
    assert [m["Message-ID"] for m in mails] == [
        "<inc-1.email.v2@warroom.alerts>",
        "<inc-1.email.v3@warroom.alerts>",
    ]
    assert mails[1]["In-Reply-To"] == "<inc-1.email.v1@warroom.alerts>"


def test_a_backfill_announces_the_open_incidents_not_the_ones_already_over(
    world: World,
) -> None:
    # Days materialized at once (the demo, a backfill): past incidents are over when first seen.
    past = anomaly_rows("acme", "past-1", "2026-11-01T09:00", 3, resolved=True)
    world.materialize(past, "acme", "2026-11-01")
    earlier = anomaly_rows("acme", "past-2", "2026-11-02T06:00", 2, resolved=True)
    now = anomaly_rows("acme", "now-1", "2026-11-02T20:00", 2, anomaly_type="ctr_drop")
    world.materialize(pd.concat([earlier, now]), "acme", "2026-11-02")
    world.tick()
    hook = [(b["incident_id"], b["kind"]) for b in world.bodies("acme-hook")]
    assert hook == [("now-1", "open")]
    # The open one's end is told when it comes; the past ones stay untold.
    world.materialize(
        pd.concat(
            [
                anomaly_rows("acme", "past-2", "2026-11-02T06:00", 2, resolved=True),
                anomaly_rows(
                    "acme", "now-1", "2026-11-02T20:00", 3, anomaly_type="ctr_drop", resolved=True
                ),
            ]
        ),
        "acme",
        "2026-11-02",
    )
    world.tick()
    hook = [(b["incident_id"], b["kind"]) for b in world.bodies("acme-hook")]
    assert hook == [("now-1", "open"), ("now-1", "resolved")]


def test_an_incident_across_midnight_is_one_alert(world: World) -> None:
    rows = anomaly_rows("acme", "inc-night", "2026-11-02T22:00", 4)
    world.materialize(rows, "acme", "2026-11-02")
    world.materialize(rows, "acme", "2026-11-03")
    world.tick()
    versions = [(b["incident_id"], b["version"]) for b in world.bodies("acme-hook")]
    assert versions == [("inc-night", 1)]


def test_a_flapping_series_is_held_back_by_the_cooldown(world: World) -> None:
    first = anomaly_rows("acme", "flap-1", "2026-11-02T09:00", 1)
    again = anomaly_rows("acme", "flap-2", "2026-11-02T11:00", 1)
    later = anomaly_rows("acme", "flap-3", "2026-11-02T15:00", 1)
    other = anomaly_rows(
        "acme", "other", "2026-11-02T11:00", 1, anomaly_type="ctr_drop", metric="ctr"
    )

    world.materialize(pd.concat([first, again, later, other]), "acme", "2026-11-02")
    world.tick()
    ids = [b["incident_id"] for b in world.bodies("acme-hook")]
    assert sorted(ids) == ["flap-1", "flap-3", "other"]


def test_an_ingestion_gap_goes_to_the_platform_not_the_brand(world: World) -> None:
    rows = anomaly_rows(
        "acme",
        "inc-gap",
        "2026-11-02T09:00",
        2,
        anomaly_type="ingestion_gap",
        metric="rows",
        observed=0.0,
        expected=1.0,
    )
    world.materialize(
        rows.assign(level="channel", campaign_id="", campaign_name=""), "acme", "2026-11-02"
    )
    world.tick()
    (notice,) = world.bodies("platform")
    assert notice["incident_id"] == "inc-gap" and "ingestion gap" in str(notice)
    assert world.bodies("acme-slack") == [] and world.bodies("acme-hook") == []
