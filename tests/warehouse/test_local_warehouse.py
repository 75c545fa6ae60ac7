"""The local warehouse (a DuckLake) with analysts' readers and other writers in other processes.

Issue 16: a read-only DuckDB connection held by an analyst made every run fail after 120 s; a
run's slice replacement must stay atomic whatever happens to the writer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pytest

from tests.warehouse.processes import DAY, ROWS, TABLE, generation
from warroom_pipelines import clock
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.assets.maintenance import warehouse_maintenance
from warroom_pipelines.assets.unified import unified_performance
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.warehouse import DuckDBWarehouse, LakeFiles, TableRef

REPO = Path(__file__).resolve().parents[2]
DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(4)]


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.warehouse.processes", *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _expect(process: subprocess.Popen[str], word: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith(word):
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(f"expected {word!r} from the process, got {line!r}: {err[-2000:]}")
    return line


def _ask(reader: subprocess.Popen[str], command: str = "read") -> list[list[Any]]:
    assert reader.stdin is not None
    reader.stdin.write(command + "\n")
    reader.stdin.flush()
    return json.loads(_expect(reader, "["))


@pytest.fixture
def readers(warehouse_path: Path, resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Two analysts, each on one connection kept open across the test: one in autocommit (a
    CLI or BI tool), one holding a transaction open (a notebook that ran BEGIN)."""
    warehouse = resources["warehouse"].get()
    warehouse.replace_slices(  # the lake exists before they connect, as after `warroom demo`
        TableRef("main", "unified_performance"),
        pd.DataFrame({"brand": ["acme"], "date": [pd.Timestamp(DAYS[0])], "spend": [0.0]}),
        {"acme": [DAYS[0]]},
    )
    script = str(LakeFiles(warehouse_path).analyst_script)
    started = {mode: _start("reader", script, mode) for mode in ("autocommit", "transaction")}
    for process in started.values():
        _expect(process, "ready")
    yield started
    for process in started.values():
        process.kill()
        process.wait(timeout=30)


def _committed(warehouse_path: Path) -> list[list[Any]]:
    frame = DuckDBWarehouse(warehouse_path, read_only=True).query(
        "SELECT brand, count(*)::BIGINT AS n, round(sum(spend), 4) AS spend "
        "FROM unified_performance GROUP BY ALL ORDER BY ALL"
    )
    return [[row.brand, int(row.n), float(row.spend)] for row in frame.itertuples()]


def test_readers_held_open_in_other_processes_never_fail_a_run_and_see_each_commit(
    readers: dict[str, subprocess.Popen[str]],
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    warehouse_path: Path,
) -> None:
    instance.add_dynamic_partitions("brands", ["acme", "globex"])
    before = _ask(readers["transaction"])
    seen = []
    for brand, day in [
        ("acme", DAYS[0]),
        ("acme", DAYS[1]),
        ("globex", DAYS[1]),
        *[("acme", d) for d in DAYS[2:]],
    ]:
        result = dg.materialize(
            [*channel_assets, unified_performance],
            instance=instance,
            resources=resources,
            partition_key=partition_key(brand, day),
            raise_on_error=False,
        )
        assert result.success  # before the fix: a lock error after 120 s
        committed = _committed(warehouse_path)
        assert _ask(readers["autocommit"]) == committed  # at once, on the same connection
        seen.append(committed)
    assert len({json.dumps(s) for s in seen}) == len(seen)  # every run changed what they see
    # The reader inside its transaction keeps its snapshot, and blocked no commit.
    assert _ask(readers["transaction"]) == before
    assert _ask(readers["transaction"], "end") == seen[-1]
    assert _ask(readers["autocommit"], "end") == seen[-1]


def _slice(warehouse: DuckDBWarehouse, brand: str) -> pd.DataFrame:
    return warehouse.read_slice(TABLE, brand=brand, start=DAY, end=DAY)


def _whole_generation(frame: pd.DataFrame) -> int:
    """The one generation a slice holds; fails on a half-replaced or half-deleted one."""
    assert len(frame) == ROWS
    assert sorted(frame["row"]) == list(range(ROWS))
    generations = set(frame["generation"])
    assert len(generations) == 1, f"a slice mixing generations {sorted(generations)}"
    return int(generations.pop())


