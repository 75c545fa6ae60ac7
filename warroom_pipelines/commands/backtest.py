"""`warroom backtest`: replay the Sentry over demo brands and score it against the labels."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

from warroom_pipelines import clock
from warroom_pipelines.commands.common import print_frame
from warroom_pipelines.sentry.severity import SEVERITIES


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
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="directory to keep generated demo history between runs",
    )
    parser.set_defaults(handler=run_backtest)


def run_backtest(args: argparse.Namespace) -> int:
    from warroom_pipelines.sentry import backtest
    from warroom_pipelines.sentry.detectors import DetectorConfig

    end = args.end or clock.today() - timedelta(days=1)
    start = end - timedelta(days=7 * args.weeks - 1)
    config = DetectorConfig(
        detector=args.detector,
        threshold=args.threshold,
        volume_threshold=args.volume_threshold,
        contamination=args.contamination,
        window_days=args.window_days,
    )
    brands = [f"brand-{n:02d}" for n in range(args.brands)]
    print(
        f"Backtest {config.detector}: {len(brands)} brands, {start} .. {end}, {config}",
        flush=True,
    )
    done = iter(range(1, len(brands) + 1))

    def progress(brand: str) -> None:
        print(f"  {brand} replayed ({next(done)}/{len(brands)})", flush=True)

    report = backtest.run(
        brands,
        start,
        end,
        config,
        cache=args.cache,
        min_severity=args.min_severity,
        on_brand_done=progress,
    )
    print(
        "\nRecall within 2 h of onset, per incident type and scope (channel-wide / one campaign):"
    )
    print_frame(report.recall.reset_index())
    print(
        "\nAlerts (incidents of warning+ rows): precision and false alerts on incident-free days:"
    )
    print_frame(report.alerts.reset_index())
    seconds = report.runtime
    print(
        f"\nRuntime per brand-day (detect, one core): mean {seconds.mean():.3f} s, "
        f"p95 {seconds.quantile(0.95):.3f} s, max {seconds.max():.3f} s over {len(seconds)}"
    )
    return 0
