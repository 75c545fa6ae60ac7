"""Where the local profile keeps its files: the Dagster home and what lives under it.

Plain Python (no Dagster, no pandas) so that quick commands (`warroom brands list`,
`warroom sql`) find their files without paying for Dagster's import.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

LOCAL_INSTANCE_YAML = Path(__file__).with_name("local_dagster.yaml")


def dagster_home() -> Path:
    """The Dagster home; the local profile keeps its warehouse and key files there."""
    return Path(os.environ.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home").resolve()


def ensure_local_instance_config(home: Path) -> Path:
    """Give a local Dagster home War Room's dagster.yaml (one DuckDB writer at a time),
    unless the home already has its own."""
    target = home / "dagster.yaml"
    if not target.exists():
        home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LOCAL_INSTANCE_YAML, target)
    return target


def duckdb_path() -> str:
    """The local warehouse's DuckLake catalog (Parquet files and the delivery log beside it)."""
    return os.environ.get("WARROOM_DUCKDB_PATH") or str(dagster_home() / "warroom.ducklake")


def command_center_dir() -> str:
    """Where the dashboard pages go: WARROOM_COMMAND_CENTER_DIR, or under the Dagster home."""
    return os.environ.get("WARROOM_COMMAND_CENTER_DIR") or str(dagster_home() / "command_center")


def alerts_dir() -> Path:
    """The local file sink: one JSON-lines file per brand, and platform.jsonl for failures."""
    return dagster_home() / "alerts"
