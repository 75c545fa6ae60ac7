"""`warroom alerts` on the local profile: the file sink under the Dagster home."""

import json
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from tests.alerts.conftest import anomaly_rows, materialize_anomalies
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.cli import main
from warroom_pipelines.resources.warehouse import WarehouseResource

pytestmark = AFTER_THE_FIXTURES


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_send_writes_each_brands_alerts_to_its_file_once_and_list_prints_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("WARROOM_PROFILE", "local")
    monkeypatch.delenv("WARROOM_DUCKDB_PATH", raising=False)
    warehouse = WarehouseResource(path=str(home / "warroom.duckdb"))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("brands", ["acme", "globex"])
        acme = pd.concat(
            [
                anomaly_rows("acme", "a-1", "2026-11-02T08:00", 2),
                anomaly_rows(
                    "acme",
                    "a-2",
                    "2026-11-02T12:00",
                    2,
                    severity="info",
                    metric="ctr",
                    anomaly_type="ctr_drop",
                ),
            ]
        )
        materialize_anomalies(instance, warehouse, acme, "acme", "2026-11-02", tmp_path)
        materialize_anomalies(
            instance,
            warehouse,
            anomaly_rows("globex", "g-1", "2026-11-02T08:00", 3),
            "globex",
            "2026-11-02",
            tmp_path,
        )

    assert main(["alerts", "send"]) == 0
    out = capsys.readouterr().out
    # a-2 is an info row: context for the dashboard, below the file sink's minimum (warning).
    assert "acme: 1" in out and "globex: 1" in out
    acme_file, globex_file = home / "alerts" / "acme.jsonl", home / "alerts" / "globex.jsonl"
    assert sorted((r["incident_id"], r["kind"], r["version"]) for r in _lines(acme_file)) == [
        ("a-1", "open", 1)
    ]
    assert {r["brand"] for r in _lines(globex_file)} == {"globex"}

    assert main(["alerts", "send"]) == 0
    assert "none new" in capsys.readouterr().out
    assert len(_lines(acme_file)) == 1

    assert main(["alerts", "list", "--brand", "acme"]) == 0
    listing = capsys.readouterr().out
    assert "a-1" in listing and "delivered" in listing and "g-1" not in listing
    assert main(["alerts", "retry"]) == 0
    assert "delivered: 0" in capsys.readouterr().out
