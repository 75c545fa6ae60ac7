"""The Sentry's scoring time per brand-day against history length and campaign count.

    uv run python bench/sentry_cost.py --history 7 10 28 90 --campaigns 10 100 1000
    uv run python bench/sentry_cost.py --history 30 --campaigns 100 --tick 14

History is demo data built in memory (cached under --cache; generation is not timed), one
brand, ending on the scored day. `detect` runs with the default config; the best of
--repeat runs is reported (one run for cases above 500,000 rows).

`--tick H` also times an hourly tick at H:05 of the scored day (the rows of the hours ended
by then, ingested then): scoring the whole day again, and scoring only the hours settled
since the tick at H-1:05, that tick's rows kept (what the hourly refresh does).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from warroom_pipelines.channels.demo import DemoConfig, demo_metrics
from warroom_pipelines.schema import finalize
from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.engine import Scored, detect, history_window, scored_until

DAY = date(2026, 11, 27)
BRAND = "bench-sentry"
HOUR = pd.Timedelta(hours=1)


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


def _best(repeat: int, run: Callable[[], object]) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def tick_costs(frame: pd.DataFrame, hour: int, repeat: int) -> tuple[float, float]:
    """Seconds of the tick at `hour`:05 scoring the whole day, and only the newly settled
    hours (the previous tick's rows kept)."""
    tick = pd.Timestamp(DAY, tz="UTC") + pd.Timedelta(hours=hour, minutes=5)

    def seen(at: pd.Timestamp) -> pd.DataFrame:
        return frame.loc[frame["hour_start"] + HOUR <= at].assign(ingested_at=at)

    now, before = seen(tick), seen(tick - HOUR)
    earlier = Scored(detect(before, DAY), scored_until(before, DAY))
    assert detect(now, DAY, scored=earlier).equals(detect(now, DAY))
    whole = _best(repeat, lambda: detect(now, DAY))
    return whole, _best(repeat, lambda: detect(now, DAY, scored=earlier))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, nargs="+", default=[7, 10, 28, 90])
    parser.add_argument("--campaigns", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/warroom_sentry_cost"))
    parser.add_argument("--tick", type=int, default=None, help="UTC hour of a tick to time")
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
            found = len(detect(frame, DAY))
            best = _best(repeat, lambda: detect(frame, DAY))  # noqa: B023 (called here)
            window = int((frame["hour_start"] >= window_start).sum())
            print(
                f"| {campaigns:,} | {days} | {len(frame):,} | {window:,} | {found} | {best:.2f} "
                f"| {best / len(frame) * 1e6:.1f} | {best / window * 1e6:.1f} |",
                flush=True,
            )
            if args.tick is not None:
                whole, newly = tick_costs(frame, args.tick, repeat)
                print(
                    f"|   tick {args.tick:02d}:05 | whole day {whole:.2f} s | newly settled "
                    f"hours {newly:.2f} s |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
