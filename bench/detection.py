"""Replay detector configurations on the demo world and the held-out world: one headline line
per world and configuration, and the spread of the headline across brands (each brand is its
own seed).

    OMP_NUM_THREADS=1 uv run python bench/detection.py ecod robust_z:min_sigma=3 \
        --brands 3 --days 14 --end 2026-10-31 --worlds demo held-out

Each spec is `detector[:key=value,...]` (DetectorConfig fields). Prints markdown tables
(bench/DETECTION.md records the results).
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import pandas as pd

from warroom_pipelines.channels.demo import WORLDS, DemoConfig
from warroom_pipelines.sentry import backtest
from warroom_pipelines.sentry.detectors import DetectorConfig


def _config(spec: str) -> DetectorConfig:
    name, _, rest = spec.partition(":")
    fields: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, value = item.split("=")
        fields[key] = int(value) if key in ("window_days", "max_train_rows") else float(value)
    return DetectorConfig(detector=name, **fields)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=3)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--worlds", nargs="+", choices=sorted(WORLDS), default=["demo"])
    parser.add_argument("--budgets", action="store_true")
    parser.add_argument("--finished", action="store_true", help="finished data only, no replay")
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args()
    start = args.end - timedelta(days=args.days - 1)
    lines = []
    for world in args.worlds:
        brands = backtest.brand_names(world, args.brands)
        demo = DemoConfig(world=WORLDS[world])
        for spec in args.specs:
            report = backtest.run(
                brands,
                start,
                args.end,
                _config(spec),
                demo=demo,
                budgets=args.budgets,
                replay=not args.finished,
            )
            line = backtest.headline(report.by_level, report.alerts).assign(
                world=world,
                detector=spec,
                incidents=len(report.incidents),
                alerts=int(report.alerts.loc["all", "alerts"]),
                s_per_tick_median=report.runtime.median(),
                s_per_tick_p95=report.runtime.quantile(0.95),
            )
            finished = report.finished.add_prefix("finished ")
            lines.append(line if args.finished else pd.concat([line, finished], axis=1))
            print(f"\n{world} {spec}", flush=True)
            tables = {
                "by level": report.by_level,
                "by type": report.by_type,
                "alerts": report.alerts,
                "benign": report.benign,
                "finished data": report.finished,
            }
            for title, table in tables.items():
                print(f"\n{title}:\n{table.round(3).to_markdown()}", flush=True)
            print(f"\nper brand:\n{backtest.per_brand(report).round(3).to_markdown()}")
    print()
    print(pd.concat(lines, ignore_index=True).round(3).T.to_markdown())


if __name__ == "__main__":
    main()
