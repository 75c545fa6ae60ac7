"""`warroom demo`: three demo brands, the last two weeks, materialized through Dagster."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from warroom_pipelines import clock
from warroom_pipelines.channels.demo import demo_incidents
from warroom_pipelines.commands.common import (
    definitions,
    ensure_dagster_home,
    fail,
    instance,
    print_frame,
)
from warroom_pipelines.partitions import BRANDS, DEMO_REGISTRY, demo_brand_keys, validate_brand_key
from warroom_pipelines.schedules import batch_requests

DEMO_BRANDS = ("acme-outdoor", "globex-beauty", "initech-pets")
# What each column of the closing table means, printed under it.
FOUND_VS_INJECTED_LEGEND = """\
  injected         incidents the demo source planted in these days (injected_types: their kinds)
  found            of those, how many the Sentry raised with the right type, warning or worse,
                   while they lasted (at brand, channel or campaign level)
  alert_incidents  incidents the Sentry raised at brand or channel level (what alerts go out for)
  not_injected     of those, how many match no planted incident: false alarms"""
FOUND_BY_LEVEL_LEGEND = """\
  level               where the demo source planted the incident: the whole brand, one
                      channel, or one campaign
  injected            incidents planted at that level
  found_within_2h     raised with the right type by an hour at most 2 h after the onset, at
                      any level that covers it (the brand, its channel or its campaign)
  found_at_all        raised with the right type at some hour while it lasted
  found_at_own_level  raised with the right type within 2 h at the level it was planted at"""


def register(demo: argparse.ArgumentParser) -> None:
    demo.add_argument(
        "--days",
        type=int,
        default=21,
        help="days up to today (default 21: the Sentry scores a day from the days before it)",
    )
    demo.add_argument(
        "--brands", nargs="+", default=list(DEMO_BRANDS), help="brand keys (lowercase slugs)"
    )
    demo.set_defaults(handler=run_demo)


def registry_segments(registry: Sequence[str], wanted: Sequence[str]) -> list[list[str]]:
    """The wanted brands as runs of neighbours in registry order: a batch run is a range of
    the registry, so brands registered in between would join it."""
    segments: list[list[str]] = []
    previous = -2
    for index, brand in enumerate(registry):
        if brand in wanted:
            if index == previous + 1:
                segments[-1].append(brand)
            else:
                segments.append([brand])
            previous = index
    return segments


def run_demo(args: argparse.Namespace) -> int:
    home = ensure_dagster_home()
    brands = [validate_brand_key(b) for b in args.brands]
    inst = instance()
    known = set(inst.get_dynamic_partitions(BRANDS))
    connected = sorted(set(brands) & (known - demo_brand_keys(inst)))
    if connected:
        return fail(
            f"{', '.join(connected)}: registered as connected brands; the demo invents data "
            "only for demo brands (pick other --brands)"
        )
    # The demo's brands are demo brands: the demo source serves them, and only them.
    inst.add_dynamic_partitions(DEMO_REGISTRY, [b for b in brands if b not in known])
    inst.add_dynamic_partitions(BRANDS, [b for b in brands if b not in known])
    job = definitions().resolve_job_def("brand_refresh")

    today = clock.today()
    days = [today - timedelta(days=n) for n in range(args.days - 1, -1, -1)]
    segments = registry_segments(inst.get_dynamic_partitions(BRANDS), brands)
    failed: list[str] = []
    # Dagster logs every event at DEBUG to the console; the progress bar says enough here.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    # A run per day holds every brand (a batch, as the hourly schedule runs them); days go in
    # order because the Sentry scores a day from the days before it.
    for day in tqdm(days, desc="materializing days", unit="day"):
        for segment in segments:
            (request,) = batch_requests(
                segment, day, day, tick="demo", reason="demo", size=len(segment)
            )
            result = job.execute_in_process(
                instance=inst,
                partition_key=request.partition_key,
                tags=request.tags,
                run_config=quiet,
                raise_on_error=False,
            )
            if not result.success:
                failed.append(f"{', '.join(segment)} {day} (run {result.run_id})")

    from warroom_pipelines.home import duckdb_path
    from warroom_pipelines.sentry.backtest import found_by_level, found_vs_injected
    from warroom_pipelines.warehouse import DuckDBWarehouse

    warehouse = DuckDBWarehouse(duckdb_path(), read_only=True)
    print("\nUnified performance, last", args.days, "days:")
    print_frame(
        warehouse.query(
            "SELECT brand, channel, currency, count(*) AS rows, count(DISTINCT campaign_id) AS "
            "campaigns, round(sum(spend), 2) AS spend, sum(conversions)::BIGINT AS conversions, "
            "round(sum(conversion_value) / nullif(sum(spend), 0), 2) AS roas "
            "FROM unified_performance WHERE brand IN (SELECT UNNEST(?::VARCHAR[])) "
            "AND date BETWEEN ? AND ? GROUP BY ALL ORDER BY brand, channel",
            [brands, days[0], days[-1]],
        )
    )
    anomalies = warehouse.query(
        "SELECT * FROM performance_anomalies WHERE brand IN (SELECT UNNEST(?::VARCHAR[])) "
        "AND date BETWEEN ? AND ?",
        [brands, days[0], days[-1]],
    )
    injected = pd.concat([demo_incidents(b, days[0], days[-1]) for b in brands], ignore_index=True)
    print("\nIncidents the demo source injected beside those the Sentry raised (warning+):")
    print_frame(found_vs_injected(anomalies, injected))
    print(FOUND_VS_INJECTED_LEGEND)
    print("\nThe same incidents by the level they were injected at:")
    print_frame(found_by_level(anomalies, injected))
    print(FOUND_BY_LEVEL_LEGEND)
    print(f"\nWarehouse (DuckLake, read with DuckDB): {duckdb_path()}")
    print('  python3 -m uv run warroom sql "SELECT * FROM unified_performance LIMIT 10"')
    print(f"  python3 -m uv run duckdb -init {warehouse.files.analyst_script}")
    print(f"Dagster UI: DAGSTER_HOME={home} uv run dagster dev   (then open http://127.0.0.1:3000)")
    from warroom_pipelines.commands.alerts import deliver_and_report

    deliver_and_report()
    center = (
        definitions()
        .resolve_job_def("command_center_refresh")
        .execute_in_process(instance=inst, run_config=quiet, raise_on_error=False)
    )
    if center.success:
        from warroom_pipelines.home import command_center_dir

        print(f"Command Center: {Path(command_center_dir()) / 'index.html'}")
    else:
        failed.append(f"command_center (run {center.run_id})")
    if failed:
        print(f"\n{len(failed)} runs failed: " + "; ".join(failed))
        return 1
    return 0
