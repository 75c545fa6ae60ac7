"""A brand whose ingestion stopped is never an empty or healthy page: it shows its last data
and says, in red, since when there is none."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.conftest import NOW
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.dashboard.queries import periods_at
from warroom_pipelines.warehouse import DuckDBWarehouse

TWO_WEEKS_LATER = NOW + pd.Timedelta(days=14)
# The fixture's rows end with the hour 2026-11-15 23:00 (the demo fills the whole last day).
SILENT_SINCE = "no data since 2026-11-16 00:00 UTC"


@pytest.fixture(scope="module")
def late_pages(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> Published:
    return publish(two_brand_warehouse, tmp_path_factory.mktemp("late"), now=TWO_WEEKS_LATER)


@pytest.fixture(scope="module")
def last_data_pages(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> Published:
    """The pages as they were on the last hour the brand had data."""
    end = pd.Timestamp("2026-11-16 00:00", tz="UTC")
    return publish(two_brand_warehouse, tmp_path_factory.mktemp("last"), now=end)


def _tiles(html: str) -> dict[tuple[str, str], str]:
    found = re.findall(
        r'data-tile="(\w+)" data-period="(\w+)" data-currency="\w+" '
        r'data-value="([^"]*)"',
        html,
    )
    return {(metric, period): value for metric, period, value in found}


def test_the_brand_page_shows_its_last_data_and_a_red_no_data_status(
    late_pages: Published, last_data_pages: Published
) -> None:
    html = Path(late_pages.brand_pages["acme"]).read_text()
    pill = re.search(
        r'<span class="pill sev-(\w+)" data-severity="\w+" data-status="(\w+)">'
        r"([^<]*)</span>",
        html,
    )
    assert pill and pill.groups() == ("nodata", "nodata", SILENT_SINCE)
    assert "all clear" not in html.lower()
    # Not an empty page: the tiles are the numbers of the window that ends at its last data.
    tiles = _tiles(html)
    assert len(tiles) == 15 and all(v not in ("", "nan") for v in tiles.values())
    # Equal up to the order of a float sum (Parquet files are scanned in parallel).
    last = _tiles(Path(last_data_pages.brand_pages["acme"]).read_text())
    assert tiles.keys() == last.keys()
    assert {k: float(v) for k, v in tiles.items()} == pytest.approx(
        {k: float(v) for k, v in last.items()}, rel=1e-12
    )
    assert "data to Mon 16 Nov 00:00 UTC" in html
    assert 'data-chart-row="all"' in html


def test_the_overview_puts_the_silent_brand_in_red_and_first(late_pages: Published) -> None:
    html = Path(late_pages.overview).read_text()
    rows = re.findall(
        r'<tr data-brand="(\w+)" data-severity="\w+" data-status="(\w+)">'
        r'<td><span class="pill sev-(\w+)">([^<]*)</span>',
        html,
    )
    assert {brand: rest for brand, *rest in rows} == {
        "acme": ["nodata", "nodata", SILENT_SINCE],
        "globex": ["nodata", "nodata", SILENT_SINCE],
    }
    assert ">clear<" not in html
    assert ".pill.sev-nodata{color:var(--bad)" in html


def test_fresh_data_is_not_silent(last_data_pages: Published) -> None:
    html = Path(last_data_pages.brand_pages["acme"]).read_text()
    assert 'data-status="nodata"' not in html
    assert "no data since" not in html


def test_just_after_midnight_today_is_the_day_that_just_ended() -> None:
    periods = periods_at(pd.Timestamp("2026-11-16 00:20", tz="UTC"))
    assert (periods.today.start, periods.today.end) == (
        pd.Timestamp("2026-11-15 00:00", tz="UTC"),
        pd.Timestamp("2026-11-16 00:00", tz="UTC"),
    )
    assert periods.yesterday.start == pd.Timestamp("2026-11-14 00:00", tz="UTC")
