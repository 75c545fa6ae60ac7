"""Compare detectors on the demo source: one summary line per detector configuration.

    uv run python bench/detection.py --brands 3 --weeks 4 --end 2026-10-31 \
        --cache /tmp/sentry_cache robust_z:min_sigma=3 ecod copod hbos iforest knn

Each argument is `detector[:key=value,...]` (DetectorConfig fields). Prints a markdown table
(bench/DETECTION.md records the results).
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from warroom_pipelines.sentry import backtest
from warroom_pipelines.sentry.detectors import DetectorConfig


def _config(spec: str) -> DetectorConfig:
    name, _, rest = spec.partition(":")
    fields: dict[str, object] = {}
    for item in filter(None, rest.split(",")):
        key, value = item.split("=")
        fields[key] = int(value) if key in ("window_days", "max_train_rows") else float(value)
    return DetectorConfig(detector=name, **fields)  # type: ignore[arg-type]


def summary(spec: str, report: backtest.BacktestReport) -> dict[str, object]:
    scored = report.incidents
    wide = scored["campaign_id"].isna()
    line: dict[str, object] = {"detector": spec}
    wide_recall = scored.loc[wide, "recall_brand_or_channel"].mean()
    line["recall channel-wide (brand or channel)"] = wide_recall
    line["recall all (brand or channel)"] = scored["recall_brand_or_channel"].mean()
    line["recall all (any level)"] = scored["recall_any"].mean()
    for kind, rows in scored.loc[wide].groupby("incident_type"):
        line[f"{kind}"] = rows["recall_brand_or_channel"].mean()
    line["median h to detect"] = scored["hours_to_detect"].median()
    alerts = report.alerts
    line["precision (brand or channel)"] = alerts.loc["brand_or_channel", "precision"]
    line["false/brand-week (brand or channel)"] = alerts.loc[
        "brand_or_channel", "false_per_brand_week"
    ]
    line["false/brand-week (campaign)"] = alerts.loc["campaign", "false_per_brand_week"]
    line["s/brand-day mean"] = report.runtime.mean()
    line["s/brand-day p95"] = report.runtime.quantile(0.95)
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 10, 31))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args()
    start = args.end - timedelta(days=7 * args.weeks - 1)
    brands = [f"brand-{n:02d}" for n in range(args.brands)]
    lines = []
    for spec in args.specs:
        report = backtest.run(brands, start, args.end, _config(spec), cache=args.cache)
        lines.append(summary(spec, report))
        print(pd.DataFrame([lines[-1]]).round(3).to_markdown(index=False), flush=True)
    print()
    print(pd.DataFrame(lines).round(3).to_markdown(index=False))


if __name__ == "__main__":
    main()
