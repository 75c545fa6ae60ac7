"""How long alert_dispatch ticks take when many brand-days finish at once.

    uv run python bench/alerts_tick.py --brands 200 --incidents 5

Anomaly rows go straight into the warehouse and their materializations are reported to the
instance (no runs), then the sensor ticks until everything is delivered to the file sink.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.alerts.conftest import anomaly_rows
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.alerts import AlertsResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.sensors.alerts import alert_dispatch
from warroom_pipelines.warehouse import TableRef

DAY = "2026-11-02"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=200)
    parser.add_argument("--incidents", type=int, default=5, help="incidents per brand-day")
    parser.add_argument("--budget", type=float, default=30.0, help="tick budget, seconds")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    warehouse = WarehouseResource(path=str(root / "warehouse.ducklake"))
    alerts = AlertsResource(file_sink_dir=str(root / "alerts"), tick_budget_seconds=args.budget)
    vault = VaultResource(dagster_home=str(root))  # no brand has destinations: the file sink
    brands = [f"brand-{n:04d}" for n in range(args.brands)]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("brands", brands)
        for brand in brands:
            rows = pd.concat(
                anomaly_rows(brand, f"{brand}-i{k}", f"{DAY}T{k:02d}:00", 2, campaign_id=f"c{k}")
                for k in range(args.incidents)
            )
            warehouse.get().replace_slice(
                TableRef("main", "performance_anomalies"),
                rows,
                brand=brand,
                dates=[date.fromisoformat(DAY)],
            )
            instance.report_runless_asset_event(
                dg.AssetMaterialization(
                    "performance_anomalies", partition=partition_key(brand, DAY)
                )
            )
        cursor, delivered, tick = None, 0, 0
        while True:
            tick += 1
            context = dg.build_sensor_context(
                instance=instance,
                cursor=cursor,
                resources={"alerts": alerts, "warehouse": warehouse, "vault": vault},
            )
            start, cpu = time.perf_counter(), time.process_time()
            result = alert_dispatch(context)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            sent = sum(len(p.read_text().splitlines()) for p in (root / "alerts").glob("*.jsonl"))
            print(
                f"tick {tick}: {seconds:5.1f} s ({cpu:4.1f} s cpu), cursor {result.cursor}, "
                f"delivered so far {sent}"
            )
            cursor = result.cursor
            if sent == delivered and result.skip_reason:
                break
            delivered = sent
    print(f"{args.brands} brand-days x {args.incidents} incidents -> {delivered} alerts")


if __name__ == "__main__":
    main()
