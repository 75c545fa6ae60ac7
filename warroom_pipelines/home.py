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


def owner_only_files() -> None:
    """Everything this process creates from now on is owner-only (umask 077: folders 0700,
    files 0600), whatever umask the shell had.

    The home holds the warehouse, the run storage and compute logs, the alert sink files,
    the pages and the development master key: no other account on the machine may read or
    change any of them. Set by every `warroom` command and when the definitions load (the
    code server and each run's process); `dagster dev` itself creates the run storage, so
    start it under `umask 077` too (README).
    """
    os.umask(0o077)


def owner_only_home(home: Path) -> Path:
    """Create the home (or close an existing one) owner-only, 0700, and `owner_only_files`."""
    owner_only_files()
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    home.chmod(0o700)
    return home


def ensure_local_instance_config(home: Path) -> Path:
    """Give a local Dagster home War Room's dagster.yaml (one DuckDB writer at a time),
    unless the home already has its own. Owner-only: whoever can write it chooses the
    instance's storage and run launcher."""
    target = home / "dagster.yaml"
    if not target.exists():
        owner_only_home(home)
        shutil.copyfile(LOCAL_INSTANCE_YAML, target)
        target.chmod(0o600)
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
