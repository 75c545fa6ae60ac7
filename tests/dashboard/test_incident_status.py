"""An incident is over once its series has been quiet for QUIET_HOURS settled hours, even when
the Sentry's rows still leave it open: two incidents of 29 Nov never read "ongoing" on 2 Dec.

The warehouse is real (DuckLake, demo rows ingested at 11:20 on 2 Dec) and the clock is
pinned; the anomaly rows are what the Sentry leaves behind: an incident that stopped at
midnight and one whose next hours were never scored keep a null end in every row.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from tests.dashboard.conftest import ANOMALIES, UNIFIED, incident_hours, typed_anomalies
from tests.dashboard.conftest import NOW as FIXTURE_NOW
from warroom_pipelines import clock
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.dashboard import Published, publish
from warroom_pipelines.schema import finalize
from warroom_pipelines.warehouse import DuckDBWarehouse

NOW = "2026-12-02T12:00Z"
INGESTED = datetime(2026, 12, 2, 11, 20, tzinfo=UTC)  # Meta settled to 08:00, TikTok to 10:00
HOUR = pd.Timedelta(hours=1)
DAYS = [date(2026, 11, 24) + timedelta(days=n) for n in range(9)]


def _hour(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# (incident, level, channel, type, first hour, end): rows for the hours [first hour, end).
INCIDENTS = [
    ("nov29-midnight", "channel", "meta_ads", "ctr_drop", "2026-11-29 20:00", "2026-11-30 00:00"),
    (
        "nov29-campaign",
        "campaign",
        "google_ads",
        "cpa_spike",
        "2026-11-29 10:00",
        "2026-11-29 13:00",
    ),
    # The same hours on two channels: 3 settled hours have passed on TikTok (lag 1 h), not on
    # Meta (lag 3 h).
    ("dec2-meta", "channel", "meta_ads", "spend_spike", "2026-12-02 04:00", "2026-12-02 07:00"),
    ("dec2-tiktok", "channel", "tiktok_ads", "spend_spike", "2026-12-02 04:00", "2026-12-02 07:00"),
    # Brand level: settled to the oldest watermark of its channels (Meta's and Google's here).
    ("nov29-brand", "brand", "", "roas_drop", "2026-11-29 05:00", "2026-11-29 07:00"),
    ("dec2-brand", "brand", "", "roas_drop", "2026-12-02 04:00", "2026-12-02 07:00"),
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Published:
    tmp = tmp_path_factory.mktemp("incident_status")
    warehouse = DuckDBWarehouse(tmp / "warehouse.ducklake")
    for day in DAYS:
        raw = demo_metrics("acme", day, as_of=pd.Timestamp(INGESTED))
        table = finalize(raw, brand="acme", ingested_at=INGESTED)
        warehouse.replace_slice(UNIFIED, table, brand="acme", dates=[day])
    currency = str(table["currency"].iloc[0])
    rows = []
    for incident, level, channel, kind, first, end in INCIDENTS:
        rows += incident_hours(
            "acme",
            incident,
            level=level,
            channel=channel,
            campaign_id="c-1" if level == "campaign" else "",
            campaign_name="Winter sale" if level == "campaign" else "",
            kind=("ctr", kind, "critical"),
            start=_hour(first),
            end=_hour(end),
            settled=_hour(end),
            currency=currency,
        )
    # The Sentry never saw any of their first normal hours.
    frame = typed_anomalies(rows).assign(incident_end=pd.NaT)
    warehouse.replace_slice(
        ANOMALIES, frame, brand="acme", dates=sorted(set(frame["date"].dt.date))
    )
    with clock.pinned(NOW):
        return publish(warehouse, tmp / "pages")


def _rows(html: str) -> dict[str, str]:
    return dict(re.findall(r'<tr [^>]*data-incident="([^"]+)"[^>]*>(.*?)</tr>', html))


def test_incidents_quiet_for_three_settled_hours_are_resolved(pages: Published) -> None:
    rows = _rows(Path(pages.brand_pages["acme"]).read_text())
    assert set(rows) == {i[0] for i in INCIDENTS}
    for incident, ended in (
        ("nov29-brand", "Sun 29 Nov 07:00 UTC"),
        ("nov29-midnight", "Mon 30 Nov 00:00 UTC"),
        ("nov29-campaign", "Sun 29 Nov 13:00 UTC"),
        ("dec2-tiktok", "Wed 02 Dec 07:00 UTC"),
    ):
        assert 'class="status-resolved">resolved<' in rows[incident], incident
        assert ended in rows[incident] and "ongoing" not in rows[incident], incident
    # Meta (and Google) have settled only to 08:00: one quiet hour, not three.
    for incident in ("dec2-meta", "dec2-brand"):
        assert 'class="status-open">open<' in rows[incident], incident
        assert "ongoing" in rows[incident], incident


def test_the_overview_counts_only_the_incidents_still_open(pages: Published) -> None:
    overview = Path(pages.overview).read_text()
    row = re.search(r'<tr data-brand="acme" data-severity="(\w+)".*?</tr>', overview)
    assert row and row[1] == "critical"
    assert re.findall(r'<td class="num">(\d+)</td>', row[0])[0] == "2"


@pytest.fixture(scope="module")
def busy_week(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> str:
    """acme's page with 40 more open incidents (one critical) and 260 resolved this week."""
    tmp = tmp_path_factory.mktemp("busy")
    copy = DuckDBWarehouse(two_brand_warehouse.files.copy_to(tmp / "copy.ducklake").catalog)
    today = FIXTURE_NOW.floor("D")
    rows = []
    for n in range(300):
        open_ = n < 40
        start = today + pd.Timedelta(hours=10) if open_ else today - pd.Timedelta(hours=n % 140)
        rows += incident_hours(
            "acme",
            f"busy-{n:03d}",
            level="campaign",
            channel="google_ads",
            campaign_id=f"busy-{n:03d}",
            campaign_name=f"Campaign {n}",
            kind=("cpa", "cpa_spike", "critical" if n == 39 else "warning"),
            start=start,
            end=FIXTURE_NOW.floor("h") + pd.Timedelta(hours=5) if open_ else start + HOUR,
            settled=FIXTURE_NOW.floor("h") if open_ else start + 2 * HOUR,
            currency="EUR",
        )
    frame = pd.concat(
        [
            copy.query("SELECT * FROM performance_anomalies WHERE brand = 'acme'"),
            typed_anomalies(rows),
        ],
        ignore_index=True,
    )
    copy.replace_slice(ANOMALIES, frame, brand="acme", dates=sorted(set(frame["date"].dt.date)))
    published = publish(copy, tmp / "pages", now=FIXTURE_NOW, only_brand="acme")
    return Path(published.brand_pages["acme"]).read_text()


def test_open_incidents_come_first_worst_first_and_the_rest_is_folded(busy_week: str) -> None:
    section = busy_week[busy_week.index("<h2>Incidents") :]
    visible, _, folded = section.partition("<details")
    shown = re.findall(r'data-status="(\w+)" data-incident="([^"]+)"', visible)
    assert len(shown) == 10 and {status for status, _ in shown} == {"open"}
    assert shown[0][1] == "busy-039"  # the one critical incident leads
    more_open = re.search(r'<details [^>]*data-folded="open" data-count="(\d+)">', section)
    resolved = re.search(r'<details [^>]*data-folded="resolved" data-count="(\d+)">', section)
    assert more_open and resolved
    total_open = int(re.search(r'data-open="(\d+)"', section)[1])  # type: ignore[index]
    assert int(more_open[1]) == total_open - 10
    # Resolved ones: the 150 most recent listed, the rest counted.
    listed = re.findall(r'data-status="resolved"', folded)
    assert len(listed) == 150 and int(resolved[1]) > 260
    assert f"{int(resolved[1]) - 150} more not listed" in folded
    # Nothing of it open by default: the page stays short.
    assert "<details open" not in section
