"""Every page at the widths people use it (1920, 1440, 1280 and a 390 px phone), measured in
headless Chromium: nothing sticks out of the viewport, out of its tile or out of a box that
clips it, nothing asks for the network, nothing logs an error.

A screenshot of each page at each width is written to test-artifacts/dashboard/layout/.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.browser import Chromium, PageReport
from tests.dashboard.conftest import NOW
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.channels.health import health_frame, health_row
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.dashboard.pages import CSP
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard" / "layout"
WIDTHS = (1920, 1440, 1280, 390)

# Every element's box and every line of text, against the viewport (or the scroll container it
# sits in, which itself must fit), against the nearest ancestor that clips it, and against its
# tile. Text is measured with ranges: a number too wide for its tile overflows its text, not
# the box of the element holding it.
OVERFLOWS = """(() => {
  const vw = document.documentElement.clientWidth, slack = 0.5, out = [];
  const clippers = el => {  // the nearest ancestor that clips, and whether any one scrolls
    let clip = null, scrolls = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o !== 'visible' && clip === null) clip = p;
      scrolls = scrolls || o === 'auto' || o === 'scroll';
    }
    return [clip, scrolls];
  };
  const name = el => el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined
    ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '');
  const boxes = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('title, style')) continue;
    boxes.push([el, el.getBoundingClientRect(), name(el), false]);
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || el.closest('title, style')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) boxes.push([el, r, 'text "' +
      node.textContent.trim().slice(0, 40) + '" in ' + name(el), true]);
  }
  const outside = (r, f) => r.left < f.left - slack || r.right > f.right + slack;
  for (const [el, r, what, text] of boxes) {
    if (r.width === 0 && r.height === 0) continue;
    const [clip, scrolls] = clippers(el);
    if (!scrolls && outside(r, {left: 0, right: vw})) out.push('viewport: ' + what);
    const scroller = clip && ['auto', 'scroll'].includes(getComputedStyle(clip).overflowX);
    if (clip && !scroller && outside(r, clip.getBoundingClientRect()))
      out.push('clipped by ' + name(clip) + ': ' + what);
    const tile = el.closest('.tile');
    if (tile && (text || tile !== el) && outside(r, tile.getBoundingClientRect()))
      out.push('tile ' + tile.dataset.tile + ': ' + what);
  }
  return [...new Set(out)].slice(0, 25);
})()"""

# Chart text is drawn in the SVG's own units: what counts is its size on the screen.
CHART_TEXT = """(() => {
  const sizes = Array.from(document.querySelectorAll('svg.chart text'))
    .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  return sizes.length ? Math.min(...sizes) : null;
})()"""
OVERLAPPING_LABELS = """Array.from(document.querySelectorAll('svg.chart')).flatMap(svg => {
  const boxes = Array.from(svg.querySelectorAll('text'))
    .map(t => [t.textContent, t.getBoundingClientRect()]);
  return boxes.flatMap(([a, r], i) => boxes.slice(i + 1)
    .filter(([, q]) => r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom)
    .map(([b]) => a + ' / ' + b));
}).slice(0, 10)"""
PROBES = {
    "overflows": OVERFLOWS,
    "page_width": "document.documentElement.scrollWidth",
    "viewport": "document.documentElement.clientWidth",
    # A wide table may scroll sideways on a phone, never on a laptop screen.
    "scrolled_tables": "Array.from(document.querySelectorAll('table'))"
    ".filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)"
    ".map(t => t.className)",
    "tables": "document.querySelectorAll('table').length",
    # A tile's number on one line: smaller when it is long, never broken in two.
    "wrapped_values": "Array.from(document.querySelectorAll('.tile-value')).filter(v => {"
    "const r = document.createRange(); r.selectNodeContents(v);"
    "return r.getClientRects().length > 1; }).map(v => v.textContent)",
    "smallest_chart_text": CHART_TEXT,
    "overlapping_labels": OVERLAPPING_LABELS,
    "charts": "Array.from(document.querySelectorAll('svg.chart')).map(s => ({"
    "ticks: Array.from(s.querySelectorAll('.tick text')).map(t => t.textContent),"
    "expected: (s.querySelector('path.expected') || {getAttribute: () => ''})"
    ".getAttribute('d').length,"
    "incidents: s.querySelectorAll('g.band').length,"
    "line: s.querySelector('path.line').getAttribute('d').length,"
    "width: s.getBoundingClientRect().width}))",
}


@pytest.fixture(scope="module")
def loaded(browser: Chromium, pages: Published) -> dict[tuple[str, int], PageReport]:
    """Every page at every width, loaded once for all the tests of this module."""
    every = {"overview": Path(pages.overview)} | {
        f"brand-{brand}": Path(path) for brand, path in pages.brand_pages.items()
    }
    return {
        (name, width): _load(browser, page, name, width)
        for name, page in every.items()
        for width in WIDTHS
    }


def _load(browser: Chromium, page: Path, name: str, width: int) -> PageReport:
    return browser.open(
        page, screenshot=ARTIFACTS / f"{name}-{width}.png", probes=PROBES, width=width, height=900
    )


def _at(loaded: dict[tuple[str, int], PageReport], width: int) -> list[tuple[str, PageReport]]:
    return [(name, report) for (name, at), report in loaded.items() if at == width]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_holds_its_layout_at_common_widths(
    loaded: dict[tuple[str, int], PageReport], width: int
) -> None:
    for name, report in _at(loaded, width):
        values = report.values
        assert values["viewport"] == width
        assert values["overflows"] == [], f"{name} at {width} px"
        assert values["page_width"] == width, f"{name} at {width} px is wider than the screen"
        if width >= 1280:
            assert values["scrolled_tables"] == [], f"{name} at {width} px"
        assert values["tables"] >= 1
        assert (ARTIFACTS / f"{name}-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", WIDTHS)
def test_charts_are_readable_at_common_widths(
    loaded: dict[tuple[str, int], PageReport], width: int
) -> None:
    """Y-axes with ticks in the metric's unit, the expected range drawn, incidents shaded, and
    no chart text under 11 px on the screen or over another label."""
    for brand, symbol in (("acme", "€"), ("globex", "£")):
        values = loaded[(f"brand-{brand}", width)].values
        charts = values["charts"]
        assert len(charts) == 4 * 5
        assert values["smallest_chart_text"] >= 11, f"{brand} at {width} px"
        assert values["overlapping_labels"] == [], f"{brand} at {width} px"
        for chart in charts:
            assert len(chart["ticks"]) >= 3 and chart["ticks"][0].lstrip(symbol)[0] == "0"
            assert chart["expected"] > 100  # a drawn band, not an empty path
            assert chart["line"] > 100 and chart["width"] >= 320
        units = {tick[-1] for chart in charts for tick in chart["ticks"][1:]}
        assert {"k", "%", "\u00d7"} <= units  # spend in thousands, CTR in %, ROAS as a factor
        assert all(t.startswith(symbol) for t in charts[0]["ticks"])  # spend, all channels
        assert sum(chart["incidents"] for chart in charts) > 0


@pytest.mark.parametrize("width", (1920, 390))
def test_every_page_stays_self_contained(
    loaded: dict[tuple[str, int], PageReport], width: int
) -> None:
    """One file per page: no request but the file itself, no console error, the CSP kept."""
    for name, report in _at(loaded, width):
        assert report.outside_requests == [], name
        assert report.errors == [], name
        page = Path(report.url.removeprefix("file://"))
        assert f'content="{CSP}"' in page.read_text().replace("&#x27;", "'"), name


def test_the_overflow_probe_sees_a_value_wider_than_its_tile(
    browser: Chromium, tmp_path: Path
) -> None:
    """The probe itself can fail: a number wider than its tile, a clipped cell and a page wider
    than the screen are all reported."""
    page = tmp_path / "overflowing.html"
    page.write_text(
        "<!DOCTYPE html><html><body style='margin:0'>"
        "<div class='tile' data-tile='spend' style='width:120px;font-size:40px'>€268,376.97</div>"
        "<div style='width:200px;overflow:hidden'><table><tr><td>AVeryLongUnbrokenCellText"
        "ThatTheBoxCutsOff</td></tr></table></div>"
        "<div style='width:1400px'>wide</div></body></html>"
    )
    report = _load(browser, page, "probe-check", 1280)
    found = "\n".join(report.values["overflows"])
    assert 'tile spend: text "€268,376.97"' in found
    assert "clipped by div" in found
    assert "viewport: div" in found
    assert report.values["page_width"] > 1280


def test_a_big_spender_with_a_failing_source_holds_its_layout(
    browser: Chromium, tmp_path: Path
) -> None:
    """Amounts a thousand times the demo's (a 14-character weekly spend) and a long ingestion
    error without a space in it stay inside their tiles and cells, on a laptop and a phone."""
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    days = [NOW.date() - timedelta(days=n) for n in range(7, -1, -1)]
    raw = pd.concat([demo_metrics("bigspender", day) for day in days], ignore_index=True)
    raw[["spend", "conversion_value"]] *= 1000
    table = finalize(raw, brand="bigspender", ingested_at=datetime(2026, 11, 15, 9, tzinfo=UTC))
    warehouse.replace_slice(
        TableRef("main", "unified_performance"), table, brand="bigspender", dates=days
    )
    failure = health_row(
        "bigspender",
        days[-1],
        "demo",
        "failed",
        checked_at=NOW.floor("h"),
        reason="The demo source failed: " + "unbrokentoken" * 12,
    )
    warehouse.replace_slices(
        TableRef("channel_health", "demo"), health_frame([failure]), {"bigspender": [days[-1]]}
    )
    page = Path(publish(warehouse, tmp_path / "pages", now=NOW).brand_pages["bigspender"])
    assert re.search(r'class="tile-value">€\d{2,3},\d{3},\d{3}\.\d\d<', page.read_text())
    for width in (1280, 390):
        values = _load(browser, page, "bigspender", width).values
        assert values["overflows"] == [], f"at {width} px"
        assert values["page_width"] == width
        assert values["wrapped_values"] == [], f"at {width} px"
