"""The campaign table and pacing, against numbers computed here from the warehouse's raw rows
and the demo's campaign budgets (not through the dashboard's own queries)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from tests.dashboard.conftest import ANOMALIES, NOW, incident_hours, typed_anomalies
from tests.dashboard.test_brand_pages import PRIOR_WEEK, WEEK
from warroom_pipelines.channels.budgets import typed_budgets
from warroom_pipelines.channels.demo import demo_budgets
from warroom_pipelines.dashboard import publish
from warroom_pipelines.dashboard.campaign_rows import CAMPAIGNS_SHOWN
from warroom_pipelines.dashboard.pacing import daily_budgets
from warroom_pipelines.sentry.pacing import overdelivery
from warroom_pipelines.warehouse import DuckDBWarehouse
from warroom_pipelines.warehouse.tables import BUDGETS

END = NOW.floor("h")  # the last complete hour ends at 14:00 UTC


def _rows(warehouse: DuckDBWarehouse, window: tuple[str, str]) -> pd.DataFrame:
    return warehouse.query(
        "SELECT * FROM unified_performance WHERE brand = 'acme' AND hour_start >= ?::TIMESTAMPTZ "
        "AND hour_start < ?::TIMESTAMPTZ",
        [f"{window[0]}:00+00", f"{window[1]}:00+00"],
    )


def _by_campaign(frame: pd.DataFrame) -> pd.DataFrame:
    sums = frame.groupby(["channel", "campaign_id"])[
        ["spend", "conversions", "conversion_value", "clicks", "impressions"]
    ].sum()
    # A ratio over nothing is no number (null in the warehouse), not infinity.
    nothing = {c: sums[c].where(sums[c] != 0) for c in ("conversions", "spend", "impressions")}
    return sums.assign(
        cpa=sums["spend"] / nothing["conversions"],
        roas=sums["conversion_value"] / nothing["spend"],
        ctr=sums["clicks"] / nothing["impressions"],
    ).sort_values("spend", ascending=False)


@pytest.fixture(scope="module")
def page(two_brand_warehouse: DuckDBWarehouse, tmp_path_factory) -> tuple[str, list[tuple]]:
    """acme's page, with open incidents on its top campaign and on one of its smallest."""
    tmp = tmp_path_factory.mktemp("campaigns")
    copy = DuckDBWarehouse(two_brand_warehouse.files.copy_to(tmp / "copy.ducklake").catalog)
    ranked = _by_campaign(_rows(copy, WEEK))
    top, small = ranked.index[0], ranked.index[-1]
    rows = []
    for (channel, campaign), severity in ((top, "warning"), (top, "critical"), (small, "info")):
        rows += incident_hours(
            "acme",
            f"inc-{campaign}-{severity}",
            level="campaign",
            channel=channel,
            campaign_id=campaign,
            campaign_name="",
            kind=("cpa", "cpa_spike", severity),
            start=END - pd.Timedelta(hours=2),
            end=END + pd.Timedelta(hours=3),
            settled=END,
            currency="EUR",
        )
    before = copy.query("SELECT * FROM performance_anomalies WHERE brand = 'acme'")
    frame = pd.concat([before, typed_anomalies(rows)], ignore_index=True)
    copy.replace_slice(ANOMALIES, frame, brand="acme", dates=sorted(set(frame["date"].dt.date)))
    published = publish(copy, tmp / "pages", now=NOW, only_brand="acme")
    return Path(published.brand_pages["acme"]).read_text(), [top, small]


def _campaign_rows(html: str) -> list[tuple[str, str, str]]:
    return re.findall(
        r'<tr data-campaign="([^"]+)" data-campaign-channel="([^"]+)">(.*?)</tr>', html
    )


def test_campaigns_are_sorted_by_spend_with_the_warehouse_numbers_and_changes(
    page: tuple[str, list[tuple]], two_brand_warehouse: DuckDBWarehouse
) -> None:
    html, (_, small) = page
    week = _by_campaign(_rows(two_brand_warehouse, WEEK))
    prior = _by_campaign(_rows(two_brand_warehouse, PRIOR_WEEK))
    listed = _campaign_rows(html)
    # The top campaigns by spend, then the small one with an open incident.
    keys = [(channel, campaign) for campaign, channel, _ in listed]
    assert keys == [*week.index[:CAMPAIGNS_SHOWN], small]
    for campaign, channel, cells in listed:
        values = dict(re.findall(r'data-metric="(\w+)" data-value="([^"]*)"', cells))
        deltas = re.findall(r'<span class="delta">([^<]*)</span>', cells)
        for n, metric in enumerate(("spend", "conversions", "cpa", "roas", "ctr")):
            expected = week.loc[(channel, campaign), metric]
            if pd.isna(expected):
                assert values[metric] == "" and deltas[n] == "—"
                continue
            assert float(values[metric]) == pytest.approx(expected, rel=1e-9)
            before = (
                prior["spend"].get((channel, campaign)) and prior.loc[(channel, campaign), metric]
            )
            if before and not pd.isna(before):
                assert deltas[n] == f"{(expected - before) / abs(before) * 100:+.1f}%"
            else:
                assert deltas[n] in ("—", "new")


