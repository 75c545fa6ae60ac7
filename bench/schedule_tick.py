"""Evaluate the hourly and restatement schedule ticks with many brands registered.

uv run python bench/schedule_tick.py --brands 1000
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import dagster as dg

from warroom_pipelines.definitions import defs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("brands", [f"brand-{n:05d}" for n in range(args.brands)])
        for name in ("hourly_refresh", "daily_restatement"):
            schedule = repository.get_schedule_def(name)
            timings, requests = [], 0
            for _ in range(args.repeat):
                start = time.perf_counter()
                with dg.build_schedule_context(
                    instance=instance,
                    scheduled_execution_time=datetime(2026, 11, 29, 7, 5, tzinfo=UTC),
                    repository_def=repository,
                ) as context:
                    data = schedule.evaluate_tick(context)
                timings.append(time.perf_counter() - start)
                requests = len(data.run_requests or [])
            timings.sort()
            print(
                f"{name}: {args.brands} brands -> {requests} run requests; "
                f"median {timings[len(timings) // 2]:.2f} s, max {timings[-1]:.2f} s"
            )


if __name__ == "__main__":
    main()
