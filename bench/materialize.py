"""Materialize B brands x D days through Dagster and the same work without it.

    uv run python bench/materialize.py --brands 20 --days 14

Each mode runs in its own process so that peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def _work(brands: int, days: int) -> list[tuple[str, date]]:
    last = date(2026, 11, 27)
    return [
        (f"bench-{b:04d}", last - timedelta(days=d)) for b in range(brands) for d in range(days)
    ]


def run_plain(brands: int, days: int, home: Path) -> int:
    from warroom_pipelines.channels.demo import demo_metrics
    from warroom_pipelines.schema import finalize, validate_raw
    from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

    warehouse = DuckDBWarehouse(home / "plain.ducklake")
    rows = 0
    for brand, day in _work(brands, days):
        raw = demo_metrics(brand, day)
        validate_raw(raw, brand=brand)
        warehouse.replace_slice(TableRef("channel_metrics", "demo"), raw, brand=brand, dates=[day])
        table = finalize(raw, brand=brand, ingested_at=datetime.now(UTC))
        rows += warehouse.replace_slice(
            TableRef("main", "unified_performance"), table, brand=brand, dates=[day]
        )
    return rows


def run_dagster(brands: int, days: int, home: Path) -> int:
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ["WARROOM_DUCKDB_PATH"] = str(home / "dagster.ducklake")
    import dagster as dg

    from warroom_pipelines.brand_keys import BRANDS, DEMO_REGISTRY
    from warroom_pipelines.definitions import defs
    from warroom_pipelines.partitions import partition_key
    from warroom_pipelines.warehouse import DuckDBWarehouse

    instance = dg.DagsterInstance.get()
    work = _work(brands, days)
    # Demo brands, as `warroom brands add --demo` registers them (only the demo source serves
    # them; a brand in BRANDS alone is a connected brand, read from platforms it has no keys for).
    for registry in (BRANDS, DEMO_REGISTRY):
        instance.add_dynamic_partitions(registry, sorted({b for b, _ in work}))
    job = defs.resolve_job_def("brand_refresh")
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    for brand, day in work:
        result = job.execute_in_process(
            instance=instance, partition_key=partition_key(brand, day), run_config=quiet
        )
        assert result.success
    frame = DuckDBWarehouse(home / "dagster.ducklake").query(
        "SELECT count(*) AS n FROM unified_performance"
    )
    return int(frame["n"].iloc[0])


def child(mode: str, brands: int, days: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        start, cpu = time.perf_counter(), time.process_time()
        rows = (run_dagster if mode == "dagster" else run_plain)(brands, days, Path(tmp))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"mode": mode, "rows": rows, "wall_s": wall, "cpu_s": cpu, "peak_mib": peak_mib})
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--mode", choices=["both", "dagster", "plain"], default="both")
    args = parser.parse_args()
    if args.mode != "both":
        child(args.mode, args.brands, args.days)
        return
    results = {}
    for mode in ("plain", "dagster"):
        out = (
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--mode",
                    mode,
                    "--brands",
                    str(args.brands),
                    "--days",
                    str(args.days),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        results[mode] = json.loads(out)
    print(f"{args.brands} brands x {args.days} days = {args.brands * args.days} brand-days")
    print(f"{'mode':8} {'rows':>9} {'wall s':>8} {'cpu s':>8} {'rows/s':>9} {'peak MiB':>9}")
    for mode, r in results.items():
        print(
            f"{mode:8} {r['rows']:>9} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
            f"{r['rows'] / r['wall_s']:>9.0f} {r['peak_mib']:>9.0f}"
        )
    ratio = results["dagster"]["wall_s"] / results["plain"]["wall_s"]
    extra_s = results["dagster"]["wall_s"] - results["plain"]["wall_s"]
    overhead_ms = extra_s / (args.brands * args.days) * 1000
    print(
        f"Dagster / plain wall time: {ratio:.2f}x "
        f"({overhead_ms:.0f} ms per brand-day of orchestration)"
    )


if __name__ == "__main__":
    main()
