"""Resources per deployment profile, chosen by WARROOM_PROFILE (local | production).

"local" runs on a bare machine: DuckDB under the Dagster home and the demo source for every
brand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from warroom_pipelines.resources.dashboard import CommandCenterResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource

PROFILES = ("local", "production")


class ProfileError(RuntimeError):
    """The chosen profile is missing settings; the message lists every one."""


def profile_name() -> str:
    name = os.environ.get("WARROOM_PROFILE", "local")
    if name not in PROFILES:
        raise ProfileError(f"WARROOM_PROFILE must be one of {', '.join(PROFILES)}, got {name!r}")
    return name


def dagster_home() -> Path:
    """The Dagster home; the local profile keeps its warehouse and key files there."""
    return Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").resolve()


def duckdb_path() -> str:
    return os.environ.get("WARROOM_DUCKDB_PATH") or str(dagster_home() / "warroom.duckdb")


def command_center_dir() -> str:
    """Where the dashboard pages go: WARROOM_COMMAND_CENTER_DIR, or under the Dagster home."""
    return os.environ.get("WARROOM_COMMAND_CENTER_DIR") or str(dagster_home() / "command_center")


def local_resources() -> dict[str, Any]:
    warehouse = WarehouseResource(path=duckdb_path())
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": DemoSourceResource(),
        "command_center": CommandCenterResource(folder=command_center_dir()),
    }


def resources_for(profile: str) -> dict[str, Any]:
    if profile == "local":
        return local_resources()
    raise ProfileError(
        "the production profile (BigQuery, Firestore, GCS) is not available yet: "
        "set WARROOM_PROFILE=local"
    )
