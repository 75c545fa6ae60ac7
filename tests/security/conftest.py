"""Shared here: the alert tests' world (real receivers, vault, warehouse, Dagster instance),
and a local War Room home with brand acme registered, as the CLI tests start from."""

from pathlib import Path

import pytest

from tests.alerts.conftest import local_home as local_home
from tests.alerts.conftest import world as world
from warroom_pipelines.cli import main


@pytest.fixture
def acme_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local home (development key, embedded key store) with brand acme registered."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("WARROOM_PROFILE", "local")
    monkeypatch.delenv("PERFORMANCE_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("WARROOM_DUCKDB_PATH", raising=False)
    assert main(["brands", "add", "acme"]) == 0
    return tmp_path
