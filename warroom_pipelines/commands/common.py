"""What every subcommand shares: the Dagster home, the instance, the definitions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import dagster as dg


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, or ./.dagster_home for a bare checkout, and create it owner-only
    (what the command then writes in it is owner-only too: `owner_only_home`)."""
    from warroom_pipelines.profiles import (
        dagster_home,
        ensure_local_instance_config,
        owner_only_home,
    )

    home = owner_only_home(dagster_home())
    os.environ["DAGSTER_HOME"] = str(home)
    ensure_local_instance_config(home)
    return home


def instance() -> dg.DagsterInstance:
    import dagster as dg

    ensure_dagster_home()
    return dg.DagsterInstance.get()


def definitions() -> dg.Definitions:
    ensure_dagster_home()
    from warroom_pipelines.definitions import defs

    return defs


def print_frame(frame: pd.DataFrame) -> None:
    if frame.empty:
        print("(no rows)")
        return
    with pd.option_context(
        "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
    ):
        print(frame.to_string(index=False))


def fail(message: str) -> int:
    print(f"warroom: {message}", file=sys.stderr)
    return 2
