"""The Sentry's scoring time per brand-day against history length and campaign count.

    uv run python bench/sentry_cost.py --history 7 10 28 90 --campaigns 10 100 1000

History is demo data built in memory (cached under --cache; generation is not timed), one
brand, ending on the scored day. `detect` runs with the default config; the best of
--repeat runs is reported (one run for cases above 500,000 rows).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from warroom_pipelines.channels.demo import DemoConfig, demo_metrics
from warroom_pipelines.schema import finalize
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import detect, history_window

DAY = date(2026, 11, 27)
BRAND = "bench-sentry"


def history(campaigns: int, days: int, cache: Path) -> pd.DataFrame:
    """`days` days of unified rows ending on DAY, for about `campaigns` campaigns in total."""
    path = cache / f"history-{campaigns}-{days}.pkl"
    if path.exists():
        return pd.read_pickle(path)
    config = DemoConfig(campaigns_per_channel=max(1, campaigns // 3))
    ingested = datetime(2026, 11, 28, tzinfo=UTC)
    frames = [
        finalize(
            demo_metrics(BRAND, DAY - timedelta(days=d), config), brand=BRAND, ingested_at=ingested
        )
        for d in range(days - 1, -1, -1)
    ]
    frame = pd.concat(frames, ignore_index=True)
    cache.mkdir(parents=True, exist_ok=True)
    frame.to_pickle(path)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, nargs="+", default=[7, 10, 28, 90])
    parser.add_argument("--campaigns", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/warroom_sentry_cost"))
    args = parser.parse_args()
    # detect trains on the window only (what the asset reads); rows before it are dropped.
    window_start = pd.Timestamp(history_window(DAY, DetectorConfig())[0], tz="UTC")
    print(
        "| campaigns | history days | rows | rows in window | anomalies | s per brand-day "
        "| µs per row | µs per window row |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for campaigns in args.campaigns:
        for days in args.history:
            frame = history(campaigns, days, args.cache)
            repeat = 1 if len(frame) > 500_000 else args.repeat
            timings, found = [], 0
            for _ in range(repeat):
                start = time.perf_counter()
                found = len(detect(frame, DAY))
                timings.append(time.perf_counter() - start)
            best = min(timings)
            window = int((frame["hour_start"] >= window_start).sum())
            print(
                f"| {campaigns:,} | {days} | {len(frame):,} | {window:,} | {found} | {best:.2f} "
                f"| {best / len(frame) * 1e6:.1f} | {best / window * 1e6:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
