"""`warroom demo`, the README's first command: batch runs per day, the tables, the summary."""

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from warroom_pipelines.channels.demo import demo_incidents
from warroom_pipelines.commands.demo import (
    FOUND_BY_LEVEL_LEGEND,
    FOUND_VS_INJECTED_LEGEND,
    registry_segments,
)
from warroom_pipelines.sentry.backtest import found_by_level, found_vs_injected
from warroom_pipelines.sentry.engine import empty_anomalies
from warroom_pipelines.warehouse import LakeFiles, analyst_connection

DEMO = [sys.executable, "-m", "warroom_pipelines.cli", "demo"]


def test_registry_segments_keep_neighbours_together() -> None:
    registry = ["a", "b", "x", "c", "d", "e"]
    assert registry_segments(registry, ["a", "b", "c", "e"]) == [["a", "b"], ["c"], ["e"]]
    assert registry_segments(registry, ["d", "c"]) == [["c", "d"]]
    assert registry_segments(registry, []) == []


def test_the_demo_materializes_every_brand_day_in_one_run_per_day(
    tmp_path: Path, monkeypatch
) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "WARROOM_PROFILE": "local"}
    for setting in ("PERFORMANCE_ENCRYPTION_KEY", "WARROOM_DUCKDB_PATH", "WARROOM_BATCH_BRANDS"):
        env.pop(setting, None)
    done = subprocess.run(
        [*DEMO, "--days", "9", "--brands", "acme-outdoor", "globex-beauty"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runs failed" not in done.stdout
    assert "Incidents the demo source injected" in done.stdout
    assert "by the level they were injected at" in done.stdout

    with analyst_connection(LakeFiles(tmp_path / "home" / "warroom.ducklake")) as con:
        per_brand = con.execute(
            "SELECT brand, count(DISTINCT date) FROM unified_performance GROUP BY ALL ORDER BY 1"
        ).fetchall()
    assert per_brand == [("acme-outdoor", 9), ("globex-beauty", 9)]

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(job_name="brand_refresh"))
        assert len(runs) == 9  # one per day, both brands in it
        assert {r.tags.get("warroom/batch") for r in runs} == {"acme-outdoor..globex-beauty"}


def test_the_closing_table_explains_every_column() -> None:
    injected = demo_incidents("acme-outdoor", date(2026, 10, 1), date(2026, 10, 31))
    table = found_vs_injected(empty_anomalies(), injected)
    lines = FOUND_VS_INJECTED_LEGEND.splitlines()
    explained = {line.split()[0] for line in lines if line[2:3] != " "}
    assert set(table.columns) - {"brand", "injected_types"} == explained
    assert "false alarms" in FOUND_VS_INJECTED_LEGEND


def test_the_found_by_level_table_explains_every_column() -> None:
    injected = demo_incidents("acme-outdoor", date(2026, 10, 1), date(2026, 10, 31))
    table = found_by_level(empty_anomalies(), injected)
    assert table["level"].tolist() == ["brand", "channel", "campaign", "all"]
    assert table.loc[table["level"] == "all", "injected"].item() == len(injected)
    lines = FOUND_BY_LEVEL_LEGEND.splitlines()
    explained = {line.split()[0] for line in lines if line[2:3] != " "}
    assert set(table.columns) == explained
