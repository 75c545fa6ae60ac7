"""Every renderer shows what the pipeline stored about each source: a brand whose channel
failed is DATA MISSING or ERROR in red with a sentence, never ALL CLEAR; demo brands are
marked as such on the pages and in the analyst's `brands` view."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.conftest import NOW
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.channels.health import health_frame, health_row
from warroom_pipelines.dashboard import Published, create_views, publish
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse, TableRef

DAY = NOW.date()
CHECKED = pd.Timestamp("2026-11-15 14:05", tz="UTC")
LAST_GOOD = pd.Timestamp("2026-11-15 09:05", tz="UTC")
REASON = (
    "Meta Ads refused the brand's keys; reconnect them with `warroom keys set`. Detail: "
    "https://graph.facebook.com/v25.0/act_1/insights?access_token=EAAGsecretTOKEN9999 401"
)


def _health(warehouse: DuckDBWarehouse, channel: str, rows: list[dict], brands: list[str]) -> None:
    warehouse.replace_slices(
        TableRef("channel_health", channel), health_frame(rows), {b: [DAY] for b in brands}
    )


def _unified(warehouse: DuckDBWarehouse, brand: str, day: date, *, channel: str | None) -> None:
    table = finalize(
        demo_metrics(brand, day), brand=brand, ingested_at=datetime(2026, 11, 15, 9, tzinfo=UTC)
    )
    if channel is not None:  # a connected brand's platform rows
        table = table.loc[table["channel"] == channel].assign(source="meta_api")
    warehouse.replace_slice(
        TableRef("main", "unified_performance"), table, brand=brand, dates=[day]
    )


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Published, DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(Path(tmp_path_factory.mktemp("health")) / "w.duckdb")
    _unified(warehouse, "acme", DAY, channel=None)  # a demo brand
    _unified(warehouse, "globex", DAY, channel="meta_ads")  # its Meta rows are as of 09:05
    ok = {"checked_at": CHECKED, "last_success": CHECKED, "hours": 14}
    _health(warehouse, "demo", [health_row("acme", DAY, "demo", "ok", **ok)], ["acme"])
    _health(
        warehouse,
        "meta_ads",
        [
            health_row(
                "globex",
                DAY,
                "meta_ads",
                "stale",
                checked_at=CHECKED,
                reason=REASON,
                last_success=LAST_GOOD,
                hours=14,
            ),
            health_row("initech", DAY, "meta_ads", "failed", checked_at=CHECKED, reason=REASON),
            health_row("umbrella", DAY, "meta_ads", "no_keys", checked_at=CHECKED, reason="none"),
        ],
        ["globex", "initech", "umbrella"],
    )
    folder = tmp_path_factory.mktemp("pages")
    brands = ["acme", "globex", "initech", "umbrella"]
    return publish(warehouse, folder, now=NOW, brands=brands), warehouse


def _pill(html: str) -> tuple[str, str]:
    found = re.search(
        r'<span class="pill sev-(\w+)" data-severity="\w+" data-status="\w+">'
        r"([^<]*)</span>",
        html,
    )
    assert found
    return found[1], found[2]


def test_a_failed_or_stale_channel_is_red_with_a_sentence_never_all_clear(pages) -> None:
    published, _ = pages
    page = {b: Path(p).read_text() for b, p in published.brand_pages.items()}
    key, label = _pill(page["globex"])
    assert key == "error"
    assert label.startswith("ERROR: Meta Ads not updated since 2026-11-15 09:05 UTC.")
    assert "reconnect them with" in label
    key, label = _pill(page["initech"])
    assert key == "datamissing" and label.startswith("DATA MISSING: Meta Ads refused")
    key, label = _pill(page["umbrella"])
    assert key == "datamissing" and "no ad-platform keys" in label
    for brand in ("globex", "initech", "umbrella"):
        assert "all clear" not in page[brand].lower()
        assert "EAAGsecretTOKEN9999" not in page[brand] and "Traceback" not in page[brand]
    overview = Path(published.overview).read_text()
    statuses = dict(
        re.findall(
            r'<tr data-brand="([\w-]+)" data-severity="\w+" '
            r'data-status="(\w+)">',
            overview,
        )
    )
    assert statuses["globex"] == "error"
    assert statuses["initech"] == statuses["umbrella"] == "datamissing"
    assert "EAAGsecretTOKEN9999" not in overview


def test_demo_brands_carry_a_badge_and_a_flag_in_the_brands_view(pages) -> None:
    published, warehouse = pages
    assert 'data-demo="true"' in Path(published.brand_pages["acme"]).read_text()
    assert 'data-demo="true"' not in Path(published.brand_pages["globex"]).read_text()
    overview = Path(published.overview).read_text()
    row = re.search(r'<tr data-brand="acme".*?</tr>', overview)
    assert row and ">DEMO<" in row[0]
    assert "brands" in create_views(warehouse)
    flags = warehouse.query("SELECT brand, demo FROM main.brands ORDER BY brand")
    assert dict(zip(flags["brand"], flags["demo"], strict=True)) == {
        "acme": True,
        "globex": False,
        "initech": False,
        "umbrella": False,
    }
