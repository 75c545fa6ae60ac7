"""Every page at the widths people use it (1920, 1440, 1280 and a 390 px phone), measured in
headless Chromium: nothing sticks out of the viewport, out of its tile or out of a box that
clips it, nothing asks for the network, nothing logs an error.

A screenshot of each page at each width is written to test-artifacts/dashboard/layout/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.browser import Chromium, PageReport
from tests.dashboard.conftest import NOW
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.dashboard.pages import CSP
from warroom_pipelines.warehouse import DuckDBWarehouse

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

PROBES = {
    "overflows": OVERFLOWS,
    "page_width": "document.documentElement.scrollWidth",
    "viewport": "document.documentElement.clientWidth",
    # A wide table may scroll sideways on a phone, never on a laptop screen.
    "scrolled_tables": "Array.from(document.querySelectorAll('table'))"
    ".filter(t => t.parentElement.scrollWidth > t.parentElement.clientWidth + 1)"
    ".map(t => t.className)",
    "tables": "document.querySelectorAll('table').length",
    "tiles": "document.querySelectorAll('.tile').length",
}


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium") / "profile")
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def pages(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> Published:
    return publish(two_brand_warehouse, tmp_path_factory.mktemp("pages"), now=NOW)


def _every_page(pages: Published) -> dict[str, Path]:
    return {"overview": Path(pages.overview)} | {
        f"brand-{brand}": Path(path) for brand, path in pages.brand_pages.items()
    }


def _load(browser: Chromium, page: Path, name: str, width: int) -> PageReport:
    return browser.open(
        page, screenshot=ARTIFACTS / f"{name}-{width}.png", probes=PROBES, width=width, height=900
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_holds_its_layout_at_common_widths(
    browser: Chromium, pages: Published, width: int
) -> None:
    for name, page in _every_page(pages).items():
        report = _load(browser, page, name, width)
        values = report.values
        assert values["viewport"] == width
        assert values["overflows"] == [], f"{name} at {width} px"
        assert values["page_width"] == width, f"{name} at {width} px is wider than the screen"
        if width >= 1280:
            assert values["scrolled_tables"] == [], f"{name} at {width} px"
        assert values["tables"] >= 1
        assert (ARTIFACTS / f"{name}-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", (1920, 390))
def test_every_page_stays_self_contained(browser: Chromium, pages: Published, width: int) -> None:
    """One file per page: no request but the file itself, no console error, the CSP kept."""
    for name, page in _every_page(pages).items():
        report = _load(browser, page, name, width)
        assert report.outside_requests == [], name
        assert report.errors == [], name
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
