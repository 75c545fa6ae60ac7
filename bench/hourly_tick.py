"""One hourly refresh (today's partition of every brand) through Dagster and without it.

    uv run python bench/hourly_tick.py --brands 10 --history-days 28

The parent writes `--history-days` days before today for every brand straight into a template
DuckDB file with the plain functions (not timed), so the Sentry has history to score against.
Each mode then runs in its own process on a copy of that file, so that peak memory is its own:
"plain" calls the domain functions the assets call (demo source, validation, channel slice,
unified slice, quality checks on what was stored, Sentry on the brand's window, anomalies
slice); "dagster" executes the `brand_refresh` job in process, one run per brand, on a fresh
SQLite instance. Alert dispatch (a sensor) is not part of either.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from warroom_pipelines.channels.clock import utc_day_bounds
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.schema import finalize, quality_checks, validate_raw
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import detect, history_window
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

UNIFIED = TableRef("main", "unified_performance")
DEMO = TableRef("channel_metrics", "demo")
ANOMALIES = TableRef("main", "performance_anomalies")


def _brands(count: int) -> list[str]:
    return [f"bench-{n:05d}" for n in range(count)]


def write_history(path: Path, brands: list[str], today: date, days: int) -> int:
    """Unified rows of `days` whole days before today, every brand, one write per brand."""
    warehouse = DuckDBWarehouse(path)
    ingested = datetime.now(UTC)
    dates = [today - timedelta(days=d) for d in range(days, 0, -1)]
    rows = 0
    for brand in brands:
        frame = pd.concat(
            [finalize(demo_metrics(brand, d), brand=brand, ingested_at=ingested) for d in dates],
            ignore_index=True,
        )
        rows += warehouse.replace_slice(UNIFIED, frame, brand=brand, dates=dates)
    return rows


Refresh = Callable[[str], None]


def plain(today: date, path: Path) -> tuple[Refresh, Callable[[], int]]:
    """The refresh of one brand with the domain functions, and the anomaly count so far."""
    warehouse = DuckDBWarehouse(path)
    config = DetectorConfig()
    anomalies = 0

    def refresh(brand: str) -> None:
        nonlocal anomalies
        now = datetime.now(UTC)
        raw = demo_metrics(brand, today, as_of=pd.Timestamp(now))
        validate_raw(raw, brand=brand, channel="demo")
        warehouse.replace_slice(DEMO, raw, brand=brand, dates=[today])
        table = finalize(raw, brand=brand, ingested_at=now)
        warehouse.replace_slice(UNIFIED, table, brand=brand, dates=[today])
        stored = warehouse.read_slice(UNIFIED, brand=brand, start=today, end=today)
        complete_before = min(utc_day_bounds(today)[1], pd.Timestamp(now).floor("h"))
        quality_checks(stored, complete_before=complete_before)
        first, last = history_window(today, config)
        history = warehouse.read_slice(UNIFIED, brand=brand, start=first, end=last)
        found = detect(history, today, config)
        warehouse.replace_slice(ANOMALIES, found, brand=brand, dates=[today])
        anomalies += len(found)

    return refresh, lambda: anomalies


def dagster(today: date, path: Path, brands: list[str]) -> tuple[Refresh, Callable[[], int]]:
    """One `brand_refresh` run in process per brand on an instance with the brands registered."""
    os.environ["DAGSTER_HOME"] = str(path.parent)
    os.environ["WARROOM_DUCKDB_PATH"] = str(path)
    import dagster as dg

    from warroom_pipelines.definitions import defs
    from warroom_pipelines.partitions import BRANDS, partition_key

    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions(BRANDS, brands)
    job = defs.get_job_def("brand_refresh")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    def refresh(brand: str) -> None:
        result = job.execute_in_process(
            instance=instance, partition_key=partition_key(brand, today), run_config=quiet
        )
        assert result.success

    def anomalies() -> int:
        frame = DuckDBWarehouse(path).query(
            "SELECT count(*) AS n FROM performance_anomalies WHERE date = ?", [today]
        )
        return int(frame["n"].iloc[0])

    return refresh, anomalies


def child(mode: str, count: int, today: date, template: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        path = Path(tmp) / "warehouse.duckdb"
        shutil.copy(template, path)
        brands = _brands(count)
        # Imports, definitions and brand registration happen once per process, not per tick.
        refresh, found = dagster(today, path, brands) if mode == "dagster" else plain(today, path)
        per_brand = []
        start, cpu = time.perf_counter(), time.process_time()
        for brand in brands:
            begin = time.perf_counter()
            refresh(brand)
            per_brand.append(time.perf_counter() - begin)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        anomalies = found()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "mode": mode,
                "anomalies": anomalies,
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_mib": peak_mib,
                "first_s": per_brand[0],
                "median_s": sorted(per_brand)[len(per_brand) // 2],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=10)
    parser.add_argument("--history-days", type=int, default=28)
    parser.add_argument("--mode", choices=["both", "dagster", "plain"], default="both")
    parser.add_argument("--today", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--template", type=Path, default=None)
    args = parser.parse_args()
    if args.mode != "both":
        child(args.mode, args.brands, args.today, args.template)
        return
    with tempfile.TemporaryDirectory() as tmp:
        template = Path(tmp) / "template.duckdb"
        start = time.perf_counter()
        rows = write_history(template, _brands(args.brands), args.today, args.history_days)
        print(
            f"history: {args.brands} brands x {args.history_days} days = {rows:,} unified rows "
            f"written in {time.perf_counter() - start:.0f} s (not timed below)"
        )
        results = {}
        for mode in ("plain", "dagster"):
            command = [sys.executable, __file__, "--mode", mode, "--brands", str(args.brands)]
            command += ["--today", str(args.today), "--template", str(template)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            results[mode] = json.loads(out.strip().splitlines()[-1])
    print(f"hourly refresh of {args.today} for {args.brands} brands")
    print(
        "| mode | anomalies | wall s | cpu s | wall ms per brand | cpu ms per brand "
        "| first brand ms | median brand ms | peak MiB |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for mode, r in results.items():
        print(
            f"| {mode} | {r['anomalies']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} "
            f"| {r['wall_s'] / args.brands * 1000:.0f} | {r['cpu_s'] / args.brands * 1000:.0f} "
            f"| {r['first_s'] * 1000:.0f} | {r['median_s'] * 1000:.0f} | {r['peak_mib']:.0f} |"
        )
    ratio = results["dagster"]["wall_s"] / results["plain"]["wall_s"]
    extra_ms = (results["dagster"]["wall_s"] - results["plain"]["wall_s"]) / args.brands * 1000
    print(f"Dagster / plain wall time: {ratio:.2f}x ({extra_ms:.0f} ms per brand of orchestration)")


if __name__ == "__main__":
    main()
