"""One brand's broken alert destination stops no other brand's alerts (issue 15, item 1).

globex's webhook record in the vault is tampered with (its GCM tag no longer verifies), so
globex's destinations cannot be read. globex's incident is materialized first: the old
dispatch stopped planning there, acme's critical incident was never sent and the cursor
stood still.
"""

from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.alerts.conftest import World, anomaly_rows, materialize_anomalies
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.cli import main
from warroom_pipelines.commands.alerts import retry_dead_letters
from warroom_pipelines.resources.vault import VaultResource, vault_resource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.warehouse import LakeFiles

pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]


def break_destination(vault: VaultResource, brand: str, integration: str) -> None:
    """Flip a bit of the record's GCM tag: it no longer decrypts."""
    store = vault.manager().store
    sealed = store.get_integration(brand, integration)
    assert sealed is not None
    flipped = sealed.ciphertext[:-1] + bytes([sealed.ciphertext[-1] ^ 1])
    store.put_integration(brand, integration, replace(sealed, ciphertext=flipped))


def test_a_brand_whose_destinations_do_not_decrypt_stops_no_other_brand(world: World) -> None:
    assert world.vault is not None
    break_destination(world.vault, "globex", "webhook")
    world.materialize(
        anomaly_rows("globex", "inc-g", "2026-11-02T09:00", 2), "globex", "2026-11-02"
    )
    rows = anomaly_rows("acme", "inc-a", "2026-11-02T10:00", 3, severity="critical")
    world.materialize(rows, "acme", "2026-11-02")

    result = world.tick()

    # acme's alert went out to all of its destinations in the same tick.
    assert [b["notice"]["incident"]["incident_id"] for b in world.bodies("acme-hook")] == ["inc-a"]
    assert len(world.bodies("acme-slack")) == 1 and len(world.smtp.messages) == 1
    assert world.bodies("globex-slack") == [] and world.bodies("globex-hook") == []
    # The cursor is past both materializations: the next tick has nothing new.
    latest = world.instance.fetch_materializations(dg.AssetKey("performance_anomalies"), limit=1)
    assert int(result.cursor) == latest.records[0].storage_id
    assert world.tick().skip_reason.skip_message == "no new anomalies"

    with duckdb.connect(LakeFiles(world.warehouse.path).state, read_only=True) as con:
        log = con.execute(
            "SELECT destination_name, status, error FROM alert_deliveries "
            "WHERE brand = 'globex' ORDER BY destination_name"
        ).df()
    assert list(log["destination_name"]) == ["platform", "unreadable-destinations"]
    assert list(log["status"]) == ["delivered", "dead_letter"]
    assert "brand 'globex' cannot be read: DecryptionError" in log["error"][1]
    (check,) = result.asset_events
    assert not check.passed and check.metadata["by_brand"].value == {"globex": 1}

    (notice,) = world.bodies("platform")
    assert notice["notice"]["brand"] == "globex" and notice["notice"]["job"] == "alert_dispatch"
    assert "cannot be read: DecryptionError" in notice["notice"]["error"]
    assert "warroom alerts retry --brand globex" in notice["notice"]["error"]


def test_a_fixed_destination_gets_its_held_alerts_on_retry(world: World) -> None:
    assert world.vault is not None
    break_destination(world.vault, "globex", "webhook")
    world.materialize(
        anomaly_rows("globex", "inc-g", "2026-11-02T09:00", 2), "globex", "2026-11-02"
    )
    world.tick()
    dispatcher = world.alerts.dispatcher(world.warehouse.get(), world.vault)
    report = retry_dead_letters(dispatcher, "globex")
    assert report.failed == 1 and "DecryptionError" in report.errors[0]  # still broken

    world.vault.manager().set(
        "globex",
        "webhook",
        {
            "url": world.receivers["globex-hook"].url("/hooks/globex-hook-path-88c2"),
            "signing_secret": "whsec-globex-1a2b3c4d5e6f7788",
            "min_severity": "info",
        },
    )
    report = retry_dead_letters(world.alerts.dispatcher(world.warehouse.get(), world.vault), None)
    # No dead letter left to re-queue: the failed one is retried by the sensor after back-off.
    assert report.attempted == 0
    world.tick()
    assert [b["incident_id"] for b in world.bodies("globex-hook")] == ["inc-g"]
    assert len(world.bodies("globex-slack")) == 1
    world.tick()
    assert len(world.bodies("globex-hook")) == 1  # handed on once


def test_alerts_send_exits_non_zero_and_names_the_brand_when_one_is_held(
    tmp_path: Path, local_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = local_home
    vault = vault_resource("local", home, environ={})
    vault.manager().set("globex", "slack", {"webhook_url": "http://127.0.0.1:9/services/T/B/x"})
    break_destination(vault, "globex", "slack")
    warehouse = WarehouseResource(path=str(home / "warroom.ducklake"))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("brands", ["acme", "globex"])
        for brand in ("globex", "acme"):
            rows = anomaly_rows(brand, f"{brand}-1", "2026-11-02T08:00", 2)
            materialize_anomalies(instance, warehouse, rows, brand, "2026-11-02", tmp_path)

    assert main(["alerts", "send"]) == 1
    out = capsys.readouterr().out
    assert "acme: 1" in out and "1 dead letters" in out
    assert "brand 'globex' cannot be read: DecryptionError" in out
    assert (home / "alerts" / "acme.jsonl").exists()
    assert not (home / "alerts" / "globex.jsonl").exists()
    assert "globex" in (home / "alerts" / "platform.jsonl").read_text()
    assert main(["alerts", "list", "--brand", "globex"]) == 0
    assert "dead_letter" in capsys.readouterr().out
