"""The headline's periods: Today, 7 and 30 days against the period before, blended ROAS per
currency, tabs that work without a script, and currencies that are never added up."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dashboard.browser import Chromium
from tests.dashboard.conftest import DAYS, NOW, UNIFIED
from tests.dashboard.test_brand_pages import TODAY, WEEK, _period_numbers, _tiles
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse

# The last 30 days at NOW, and the 30 before them (the fixture has no rows there).
MONTH = ("2026-10-16 14:00", "2026-11-15 14:00")


@pytest.fixture(scope="module")
def pages(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> Published:
    return publish(two_brand_warehouse, tmp_path_factory.mktemp("pages"), now=NOW)


def _blended(html: str) -> dict[tuple[str, str], tuple[float, list[str]]]:
    found = re.findall(
        r'data-blended="(\w+)" data-currency="(\w+)" data-roas="([^"]+)" data-channels="([^"]*)"',
        html,
    )
    return {(p, c): (float(roas), channels.split()) for p, c, roas, channels in found}


def test_the_30_day_tiles_are_the_warehouse_numbers_and_say_there_is_no_fair_comparison(
    pages: Published, two_brand_warehouse: DuckDBWarehouse
) -> None:
    html = Path(pages.brand_pages["acme"]).read_text()
    tiles = _tiles(Path(pages.brand_pages["acme"]))
    month = _period_numbers(two_brand_warehouse, "acme", MONTH)
    for metric in ("spend", "conversions", "cpa", "roas", "ctr"):
        assert float(tiles[(metric, "month")]["value"]) == pytest.approx(month[metric], rel=1e-9)
        assert tiles[(metric, "month")]["previous"] == ""
    panel = html[html.index('data-panel="month"') :]
    assert panel.count("previous period only partly ingested") == 5


def test_blended_roas_is_total_conversion_value_over_total_spend_of_every_channel(
    pages: Published, two_brand_warehouse: DuckDBWarehouse
) -> None:
    blended = _blended(Path(pages.brand_pages["acme"]).read_text())
    assert {p for p, _ in blended} == {"today", "week", "month"}
    for period, window in (("today", TODAY), ("week", WEEK), ("month", MONTH)):
        ((roas, channels),) = [v for (p, _), v in blended.items() if p == period]
        assert roas == pytest.approx(_period_numbers(two_brand_warehouse, "acme", window)["roas"])
        assert channels == ["meta_ads", "google_ads", "tiktok_ads"]


@pytest.fixture(scope="module")
def two_currencies(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> tuple[str, dict]:
    """Brand "duo": acme's accounts, its TikTok account reporting in USD."""
    tmp = tmp_path_factory.mktemp("duo")
    copy = DuckDBWarehouse(two_brand_warehouse.files.copy_to(tmp / "copy.ducklake").catalog)
    for day in DAYS[-9:]:
        raw = demo_metrics("acme", day).assign(brand="duo")
        raw.loc[raw["channel"] == "tiktok_ads", "currency"] = "USD"
        table = finalize(raw, brand="duo", ingested_at=datetime(2026, 11, 15, 14, 20, tzinfo=UTC))
        copy.replace_slice(UNIFIED, table, brand="duo", dates=[day])
    spend = copy.query(
        "SELECT currency, sum(spend) AS spend FROM unified_performance WHERE brand = 'duo' "
        "AND hour_start >= ?::TIMESTAMPTZ AND hour_start < ?::TIMESTAMPTZ GROUP BY currency",
        [f"{WEEK[0]}:00+00", f"{WEEK[1]}:00+00"],
    )
    page = publish(copy, tmp / "pages", now=NOW, only_brand="duo").brand_pages["duo"]
    return Path(page).read_text(), dict(zip(spend["currency"], spend["spend"], strict=True))


def test_a_brand_with_two_currencies_gets_figures_per_currency_and_is_told_why(
    two_currencies: tuple[str, dict],
) -> None:
    html, week_spend = two_currencies
    assert set(week_spend) == {"EUR", "USD"}
    assert 'data-currencies="EUR USD"' in html and "never added up" in html
    tiles = re.findall(r'data-tile="spend" data-period="week" data-currency="(\w+)" '
                       r'data-value="([^"]+)"', html)  # fmt: skip
    assert {c: float(v) for c, v in tiles} == pytest.approx(week_spend)
    blended = _blended(html)
    assert blended[("week", "EUR")][1] == ["meta_ads", "google_ads"]
    assert blended[("week", "USD")][1] == ["tiktok_ads"]
    total = sum(week_spend.values())
    assert repr(total) not in html and f"{total:,.2f}" not in html


def test_the_tabs_show_one_period_at_a_time_without_a_script(
    pages: Published, tmp_path: Path
) -> None:
    visible = (
        "Array.from(document.querySelectorAll('[data-panel]'))"
        ".filter(p => p.getBoundingClientRect().height > 0).map(p => p.dataset.panel)"
    )
    probes = {
        "scripts": "document.scripts.length",
        "first": visible,
        "month": f"(document.getElementById('period-month').click(), {visible})",
        "week": f"(document.querySelector('label[for=period-week]').click(), {visible})",
    }
    browser = Chromium(tmp_path / "chromium")
    try:
        report = browser.open(
            Path(pages.brand_pages["acme"]), screenshot=tmp_path / "shot.png", probes=probes
        )
    finally:
        browser.close()
    assert report.errors == [] and report.outside_requests == []
    assert report.values["scripts"] == 0
    assert report.values["first"] == ["today"]
    assert report.values["month"] == ["month"]
    assert report.values["week"] == ["week"]  # a click on the tab's label
