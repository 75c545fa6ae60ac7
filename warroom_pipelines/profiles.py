"""Resources per deployment profile, chosen by WARROOM_PROFILE (local | production).

"local" runs on a bare machine: DuckDB under the Dagster home and the demo source for every
brand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from warroom_pipelines.resources.alerts import AlertsResource
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


def local_resources() -> dict[str, Any]:
    warehouse = WarehouseResource(path=duckdb_path())
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": DemoSourceResource(),
        "alerts": local_alerts(),
    }


def alerts_dir() -> Path:
    """The local file sink: one JSON-lines file per brand, and platform.jsonl for failures."""
    return dagster_home() / "alerts"


def local_alerts() -> AlertsResource:
    return AlertsResource(
        file_sink_dir=str(alerts_dir()),
        dagster_url=os.environ.get("WARROOM_DAGSTER_URL", "http://127.0.0.1:3000"),
        dashboard_url=os.environ.get("WARROOM_DASHBOARD_URL", ""),
    )


def resources_for(profile: str) -> dict[str, Any]:
    if profile == "local":
        return local_resources()
    raise ProfileError(
        "the production profile (BigQuery, Firestore, GCS) is not available yet: "
        "set WARROOM_PROFILE=local"
    )