def test_kill_9_before_the_commit_leaves_the_old_rows(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    warehouse.replace_slice(TABLE, generation("acme", 0), brand="acme", dates=[DAY])
    writer = _start("writer", str(warehouse_path), "acme", "1", "--hold-commit")
    _expect(writer, "started")
    _expect(writer, "holding")  # its DELETE and INSERT ran; COMMIT has not
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    assert _whole_generation(_slice(warehouse, "acme")) == 0
    # The next run replaces the slice as if nothing had happened.
    warehouse.replace_slice(TABLE, generation("acme", 7), brand="acme", dates=[DAY])
    assert _whole_generation(_slice(warehouse, "acme")) == 7


def test_warroom_sql_answers_at_once_while_a_run_is_writing(warehouse_path: Path) -> None:
    """Before: `warroom sql` waited, silently, for the writer to let go of the file."""
    warehouse = DuckDBWarehouse(warehouse_path)
    warehouse.replace_slice(TABLE, generation("acme", 0), brand="acme", dates=[DAY])
    writer = _start("writer", str(warehouse_path), "acme", "1", "--hold-commit")
    try:
        _expect(writer, "started")
        _expect(writer, "holding")  # mid-run: its slice deleted and re-inserted, not committed
        done = subprocess.run(
            [
                str(Path(sys.prefix) / "bin" / "warroom"),
                "sql",
                "SELECT 'generation ' || max(generation) || ' of ' || count(*) FROM generations",
            ],
            env={**os.environ, "WARROOM_DUCKDB_PATH": str(warehouse_path)},
            capture_output=True,
            text=True,
            timeout=60,  # the old code waited 120 s for the lock, then failed
        )
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert f"generation 0 of {ROWS}" in done.stdout


@pytest.mark.parametrize("commits_before_kill", [0, 1, 3])
def test_kill_9_in_the_middle_of_writing_leaves_old_or_new_rows(
    warehouse_path: Path, commits_before_kill: int
) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    warehouse.replace_slice(TABLE, generation("acme", 0), brand="acme", dates=[DAY])
    writer = _start("writer", str(warehouse_path), "acme", "50")
    _expect(writer, "started")
    for _ in range(commits_before_kill):
        _expect(writer, "committed")
    os.kill(writer.pid, signal.SIGKILL)  # somewhere in the next replacement
    writer.wait(timeout=30)
    found = _whole_generation(_slice(warehouse, "acme"))
    assert commits_before_kill <= found <= commits_before_kill + 1


def test_two_writers_at_once_both_commit_and_leave_whole_slices(warehouse_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    warehouse.replace_slice(TABLE, generation("acme", 0), brand="acme", dates=[DAY])
    writers = [_start("writer", str(warehouse_path), brand, "6") for brand in ("acme", "globex")]
    for writer in writers:
        out, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err[-3000:]
        assert out.splitlines()[-1] == "committed 6"
    assert _whole_generation(_slice(warehouse, "acme")) == 6
    assert _whole_generation(_slice(warehouse, "globex")) == 6


def test_the_maintenance_job_compacts_small_files_and_keeps_the_rows(
    warehouse_path: Path, instance: dg.DagsterInstance
) -> None:
    warehouse = DuckDBWarehouse(warehouse_path)
    for number in range(1, 6):
        warehouse.replace_slice(TABLE, generation("acme", number), brand="acme", dates=[DAY])
        warehouse.replace_slice(TABLE, generation("globex", number), brand="globex", dates=[DAY])
    files = sorted(LakeFiles(warehouse_path).data.rglob("*.parquet"))
    with clock.pinned("2030-01-01T00:00Z"):  # every snapshot but the last is past retention
        result = warehouse_maintenance.execute_in_process(
            instance=instance, resources={"warehouse": WarehouseResource(path=str(warehouse_path))}
        )
    assert result.success
    (materialized,) = [e for e in result.all_node_events if e.event_type_value == "STEP_OUTPUT"]
    report = {k: v.value for k, v in materialized.event_specific_data.metadata.items()}
    assert report["snapshots_expired"] > 0
    assert report["data_files_after"] < report["data_files_before"]
    assert len(sorted(LakeFiles(warehouse_path).data.rglob("*.parquet"))) < len(files)
    assert _whole_generation(_slice(warehouse, "acme")) == 5
    assert _whole_generation(_slice(warehouse, "globex")) == 5
