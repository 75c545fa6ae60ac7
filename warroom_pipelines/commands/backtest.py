"""`warroom backtest`: replay the Sentry over demo brands tick by tick and score it against
the labels."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import TYPE_CHECKING

from warroom_pipelines import clock
from warroom_pipelines.commands.common import print_frame
from warroom_pipelines.sentry.severity import SEVERITIES

if TYPE_CHECKING:
    from warroom_pipelines.sentry import backtest


def register(parser: argparse.ArgumentParser) -> None:
    from warroom_pipelines.sentry.detectors import DETECTORS, DetectorConfig

    default = DetectorConfig()
    parser.add_argument("--brands", type=int, default=20, help="demo brands (default 20)")
    parser.add_argument("--weeks", type=int, default=8, help="weeks replayed (default 8)")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=None,
        help="last day replayed, YYYY-MM-DD (default yesterday, UTC)",
    )
    parser.add_argument("--detector", choices=DETECTORS, default=default.detector)
    parser.add_argument("--threshold", type=float, default=default.threshold)
    parser.add_argument("--volume-threshold", type=float, default=default.volume_threshold)
    parser.add_argument("--contamination", type=float, default=default.contamination)
    parser.add_argument("--window-days", type=int, default=default.window_days)
    parser.add_argument(
        "--min-severity",
        choices=SEVERITIES,
        default="warning",
        help="rows that count as alerts (default warning)",
    )
    parser.add_argument("--days", type=int, default=None, help="days replayed, instead of --weeks")
    parser.add_argument(
        "--world",
        choices=("demo", "held-out"),
        default="demo",
        help="the demo's own world, or one the Sentry was not tuned on (other sale days, "
        "budgets, holidays, arrivals, incident hours and magnitudes; brands heldout-NN)",
    )
    parser.add_argument(
        "--budgets",
        action="store_true",
        help="give the Sentry the demo's campaign budgets (the pipeline reads none yet)",
    )
    parser.set_defaults(handler=run_backtest)


def run_backtest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from warroom_pipelines.channels.demo import WORLDS, DemoConfig
    from warroom_pipelines.sentry import backtest
    from warroom_pipelines.sentry.detectors import DetectorConfig

    end = args.end or clock.today() - timedelta(days=1)
    start = end - timedelta(days=(args.days or 7 * args.weeks) - 1)
    config = DetectorConfig(
        detector=args.detector,
        threshold=args.threshold,
        volume_threshold=args.volume_threshold,
        contamination=args.contamination,
        window_days=args.window_days,
    )
    brands = backtest.brand_names(args.world, args.brands)
    print(
        f"Backtest {config.detector} on the {args.world} world: {len(brands)} brands, "
        f"{start} .. {end}, replayed tick by tick, {config}",
        flush=True,
    )
    days = (end - start).days + 1
    bar = tqdm(total=len(brands) * days, desc="replaying brand-days", unit="brand-day")

    def progress(brand: str, day: date) -> None:
        bar.update()
        if day == end:
            bar.write(f"  {brand} replayed ({brands.index(brand) + 1}/{len(brands)})")

    report = backtest.run(
        brands,
        start,
        end,
        config,
        demo=DemoConfig(world=WORLDS[args.world]),
        min_severity=args.min_severity,
        budgets=args.budgets,
        on_brand_day=progress,
    )
    bar.close()
    print_report(report)
    return 0


def print_report(report: backtest.BacktestReport) -> None:
    print(
        "\nRecall within 2 h of onset (right type, any level covering it), per level the "
        "incident was injected at:"
    )
    print_frame(report.by_level.reset_index())
    print("\nPer incident type and level:")
    print_frame(report.by_type.reset_index())
    print(
        "\nAlerts (incidents first raised at --min-severity or worse at some tick), per level; "
        f"false alerts per brand-week over all {report.brand_weeks:g} brand-weeks:"
    )
    print_frame(report.alerts.reset_index())
    print("\nFalse alerts during benign events (an alert may meet several kinds):")
    print_frame(report.benign.reset_index())
    print("\nThe same days scored once on the finished data (no replay):")
    print_frame(report.finished)
    seconds = report.runtime
    print(
        f"\nRuntime per brand-tick (detect, one core): mean {seconds.mean():.3f} s, "
        f"p95 {seconds.quantile(0.95):.3f} s, max {seconds.max():.3f} s over {len(seconds)}"
    )
