"""Peak memory of one brand-day run of `brand_refresh` against the number of registered brands.

    uv run python bench/brand_memory.py --brands 10 1000

Each brand count runs in its own fresh process (temporary DAGSTER_HOME and DuckDB file):
register the brands, then execute one brand-day in process. Max RSS is read before the run
(after imports and registration) and after it.
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
from pathlib import Path

DAY = "2026-11-27"


def _max_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(brands: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        os.environ["DAGSTER_HOME"] = str(home)
        os.environ["WARROOM_DUCKDB_PATH"] = str(home / "warehouse.ducklake")
        import dagster as dg

        from warroom_pipelines.definitions import defs
        from warroom_pipelines.partitions import BRANDS, partition_key

        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions(BRANDS, [f"bench-{n:05d}" for n in range(brands)])
        job = defs.resolve_job_def("brand_refresh")
        before = _max_rss_mib()
        quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
        start = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, partition_key=partition_key("bench-00000", DAY), run_config=quiet
        )
        wall = time.perf_counter() - start
        assert result.success
    print(
        json.dumps(
            {"brands": brands, "before_mib": before, "peak_mib": _max_rss_mib(), "wall_s": wall}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, nargs="+", default=[10, 1000])
    parser.add_argument("--child", type=int, default=None)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return
    print("| registered brands | max RSS before the run MiB | peak RSS MiB | run wall s |")
    print("| ---: | ---: | ---: | ---: |")
    for brands in args.brands:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(brands)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        r = json.loads(out.splitlines()[-1])
        print(
            f"| {r['brands']:,} | {r['before_mib']:.0f} | {r['peak_mib']:.0f} "
            f"| {r['wall_s']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
