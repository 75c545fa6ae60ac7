"""Shared fixtures: a temporary Dagster instance and a temporary DuckDB warehouse.

`--machine-clock INSTANT` runs the suite as if the machine's clock read INSTANT (time-machine
moves `datetime.now`, `time.time` and friends in this process, and the clock keeps ticking), so
a test that reads the real date instead of pinning War Room's clock fails on some date.
`.ci/run` uses it to run the date-sensitive tests again far in the future.

A test whose data is dated says when it runs with `@pytest.mark.now(INSTANT)` (or a module's
`pytestmark`): Dagster only knows the day partitions up to its own "now", and connectors refuse
days in the future, so such a test needs the machine's clock after its data, on any real date.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import time_machine

from tests.support import local_resources

# The BigQuery stand-in's fixtures (`api`, `bigquery_warehouse`), for every test that needs them.
pytest_plugins = ["tests.production.bigquery_api"]

_TRAVEL_KEY = pytest.StashKey[time_machine.travel]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--machine-clock",
        metavar="INSTANT",
        help="run as if the machine's clock read this ISO-8601 instant (e.g. 2030-02-28T12:00Z)",
    )


def pytest_configure(config: pytest.Config) -> None:
    instant = config.getoption("--machine-clock")
    if instant:
        travel = time_machine.travel(instant, tick=True)
        travel.start()
        config.stash[_TRAVEL_KEY] = travel


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = config.stash.get(_TRAVEL_KEY, None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    instant = config.getoption("--machine-clock")
    return f"machine clock moved to {instant}" if instant else None


_TEST_TRAVEL_KEY = pytest.StashKey[time_machine.travel]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    """Move the clock to the instant a `now` marker names, before any fixture of the test
    (module-scoped ones included) is set up; it moves back after the test's teardown."""
    marker = item.get_closest_marker("now")
    if marker is not None:
        travel = time_machine.travel(marker.args[0], tick=True)
        travel.start()
        item.stash[_TEST_TRAVEL_KEY] = travel
    return (yield)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    try:
        return (yield)
    finally:
        travel = item.stash.get(_TEST_TRAVEL_KEY, None)
        if travel is not None:
            travel.stop()


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
