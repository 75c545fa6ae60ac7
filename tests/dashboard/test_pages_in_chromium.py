"""The pages in a real browser: nothing leaves the page, nothing errors, everything is drawn.

Screenshots are written to test-artifacts/dashboard/ for a human to look at.
"""

from __future__ import annotations

from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.dashboard.browser import Chromium
from tests.dashboard.conftest import HOSTILE_CAMPAIGN, NOW
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.dashboard.pages import CSP
from warroom_pipelines.warehouse import DuckDBWarehouse

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"

PROBES = {
    "tiles": "document.querySelectorAll('[data-tile]').length",
    "charts": "document.querySelectorAll('svg.chart').length",
    "drawn_charts": "Array.from(document.querySelectorAll('svg.chart'))"
    ".filter(s => s.getBoundingClientRect().width > 100 && s.querySelector('path.line')"
    ".getAttribute('d').length > 100).length",
    "chart_rows": "Array.from(document.querySelectorAll('[data-chart-row]'))"
    ".map(r => r.dataset.chartRow)",
    "incident_rows": "document.querySelectorAll('tr[data-incident]').length",
    "incident_bands": "document.querySelectorAll('svg.chart g.band').length",
    "anomaly_marks": "document.querySelectorAll('svg.chart .mark').length",
    "freshness": "Array.from(document.querySelectorAll('tr[data-freshness]'))"
    ".map(r => r.dataset.freshness)",
    "scripts": "document.scripts.length",
    "text": "document.body.innerText",
    "overview_rows": "Array.from(document.querySelectorAll('tr[data-brand]'))"
    ".map(r => [r.dataset.brand, r.dataset.severity])",
    "sparklines": "Array.from(document.querySelectorAll('svg.spark'))"
    ".filter(s => s.getBoundingClientRect().width > 100).length",
    "links": "Array.from(document.querySelectorAll('a')).map(a => a.getAttribute('href'))",
    # Last: the 7-day tab chosen (CSS only), what the page then reads.
    "text_7_days": "(document.getElementById('period-week')?.click(), document.body.innerText)",
}


def test_brand_page_renders_offline_with_tiles_charts_and_incidents(
    browser: Chromium, pages: Published
) -> None:
    page = Path(pages.brand_pages["acme"])
    report = browser.open(page, screenshot=ARTIFACTS / "brand-acme.png", probes=PROBES)
    assert report.outside_requests == []
    assert report.errors == []
    values = report.values
    assert values["scripts"] == 0
    assert values["tiles"] == 15  # spend, conversions, CPA, ROAS, CTR x today, 7 and 30 days
    assert values["chart_rows"] == ["all", "meta_ads", "google_ads", "tiktok_ads"]
    assert values["charts"] == values["drawn_charts"] == 4 * 5
    assert values["incident_rows"] >= 2  # the open one and the demo's injected ones
    assert values["incident_bands"] > 0 and values["anomaly_marks"] > 0
    assert values["freshness"] == ["meta_ads", "google_ads", "tiktok_ads"]
    # A hostile campaign name is shown as text, not run or parsed as markup.
    assert HOSTILE_CAMPAIGN in values["text"]
    assert (ARTIFACTS / "brand-acme.png").stat().st_size > 10_000


def test_overview_lists_every_brand_with_a_sparkline_and_a_link(
    browser: Chromium, pages: Published
) -> None:
    report = browser.open(
        Path(pages.overview), screenshot=ARTIFACTS / "overview.png", probes=PROBES
    )
    assert report.outside_requests == []
    assert report.errors == []
    assert sorted(b for b, _ in report.values["overview_rows"]) == ["acme", "globex"]
    assert report.values["sparklines"] == 2
    for link in report.values["links"]:
        assert (Path(pages.overview).parent / link).is_file()


def test_a_brand_without_anomaly_detection_renders_gracefully(
    browser: Chromium, unified_only_warehouse: DuckDBWarehouse, tmp_path: Path
) -> None:
    published = publish(unified_only_warehouse, tmp_path, now=NOW)
    report = browser.open(
        Path(published.brand_pages["acme"]),
        screenshot=ARTIFACTS / "brand-unmonitored.png",
        probes=PROBES,
    )
    assert report.outside_requests == [] and report.errors == []
    assert "No anomaly detection yet" in report.values["text"]
    assert "NO ANOMALY DETECTION YET" in report.values["text"]  # the status pill, not "clear"
    # Only 8 days of data: the last 7 days have no fair previous period to compare with.
    assert report.values["text"].count("previous period only partly ingested") == 0  # today
    assert report.values["text_7_days"].count("previous period only partly ingested") == 5
    assert report.values["tiles"] == 15 and report.values["anomaly_marks"] == 0


def test_pages_are_small(pages: Published) -> None:
    for path in map(Path, [pages.overview, *pages.brand_pages.values()]):
        assert path.stat().st_size < 1_000_000


def test_the_browser_check_catches_requests_and_console_errors(
    browser: Chromium, httpserver: HTTPServer, tmp_path: Path
) -> None:
    """The harness itself can fail: a page that fetches an image is seen fetching it, and the
    same page under the dashboard's CSP is blocked and reported as an error."""
    httpserver.expect_request("/pixel.png").respond_with_data(b"", content_type="image/png")
    image = f'<img src="{httpserver.url_for("/pixel.png")}" alt="">'
    leaky = tmp_path / "leaky.html"
    leaky.write_text(f"<!DOCTYPE html><html><body>{image}</body></html>")
    report = browser.open(leaky, screenshot=tmp_path / "leaky.png", probes={})
    assert report.outside_requests == [httpserver.url_for("/pixel.png")]

    guarded = tmp_path / "guarded.html"
    guarded.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"></head><body>{image}</body></html>'
    )
    served = len(httpserver.log)
    report = browser.open(guarded, screenshot=tmp_path / "guarded.png", probes={})
    assert any("Content Security Policy" in error for error in report.errors)
    assert len(httpserver.log) == served  # the blocked image never reached the server
