"""Partitions at scale: many brands x many days registered, with materialization history.

    uv run python bench/partitions_scale.py --brands 1000 --days 365 --history-days 28

Measures schedule tick evaluation, the Dagster UI's asset page queries through the
webserver's GraphQL API, and the instance's storage size. Run it with a smaller --days to
see what the date dimension's start (WARROOM_START_DATE) buys.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
ASSET_PAGE_QUERY = """
query AssetPage($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name partitionKeys }
      assetPartitionStatuses {
        __typename
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges { primaryDimStartKey primaryDimEndKey }
        }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _du(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brands", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--history-days", type=int, default=28)
    args = parser.parse_args()
    today = datetime.now(UTC).date()
    home = Path(tempfile.mkdtemp(prefix="warroom-scale-"))
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ.update(
        DAGSTER_HOME=str(home),
        WARROOM_START_DATE=(today - timedelta(days=args.days - 1)).isoformat(),
    )
    import dagster as dg

    from warroom_pipelines.definitions import defs
    from warroom_pipelines.partitions import BRANDS, partition_key

    instance = dg.DagsterInstance.get()
    brands = [f"brand-{n:05d}" for n in range(args.brands)]
    instance.add_dynamic_partitions(BRANDS, brands)
    partitions = args.brands * (args.days + 1)
    print(f"{args.brands} brands x {args.days + 1} days = {partitions:,} partitions per asset")

    start = time.perf_counter()
    keys = [dg.AssetKey("unified_performance"), dg.AssetKey(["channel_metrics", "demo"])]
    history = [today - timedelta(days=d) for d in range(args.history_days)]
    for brand in brands:
        for day in history:
            for key in keys:
                instance.report_runless_asset_event(
                    dg.AssetMaterialization(asset_key=key, partition=partition_key(brand, day))
                )
    events = len(brands) * len(history) * len(keys)
    print(f"recorded {events:,} materializations in {time.perf_counter() - start:.0f} s")

    repository = defs.get_repository_def()
    schedule = repository.get_schedule_def("hourly_refresh")
    start = time.perf_counter()
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime.now(UTC), repository_def=repository
    ) as context:
        requests_made = len(schedule.evaluate_tick(context).run_requests or [])
    tick_s = time.perf_counter() - start
    print(f"hourly_refresh tick: {requests_made:,} run requests in {tick_s:.2f} s")

    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("dagster-webserver")),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env=dict(os.environ),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/graphql"
        while True:
            try:
                body = requests.post(url, json={"query": "{ version }"}, timeout=5)
                if body.ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        for attempt in range(3):
            start = time.perf_counter()
            body = requests.post(
                url,
                json={
                    "query": ASSET_PAGE_QUERY,
                    "variables": {"key": {"path": ["unified_performance"]}},
                },
                timeout=600,
            ).json()
            elapsed = time.perf_counter() - start
            node = body["data"]["assetNodeOrError"]
            ranges = len(node.get("assetPartitionStatuses", {}).get("ranges", []))
            print(f"asset page query #{attempt + 1}: {elapsed:.2f} s ({ranges} status ranges)")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    print(f"instance storage: {_du(home):.0f} MiB")


if __name__ == "__main__":
    main()
