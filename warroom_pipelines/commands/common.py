"""What every subcommand shares: the Dagster home, the instance, the definitions."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from warroom_pipelines.home import dagster_home, ensure_local_instance_config, owner_only_home

if TYPE_CHECKING:
    import dagster as dg
    import pandas as pd


def ensure_dagster_home() -> Path:
    """Use $DAGSTER_HOME, or ./.dagster_home for a bare checkout, and create it owner-only
    (what the command then writes in it is owner-only too: `owner_only_home`)."""
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
    import pandas as pd

    if frame.empty:
        print("(no rows)")
        return
    with pd.option_context(
        "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
    ):
        print(frame.to_string(index=False))


def unregistered(brand: str) -> str | None:
    """Why a command refuses `brand`: it is not in the registry (a typo would otherwise
    create a tenant, or show nothing). None when it is registered."""
    from warroom_pipelines.commands.brands import registered_brands

    if brand in registered_brands():
        return None
    return (
        f"brand {brand!r} is not registered; see `warroom brands list`, "
        f"or register it with `warroom brands add {brand}`"
    )


def fail(message: str) -> int:
    print(f"warroom: {message}", file=sys.stderr)
    return 2
