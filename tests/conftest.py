"""Shared fixtures: a temporary Dagster instance and a temporary DuckDB warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.support import local_resources

# The BigQuery stand-in's fixtures (`api`, `bigquery_warehouse`), for every test that needs them.
pytest_plugins = ["tests.production.bigquery_api"]


@pytest.fixture
def warehouse_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def resources(warehouse_path: Path, tmp_path: Path) -> dict[str, Any]:
    """The local profile's resources on temporary files (no brand has platform keys)."""
    return local_resources(warehouse_path, tmp_path)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst
