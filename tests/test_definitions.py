import subprocess
import sys
from pathlib import Path

import dagster as dg

from warroom_pipelines.definitions import defs

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_load_in_process() -> None:
    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"channel_metrics/demo", "unified_performance"} <= keys
    assert defs.resolve_job_def("brand_refresh") is not None


def test_every_brand_asset_is_partitioned_by_brand_and_date() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.partitions_def is not None:
            assert set(node.partitions_def.partition_dimension_names) == {"brand", "date"}  # type: ignore[union-attr]


def test_dagster_cli_validates_the_workspace(tmp_path) -> None:
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_brand_refresh_runs_its_steps_in_the_run_process() -> None:
    # A process per step would import the definitions and PyOD again for each (RESULTS.md).
    assert defs.resolve_job_def("brand_refresh").executor_def.name == "in_process"
