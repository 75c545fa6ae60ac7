"""The path of one alert_dispatch tick through War Room's code: which functions it calls, in
which files, and how often it comes back to a file it had left (one brand-day, one incident,
the local file sink).

    uv run python bench/dispatch_path.py --depth 2

A stop is a War Room function first called at `depth` or less below the sensor's body
(depth counts War Room frames only; dunders, lambdas and comprehensions are not stops).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.alerts.conftest import anomaly_rows
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.alerts import AlertsResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseResource
from warroom_pipelines.sensors.alerts import alert_dispatch
from warroom_pipelines.warehouse import TableRef

DAY = "2026-11-02"
PACKAGE = "/warroom_pipelines/"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depth", type=int, default=2)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    warehouse = WarehouseResource(path=str(root / "warehouse.ducklake"))
    resources = {
        "alerts": AlertsResource(file_sink_dir=str(root / "alerts")),
        "warehouse": warehouse,
        "vault": VaultResource(dagster_home=str(root)),
    }
    rows = anomaly_rows("acme", "acme-1", f"{DAY}T03:00", 2)
    warehouse.get().replace_slice(
        TableRef("main", "performance_anomalies"), rows, brand="acme", dates=[date(2026, 11, 2)]
    )
    stops: list[tuple[int, str, str]] = []
    stack: list[FrameType] = []
    base: list[int] = []

    def profile(frame: FrameType, event: str, _: Any) -> None:
        path = frame.f_code.co_filename
        if PACKAGE not in path:
            return
        if event == "call":
            name = frame.f_code.co_name
            if name == "alert_dispatch" and not base:
                base.append(len(stack))
            depth = len(stack) - base[0] if base else 0
            if base and 1 <= depth <= args.depth and name[0] not in "<_":
                stop = (depth, path.split(PACKAGE)[1], name)
                if stop not in stops:
                    stops.append(stop)
            stack.append(frame)
        elif event == "return" and stack and stack[-1] is frame:
            stack.pop()

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("brands", ["acme"])
        instance.report_runless_asset_event(
            dg.AssetMaterialization("performance_anomalies", partition=partition_key("acme", DAY))
        )
        context = dg.build_sensor_context(instance=instance, resources=resources)
        sys.setprofile(profile)
        alert_dispatch(context)
        sys.setprofile(None)
    for depth, path, name in stops:
        print(f"{'  ' * depth}{path}:{name}")
    files = [path for _, path, _ in stops]
    visits = [files[0], *(b for a, b in itertools.pairwise(files) if a != b)]
    print(
        f"{len(stops)} stops in {len(set(files))} files; "
        f"{len(visits) - len(set(visits))} returns to a file already left"
    )


if __name__ == "__main__":
    main()