def test_the_campaigns_not_listed_are_summed_so_the_table_adds_up(
    page: tuple[str, list[tuple]], two_brand_warehouse: DuckDBWarehouse
) -> None:
    html, _ = page
    week = _by_campaign(_rows(two_brand_warehouse, WEEK))
    listed = [float(v) for v in re.findall(r'data-metric="spend" data-value="([^"]+)"', html)]
    others = re.search(r'<tr class="others" data-others="(\d+)">', html)
    assert others and int(others[1]) == len(week) - CAMPAIGNS_SHOWN - 1
    assert sum(listed) == pytest.approx(week["spend"].sum(), rel=1e-9)


def test_a_campaign_shows_its_worst_open_incident_with_a_link(
    page: tuple[str, list[tuple]],
) -> None:
    html, (top, small) = page
    cells = {(ch, c): body for c, ch, body in _campaign_rows(html)}
    assert f'href="#incident-inc-{top[1]}-critical"' in cells[top]
    assert f"inc-{top[1]}-warning" not in cells[top]
    assert f'href="#incident-inc-{small[1]}-info"' in cells[small]
    # The links land on the incident's row.
    assert f'id="incident-inc-{top[1]}-critical"' in html


def _local_today(zone: str) -> tuple[date, pd.Timestamp]:
    local = (END - pd.Timedelta(hours=1)).to_pydatetime().astimezone(ZoneInfo(zone))
    return local.date(), pd.Timestamp(local.date(), tz=zone).tz_convert("UTC")


def test_pacing_is_todays_spend_in_the_accounts_own_day_against_its_daily_budget(
    page: tuple[str, list[tuple]], two_brand_warehouse: DuckDBWarehouse
) -> None:
    html, _ = page
    rows = _rows(two_brand_warehouse, ("2026-11-13 14:00", "2026-11-15 14:00"))
    budgets = demo_budgets("acme", date(2026, 11, 13), date(2026, 11, 17)).set_index(
        ["channel", "campaign_id", "date"]
    )["daily_budget"]
    zones = set(rows["account_timezone"])
    assert {_local_today(z)[0] for z in zones} == {date(2026, 11, 15), date(2026, 11, 16)}
    per_channel: dict[str, list[float]] = {}
    checked = 0
    for campaign, channel, cells in _campaign_rows(html):
        mine = rows.loc[(rows["campaign_id"] == campaign) & (rows["channel"] == channel)]
        day, midnight = _local_today(str(mine["account_timezone"].iloc[0]))
        spent = mine.loc[mine["hour_start"] >= midnight, "spend"].sum()
        budget = budgets.get((channel, campaign, pd.Timestamp(day)))
        pace = re.search(
            r'data-pace="([^"]+)" data-spend-today="([^"]+)" data-budget="([^"]+)"', cells
        )
        assert pace and budget is not None, campaign
        assert float(pace[2]) == pytest.approx(spent) and float(pace[3]) == budget
        share = spent / budget
        over = share > overdelivery(channel)
        assert pace[1] == ("over" if over else "reached" if share >= 0.95 else "pacing")
        checked += 1
    assert checked > CAMPAIGNS_SHOWN
    # Per channel: every campaign with a budget, listed or not.
    for channel, spend, budget in re.findall(
        r'data-pacing-channel="(\w+)" data-spend-today="([^"]+)" data-budget="([^"]+)"', html
    ):
        total_spend = total_budget = 0.0
        for campaign, mine in rows.loc[rows["channel"] == channel].groupby("campaign_id"):
            day, midnight = _local_today(str(mine["account_timezone"].iloc[0]))
            b = budgets.get((channel, campaign, pd.Timestamp(day)))
            if b is not None:
                total_spend += mine.loc[mine["hour_start"] >= midnight, "spend"].sum()
                total_budget += b
        assert float(spend) == pytest.approx(total_spend)
        assert float(budget) == pytest.approx(total_budget)
        per_channel[channel] = [float(spend), float(budget)]
    assert set(per_channel) == {"meta_ads", "google_ads", "tiktok_ads"}


def test_pacing_reads_the_stored_budgets_and_the_demo_settings_only_for_demo_rows(
    tmp_path: Path,
) -> None:
    day = date(2026, 11, 15)
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.ducklake")
    # Nothing stored: demo rows pace against the demo's settings, a connected brand against none.
    assert len(daily_budgets(warehouse, "acme", ["demo"], day, day + timedelta(days=1)))
    assert daily_budgets(warehouse, "acme", ["meta_ads", "google_ads"], day, day).empty
    # What the campaign_budgets asset stored is what the page paces against, brand by brand.
    stored = pd.DataFrame(
        {
            "brand": ["acme", "globex"],
            "channel": ["meta_ads", "meta_ads"],
            "campaign_id": ["c-1", "c-1"],
            "date": [pd.Timestamp(day)] * 2,
            "daily_budget": [120.0, 999.0],
            "currency": ["EUR", "EUR"],
        }
    )
    for brand in ("acme", "globex"):
        mine = typed_budgets(stored.loc[stored["brand"] == brand])
        warehouse.replace_slice(BUDGETS, mine, brand=brand, dates=[day])
    budgets = daily_budgets(warehouse, "acme", ["meta_ads"], day, day)
    assert budgets[["campaign_id", "daily_budget"]].values.tolist() == [["c-1", 120.0]]
