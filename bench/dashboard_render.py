"""Render the Command Center for B brands x D days of demo data; page sizes and browser load.

    uv run python bench/dashboard_render.py --brands 20 --days 15

Builds a scratch DuckDB warehouse (plain Python, no Dagster), times `publish` (every brand page
and the overview), and loads a brand page and the overview in headless Chromium, reporting the
browser's own navigation timing (DOMContentLoaded and load event, from navigationStart).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from tests.dashboard.browser import Chromium
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.dashboard import create_views, publish
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

TIMING = (
    "(() => { const t = performance.getEntriesByType('navigation')[0];"
    " return [t.domContentLoadedEventEnd, t.loadEventEnd]; })()"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--days", type=int, default=15)
    args = parser.parse_args()
    now = pd.Timestamp("2026-11-15 14:37", tz="UTC")
    days = [now.date() - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    brands = [f"brand-{n:04d}" for n in range(args.brands)]
    # Chromium may still be writing its profile as it exits: leftovers are not a failure.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        warehouse = DuckDBWarehouse(Path(tmp) / "warehouse.ducklake")
        start = time.perf_counter()
        rows = 0
        for brand in brands:
            raw = pd.concat([demo_metrics(brand, d) for d in days], ignore_index=True)
            table = finalize(raw, brand=brand, ingested_at=datetime(2026, 11, 15, tzinfo=UTC))
            rows += warehouse.replace_slice(
                TableRef("main", "unified_performance"),
                table,
                brand=brand,
                dates=[date.fromisoformat(str(d)) for d in days],
            )
        print(
            f"warehouse: {args.brands} brands x {args.days} days, {rows:,} rows "
            f"({time.perf_counter() - start:.1f} s)"
        )

        start = time.perf_counter()
        create_views(warehouse)
        views_s = time.perf_counter() - start
        start = time.perf_counter()
        published = publish(warehouse, Path(tmp) / "pages", now=now)
        publish_s = time.perf_counter() - start
        sizes = [Path(p).stat().st_size for p in published.brand_pages.values()]
        print(f"create_views: {views_s:.2f} s")
        print(
            f"publish: {publish_s:.2f} s for {len(sizes)} brand pages + overview "
            f"({publish_s / len(sizes) * 1000:.0f} ms per brand)"
        )
        print(
            f"brand page size: median {sorted(sizes)[len(sizes) // 2] / 1024:.0f} KiB, "
            f"max {max(sizes) / 1024:.0f} KiB; overview "
            f"{Path(published.overview).stat().st_size / 1024:.0f} KiB"
        )

        browser = Chromium(Path(tmp) / "chromium")
        try:
            for name, page in (
                ("brand page", Path(published.brand_pages[brands[0]])),
                ("overview", Path(published.overview)),
            ):
                report = browser.open(
                    page, screenshot=Path(tmp) / "shot.png", probes={"timing": TIMING}
                )
                dom, load = report.values["timing"]
                print(f"chromium {name}: DOMContentLoaded {dom:.0f} ms, load {load:.0f} ms")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
