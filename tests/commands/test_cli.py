"""The `warroom` command line: quick commands import nothing heavy, warnings are one plain
line, `warroom sql` writes CSV and JSON and reads files, the backtest shows progress.

Speed itself is measured by bench/cli_latency.py, not asserted here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from warroom_pipelines.cli import main
from warroom_pipelines.commands.brands import registered_brands
from warroom_pipelines.warehouse import DuckDBWarehouse

HEAVY = ("dagster", "pandas", "pyod", "duckdb", "numpy")


def run_cli(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "DAGSTER_HOME": str(home), "WARROOM_PROFILE": "local", **env}
    for setting in ("PERFORMANCE_ENCRYPTION_KEY", "WARROOM_DUCKDB_PATH"):
        if setting not in env:
            environ.pop(setting, None)
    return subprocess.run(
        [sys.executable, "-m", "warroom_pipelines.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("args", [["--help"], ["brands", "list"], ["brands", "--help"]])
def test_quick_commands_import_no_heavy_library(tmp_path: Path, args: list[str]) -> None:
    # Register a brand through Dagster first, so that the listing has something to read.
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions("brands", ["acme-outdoor"])
    probe = (
        "import sys\n"
        "from warroom_pipelines.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('loaded:', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    if args == ["brands", "list"]:
        assert "acme-outdoor" in done.stdout


def test_the_fast_brand_listing_agrees_with_dagster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions("brands", ["zeta", "acme", "mid"])
        instance.add_dynamic_partitions("other", ["not-a-brand"])
        instance.delete_dynamic_partition("brands", "mid")
        instance.add_dynamic_partitions("brands", ["beta"])
        assert registered_brands() == list(instance.get_dynamic_partitions("brands"))
    assert registered_brands() == ["zeta", "acme", "beta"]


def test_an_instance_with_its_own_storage_is_asked_through_dagster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as default_place:
        default_place.add_dynamic_partitions("brands", ["stale"])  # where the fast path looks
    (tmp_path / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {tmp_path / 'elsewhere'}\n", encoding="utf-8"
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("brands", ["acme"])
    assert registered_brands() == ["acme"]


def test_warnings_are_one_plain_line_and_the_development_key_notice_once(
    tmp_path: Path,
) -> None:
    done = run_cli(["keys", "list"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert not re.search(r"\.py:\d+", done.stderr), done.stderr
    notices = [line for line in done.stderr.splitlines() if "development key" in line]
    assert len(notices) == 1, done.stderr
    assert notices[0].startswith("warroom: note: PERFORMANCE_ENCRYPTION_KEY is not set")


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "warroom.ducklake"
    DuckDBWarehouse(str(path)).execute_script(
        "CREATE TABLE spend AS SELECT * FROM (VALUES "
        "('acme', DATE '2026-11-14', 12.5, 'GBP'), ('globex', DATE '2026-11-14', NULL, 'USD')"
        ") t(brand, date, spend, currency)"
    )
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("WARROOM_DUCKDB_PATH", str(path))
    return path


QUERY = "SELECT brand, spend, currency FROM spend ORDER BY brand"


def test_sql_writes_csv_with_a_header(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--format", "csv", QUERY]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [["brand", "spend", "currency"], ["acme", "12.5", "GBP"], ["globex", "", "USD"]]


def test_sql_writes_json_rows(warehouse: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sql", "--format", "json", QUERY]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"brand": "acme", "spend": 12.5, "currency": "GBP"},
        {"brand": "globex", "spend": None, "currency": "USD"},
    ]


def test_sql_reads_the_query_from_a_file(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = tmp_path / "query.sql"
    query.write_text("-- the analyst's saved query\n" + QUERY + ";\n", encoding="utf-8")
    assert main(["sql", "--file", str(query)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["brand", "spend", "currency"]
    assert table[1].split() == ["acme", "12.5", "GBP"]


def test_sql_says_which_file_it_cannot_read(
    warehouse: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sql", "--file", str(tmp_path / "missing.sql")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_sql_takes_a_query_or_a_file_not_both(warehouse: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sql", QUERY, "--file", "query.sql"])
    assert exited.value.code == 2


def test_the_backtest_prints_a_line_per_brand_as_it_goes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["backtest", "--brands", "2", "--days", "1", "--end", "2026-10-31"]
    assert main([*args, "--window-days", "7"]) == 0
    out = capsys.readouterr().out
    assert "brand-00 replayed (1/2)" in out and "brand-01 replayed (2/2)" in out
    assert out.index("brand-01 replayed") < out.index("Recall within 2 h")
