"""Shared fixtures: a temporary Dagster instance and a temporary DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.resources.warehouse import WarehouseIOManager, WarehouseResource


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def resources(warehouse_path: Path, tmp_path: Path) -> dict[str, Any]:
    """The local profile's resources on temporary files (no brand has platform keys)."""
    warehouse = WarehouseResource(path=str(warehouse_path))
    return {
        "warehouse": warehouse,
        "io_manager": WarehouseIOManager(warehouse=warehouse),
        "demo_source": DemoSourceResource(),
        "ad_platforms": AdPlatformsResource(),
        "vault": VaultResource(profile="local", key_store="sqlite", dagster_home=str(tmp_path)),
    }


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst
