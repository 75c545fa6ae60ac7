"""A brand page holds that brand's data only, and its numbers are the warehouse's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.conftest import NOW
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

# The periods the page must show at NOW = 2026-11-15 14:37 UTC: complete hours only.
TODAY = ("2026-11-15 00:00", "2026-11-15 14:00")
YESTERDAY = ("2026-11-14 00:00", "2026-11-14 14:00")
WEEK = ("2026-11-08 14:00", "2026-11-15 14:00")
PRIOR_WEEK = ("2026-11-01 14:00", "2026-11-08 14:00")

_TILE = re.compile(
    r'data-tile="(?P<metric>\w+)" data-period="(?P<period>\w+)" data-currency="(?P<currency>\w+)"'
    r' data-value="(?P<value>[^"]*)" data-previous="(?P<previous>[^"]*)">'
    r'<div class="tile-label">[^<]*</div><div class="tile-value">(?P<text>[^<]*)</div>'
)


def _period_numbers(
    warehouse: DuckDBWarehouse, brand: str, window: tuple[str, str], channel: str | None = None
) -> dict[str, float]:
    """The headline numbers, computed here from the raw rows (not through the dashboard)."""
    frame = warehouse.query(
        "SELECT * FROM unified_performance WHERE brand = ? AND hour_start >= ?::TIMESTAMPTZ "
        "AND hour_start < ?::TIMESTAMPTZ",
        [brand, f"{window[0]}:00+00", f"{window[1]}:00+00"],
    )
    if channel is not None:
        frame = frame.loc[frame["channel"] == channel]
    spend, conversions = frame["spend"].sum(), frame["conversions"].sum()
    return {
        "spend": spend,
        "conversions": conversions,
        "cpa": spend / conversions,
        "roas": frame["conversion_value"].sum() / spend,
        "ctr": frame["clicks"].sum() / frame["impressions"].sum(),
    }


def _tiles(page: Path) -> dict[tuple[str, str], dict[str, str]]:
    found = {(m["metric"], m["period"]): m.groupdict() for m in _TILE.finditer(page.read_text())}
    assert len(found) == 15, "expected 5 metrics x 3 periods of tiles"
    return found


@pytest.mark.parametrize("brand", ["acme", "globex"])
def test_tiles_equal_the_numbers_queried_from_the_warehouse(
    pages: Published, two_brand_warehouse: DuckDBWarehouse, brand: str
) -> None:
    tiles = _tiles(Path(pages.brand_pages[brand]))
    currency = str(
        two_brand_warehouse.query(
            "SELECT any_value(currency) AS c FROM unified_performance WHERE brand = ?", [brand]
        )["c"].iloc[0]
    )
    for period, (window, previous) in {
        "today": (TODAY, YESTERDAY),
        "week": (WEEK, PRIOR_WEEK),
    }.items():
        now = _period_numbers(two_brand_warehouse, brand, window)
        before = _period_numbers(two_brand_warehouse, brand, previous)
        for metric in ("spend", "conversions", "cpa", "roas", "ctr"):
            tile = tiles[(metric, period)]
            assert tile["currency"] == currency
            assert float(tile["value"]) == pytest.approx(now[metric], rel=1e-9)
            assert float(tile["previous"]) == pytest.approx(before[metric], rel=1e-9)
        # What people read on the screen, rounded as shown.
        assert tiles[("spend", period)]["text"].endswith(f"{now['spend']:,.2f}")
        assert tiles[("conversions", period)]["text"] == f"{now['conversions']:,.0f}"
        assert tiles[("cpa", period)]["text"].endswith(f"{now['cpa']:,.2f}")
        assert tiles[("roas", period)]["text"].startswith(f"{now['roas']:.2f}")


def test_channel_rows_and_overview_equal_the_warehouse(
    pages: Published, two_brand_warehouse: DuckDBWarehouse
) -> None:
    html = Path(pages.brand_pages["acme"]).read_text()
    for channel in ("meta_ads", "google_ads", "tiktok_ads"):
        row = re.search(rf'<tr data-channel="{channel}">.*?data-value="([^"]+)"', html)
        assert row, channel
        expected = _period_numbers(two_brand_warehouse, "acme", WEEK, channel)["spend"]
        assert float(row[1]) == pytest.approx(expected, rel=1e-9)
    overview = Path(pages.overview).read_text()
    for brand in ("acme", "globex"):
        cell = re.search(rf'<tr data-brand="{brand}".*?data-value="([^"]+)"', overview)
        assert cell, brand
        expected = _period_numbers(two_brand_warehouse, brand, WEEK)["spend"]
        assert float(cell[1]) == pytest.approx(expected, rel=1e-9)


def leaks_of(html: str, warehouse: DuckDBWarehouse, other: str) -> list[str]:
    """What of brand `other`'s data (ids, names, headline numbers) appears in `html`."""
    rows = warehouse.query(
        "SELECT DISTINCT account_id, campaign_id, campaign_name FROM unified_performance "
        "WHERE brand = ?",
        [other],
    )
    incidents = warehouse.query(
        "SELECT DISTINCT incident_id FROM performance_anomalies WHERE brand = ?", [other]
    )
    assert len(rows) and len(incidents)
    forbidden = {
        other,
        *rows["account_id"],
        *rows["campaign_id"],
        *rows["campaign_name"],
        *incidents["incident_id"],
    }
    week = _period_numbers(warehouse, other, WEEK)
    today = _period_numbers(warehouse, other, TODAY)
    for numbers in (week, today):
        forbidden |= {repr(float(numbers["spend"])), f"{numbers['spend']:,.2f}"}
        forbidden |= {repr(float(numbers["cpa"])), f"{numbers['cpa']:,.2f}"}
    lowered = html.lower()
    return sorted(term for term in forbidden if str(term).lower() in lowered)


def test_a_brand_page_contains_nothing_of_the_other_brand(
    pages: Published, two_brand_warehouse: DuckDBWarehouse
) -> None:
    html = Path(pages.brand_pages["acme"]).read_text()
    assert "acme" in html.lower()
    assert leaks_of(html, two_brand_warehouse, "globex") == []


def test_a_brand_page_lists_only_its_own_incidents(
    pages: Published, two_brand_warehouse: DuckDBWarehouse
) -> None:
    html = Path(pages.brand_pages["globex"]).read_text()
    shown = set(re.findall(r'data-incident="([^"]+)"', html))
    own = set(
        two_brand_warehouse.query(
            "SELECT DISTINCT incident_id FROM performance_anomalies WHERE brand = 'globex' "
            "AND hour_start >= ?::TIMESTAMPTZ",
            [f"{WEEK[0]}:00+00"],
        )["incident_id"]
    )
    assert shown == own and shown


def test_the_overview_puts_the_worst_open_severity_first(
    two_brand_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    copy = DuckDBWarehouse(two_brand_warehouse.files.copy_to(tmp_path / "copy.ducklake").catalog)
    # "globex" (second by name) gets a critical open incident beside its warning one.
    today = copy.query(
        "SELECT * FROM performance_anomalies WHERE brand = 'globex' AND date = ?", [NOW.date()]
    )
    critical = today.loc[today["incident_end"].isna()].assign(
        severity="critical", incident_id="globex-critical"
    )
    assert len(critical)
    copy.replace_slice(
        TableRef("main", "performance_anomalies"),
        pd.concat([today, critical], ignore_index=True),
        brand="globex",
        dates=[NOW.date()],
    )
    published = publish(copy, tmp_path / "pages", now=NOW)
    order = re.findall(
        r'<tr data-brand="([^"]+)" data-severity="([^"]+)"', Path(published.overview).read_text()
    )
    assert order == [("globex", "critical"), ("acme", "warning")]


def test_the_latest_alert_delivery_is_shown_per_incident(
    two_brand_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    copy = DuckDBWarehouse(two_brand_warehouse.files.copy_to(tmp_path / "copy.ducklake").catalog)
    sent = pd.Timestamp("2026-11-15 12:05", tz="UTC")
    deliveries = pd.DataFrame(
        {
            "incident_id": ["open-acme-1", "open-acme-1"],
            "brand": ["acme", "acme"],
            "date": [pd.Timestamp(NOW.date())] * 2,
            "destination_kind": ["slack", "webhook"],
            "destination_name": ["acme-oncall", "acme-pager"],
            "message_kind": ["open", "update"],
            "version": [1, 2],
            "attempt": [1, 3],
            "status": ["delivered", "failed"],
            "response_code": [200, 503],
            "first_attempt_at": [sent, sent + pd.Timedelta(hours=1)],
            "last_attempt_at": [sent, sent + pd.Timedelta(hours=1, minutes=5)],
            "error": ["", "HTTP 503"],
        }
    )
    copy.replace_slice(
        TableRef("main", "alert_deliveries"), deliveries, brand="acme", dates=[NOW.date()]
    )
    published = publish(copy, tmp_path / "pages", now=NOW)
    row = re.search(
        r'<tr [^>]*data-incident="open-acme-1">.*?</tr>',
        Path(published.brand_pages["acme"]).read_text(),
    )
    assert row and "failed (webhook)" in row[0]  # the latest attempt wins
    # Alerts link to brands/<brand>.html#incident-<id>: the row is that anchor.
    assert row[0].startswith('<tr id="incident-open-acme-1"')
    assert "delivered" not in row[0]
