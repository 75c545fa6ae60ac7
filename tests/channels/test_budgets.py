"""Campaign budget reads against local servers speaking each platform's wire format: every
platform's units and budget levels end as one daily amount in currency units."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer

from tests.channels import test_google_ads, test_meta, test_tiktok
from tests.channels.fakes import FakeGoogleAds, FakeMeta, FakeTikTok, FakeTime
from warroom_pipelines.channels.budgets import CampaignBudget
from warroom_pipelines.channels.errors import ChannelResponseError

pytestmark = [pytest.mark.integration]


def _meta_campaign(cid: str, daily: str | None = None, lifetime: str | None = None) -> dict:
    row = {"id": cid, "name": f"Acme {cid}", "effective_status": "ACTIVE"}
    if daily is not None:
        row["daily_budget"] = daily
    if lifetime is not None:
        row["lifetime_budget"] = lifetime
    return row


def test_meta_reads_campaign_or_ad_set_budgets_in_minor_units(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    """Campaign budget optimisation puts the budget on the campaign; otherwise the ad sets
    carry it (summed). Lifetime budgets say nothing of a day. Pages are followed."""
    fake = FakeMeta(httpserver, token=test_meta.TOKEN, page_size=2)
    fake.campaigns = [
        _meta_campaign("c-cbo", daily="15000", lifetime="0"),  # 150.00 USD
        _meta_campaign("c-life", daily="0", lifetime="300000"),
        _meta_campaign("c-adsets"),  # ad-set budgets: 40.00 + 25.50
        _meta_campaign("c-mixed"),  # one ad set on a lifetime budget: unknown
    ]
    fake.adsets = [
        {"id": "a1", "campaign_id": "c-adsets", "daily_budget": "4000", "lifetime_budget": "0"},
        {"id": "a2", "campaign_id": "c-adsets", "daily_budget": "2550"},
        {"id": "a3", "campaign_id": "c-cbo"},
        {"id": "a4", "campaign_id": "c-mixed", "daily_budget": "1000"},
        {"id": "a5", "campaign_id": "c-mixed", "daily_budget": "0", "lifetime_budget": "9000"},
    ]
    budgets = test_meta.client(httpserver, fake_time).fetch_budgets(["act_104598762233591"])
    assert budgets == [
        CampaignBudget("c-cbo", 150.0, "USD"),
        CampaignBudget("c-adsets", 65.5, "USD"),
    ]
    assert fake.tokens_seen and set(fake.tokens_seen) == {test_meta.TOKEN}


def test_meta_budgets_of_an_offset_one_currency_are_whole_units(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fake = FakeMeta(httpserver, token=test_meta.TOKEN, currency="JPY", time_zone="Asia/Tokyo")
    fake.campaigns = [_meta_campaign("c-yen", daily="5000")]
    budgets = test_meta.client(httpserver, fake_time).fetch_budgets(["104598762233591"])
    assert budgets == [CampaignBudget("c-yen", 5000.0, "JPY")]


def test_meta_garbled_budget_names_brand_channel_and_field(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fake = FakeMeta(httpserver, token=test_meta.TOKEN)
    fake.campaigns = [_meta_campaign("c1", daily="fifty")]
    with pytest.raises(ChannelResponseError) as caught:
        test_meta.client(httpserver, fake_time).fetch_budgets(["104598762233591"])
    assert caught.value.brand == "acme" and caught.value.channel == "meta_ads"
    assert caught.value.field == "campaigns.daily_budget"


def _google_budget(cid: str, budget_id: str, **budget: object) -> dict:
    return {
        "campaign": {"resourceName": f"customers/5839201945/campaigns/{cid}", "id": cid},
        "campaignBudget": {
            "resourceName": f"customers/5839201945/campaignBudgets/{budget_id}",
            "id": budget_id,
            **budget,
        },
    }


def test_google_reads_daily_micros_and_leaves_shared_and_total_budgets_out(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fake = FakeGoogleAds(httpserver, refresh_token=test_google_ads.REFRESH, currency="EUR")
    fake.budget_rows = [
        _google_budget("111", "b1", amountMicros="150000000", period="DAILY", referenceCount="1"),
        # One budget shared by two campaigns caps the pair, not either one.
        _google_budget(
            "222",
            "b2",
            amountMicros="400000000",
            period="DAILY",
            explicitlyShared=True,
            referenceCount="2",
        ),
        _google_budget(
            "333",
            "b2",
            amountMicros="400000000",
            period="DAILY",
            explicitlyShared=True,
            referenceCount="2",
        ),
        _google_budget("444", "b3", totalAmountMicros="9000000000", period="CUSTOM_PERIOD"),
        _google_budget("555", "b4", amountMicros="12500000", referenceCount="1"),  # DAILY default
    ]
    budgets = test_google_ads.client(httpserver, fake_time).fetch_budgets(["583-920-1945"])
    assert budgets == [
        CampaignBudget("111", 150.0, "EUR"),
        CampaignBudget("555", 12.5, "EUR"),
    ]


def _adgroup(adgroup_id: str, campaign_id: str, mode: str, budget: float) -> dict:
    return {
        "adgroup_id": adgroup_id,
        "campaign_id": campaign_id,
        "budget_mode": mode,
        "budget": budget,
    }


def test_tiktok_reads_campaign_budgets_and_ad_groups_of_unlimited_campaigns(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fake = FakeTikTok(httpserver, token=test_tiktok.TOKEN, page_size=2)
    fake.campaigns = [
        {"campaign_id": "t-day", "budget_mode": "BUDGET_MODE_DAY", "budget": 150.0},
        {"campaign_id": "t-dyn", "budget_mode": "BUDGET_MODE_DYNAMIC_DAILY_BUDGET", "budget": 80},
        {"campaign_id": "t-total", "budget_mode": "BUDGET_MODE_TOTAL", "budget": 3000.0},
        {"campaign_id": "t-open", "budget_mode": "BUDGET_MODE_INFINITE", "budget": 0.0},
    ]
    fake.adgroups = [
        {
            "adgroup_id": "g1",
            "campaign_id": "t-open",
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": 60.0,
        },
        {
            "adgroup_id": "g2",
            "campaign_id": "t-open",
            "budget_mode": "BUDGET_MODE_DYNAMIC_DAILY_BUDGET",
            "budget": 45.5,
        },
        {
            "adgroup_id": "g3",
            "campaign_id": "t-day",
            "budget_mode": "BUDGET_MODE_DAY",
            "budget": 10.0,
        },  # under a campaign budget: not asked for
    ]
    budgets = test_tiktok.client(httpserver, fake_time).fetch_budgets([test_tiktok.ADV])
    assert budgets == [
        CampaignBudget("t-day", 150.0, "USD"),
        CampaignBudget("t-dyn", 80.0, "USD"),
        CampaignBudget("t-open", 105.5, "USD"),
    ]
    asked = [call for call in fake.settings_calls if "adgroup_id" in call["fields"]]
    assert asked and all('"t-open"' in call["filtering"] for call in asked)
