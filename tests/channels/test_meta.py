"""Meta Ads client against a local Graph API stand-in (tests/channels/fakes.py)."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, date, datetime

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import Failure, FakeMeta, FakeTime, meta_row
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.channels.errors import (
    ChannelAuthError,
    ChannelRequestError,
    ChannelResponseError,
    ChannelRetriesExhausted,
)
from warroom_pipelines.channels.http import RetryPolicy
from warroom_pipelines.channels.meta import MetaAdsClient, MetaConfig
from warroom_pipelines.schema import RAW_COLUMNS, finalize
from warroom_pipelines.vault.secret import Secret

# Local HTTP servers started by the tests; fixtures dated in 2026.
pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

TOKEN = "EAAGm0PX4ZCpsBAFAKEtokenBRANDacme0001"
DAY = date(2026, 5, 1)
FAST = RetryPolicy(max_attempts=4, max_elapsed_s=3600, backoff_base_s=0.01, backoff_max_s=0.05)
PURCHASES = ("omni_purchase", "purchase", "offsite_conversion.fb_pixel_purchase")


def client(
    server: HTTPServer, fake_time: FakeTime, token: str = TOKEN, brand: str = "acme", **config
) -> MetaAdsClient:
    return MetaAdsClient(
        brand=brand,
        access_token=Secret(token),
        config=MetaConfig(base_url=server.url_for("/"), retry=config.pop("retry", FAST), **config),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def family(n: float) -> dict[str, float]:
    """The same purchases under the three overlapping action types, as Meta reports them."""
    return dict.fromkeys(PURCHASES, n)


def hour(frame: pd.DataFrame, campaign: str, utc: str) -> pd.Series:
    rows = frame[(frame["campaign_id"] == campaign) & (frame["hour_start"] == pd.Timestamp(utc))]
    assert len(rows) == 1, rows
    return rows.iloc[0]


@pytest.fixture
def acme(httpserver: HTTPServer) -> FakeMeta:
    """Account in Los Angeles: UTC 2026-05-01 is local 04-30 17:00 .. 05-01 16:59 (PDT)."""
    fake = FakeMeta(httpserver, token=TOKEN)
    fake.hourly = [
        meta_row("C1", "2026-04-30", 10, impressions=90, clicks=4, spend=3.00),  # 17:00Z 04-30
        meta_row("C1", "2026-04-30", 18, impressions=100, clicks=4, spend=5.00),  # 01:00Z
        meta_row("C1", "2026-05-01", 7, impressions=412, clicks=9, spend=11.84),  # 14:00Z
        meta_row("C1", "2026-05-01", 8, impressions=655, clicks=14, spend=18.02),  # 15:00Z
        meta_row("C1", "2026-05-01", 9, impressions=81, clicks=None, spend=2.37),  # 16:00Z
        meta_row("C1", "2026-05-01", 20, impressions=300, clicks=3, spend=7.00),  # 03:00Z 05-02
        meta_row("C2", "2026-05-01", 8, impressions=377, clicks=5, spend=5.91, name="Lead Gen"),
    ]
    fake.daily = [
        meta_row(
            "C1",
            "2026-04-30",
            None,
            impressions=190,
            clicks=8,
            spend=8.00,
            actions=family(2),
            action_values=family(100.0),
        ),
        meta_row(
            "C1",
            "2026-05-01",
            None,
            impressions=1448,
            clicks=26,
            spend=39.23,
            actions={**family(12), "link_click": 26},
            action_values=family(1523.40),
        ),
        meta_row(
            "C2",
            "2026-05-01",
            None,
            impressions=377,
            clicks=5,
            spend=5.91,
            actions={"lead": 9, "link_click": 5},
            name="Lead Gen",
        ),
    ]
    return fake


def test_pages_hours_to_utc_and_allocates_daily_purchases(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fetch = client(httpserver, fake_time).fetch_day(["act_104598762233591"], DAY)
    frame = fetch.frame

    assert list(frame.columns) == list(RAW_COLUMNS)
    assert sorted(frame["hour_start"].dt.hour.tolist()) == [1, 14, 15, 15, 16]
    assert set(frame["brand"]) == {"acme"} and set(frame["channel"]) == {"meta_ads"}
    assert set(frame["account_id"]) == {"104598762233591"} and set(frame["currency"]) == {"USD"}
    assert set(frame["account_timezone"]) == {"America/Los_Angeles"}
    assert set(frame["source"]) == {"meta_api"}
    assert set(frame["conversions_source"]) == {"daily_report_allocated"}
    assert (frame["date"] == pd.Timestamp("2026-05-01")).all()

    h14 = hour(frame, "C1", "2026-05-01T14:00Z")
    assert (h14["impressions"], h14["clicks"], h14["spend"]) == (412, 9, 11.84)
    # One purchase family counted (12), never the three overlapping types summed (36);
    # spread over the campaign-day's 26 clicks.
    assert h14["conversions"] == pytest.approx(12 * 9 / 26)
    assert h14["conversion_value"] == pytest.approx(1523.40 * 9 / 26)
    assert hour(frame, "C1", "2026-05-01T16:00Z")["clicks"] == 0  # clicks omitted by Meta
    assert hour(frame, "C1", "2026-05-01T01:00Z")["conversions"] == pytest.approx(1.0)
    assert hour(frame, "C2", "2026-05-01T15:00Z")["conversions"] == 0  # leads are not purchases
    assert frame["spend"].sum() == pytest.approx(5.00 + 11.84 + 18.02 + 2.37 + 5.91)

    # 7 hourly rows and 3 daily rows at 2 per page: 4 + 2 insights calls, plus the account.
    assert len(acme.insights_calls) == 6
    assert [c.get("after") for c in acme.insights_calls] == [None, "2", "4", "6", None, "2"]
    assert json.loads(acme.insights_calls[0]["time_range"]) == {
        "since": "2026-04-30",
        "until": "2026-05-01",
    }
    assert set(acme.tokens_seen) == {TOKEN}
    stats = fetch.accounts["104598762233591"]
    assert (stats.rows, stats.currency, stats.time_zone) == (5, "USD", "America/Los_Angeles")
    assert stats.spend == pytest.approx(43.14)
    assert (fetch.api_calls, fetch.retries, fetch.rate_limit_wait_s) == (7, 0, 0.0)
    summary = json.loads(json.dumps(fetch.summary()))
    assert summary["accounts"]["104598762233591"]["api_calls"] == 7
    assert summary["rows"] == 5 and summary["accounts"]["104598762233591"]["currency"] == "USD"
    finalize(frame, brand="acme", ingested_at=datetime(2026, 5, 2, tzinfo=UTC))


def test_daily_conversions_without_hourly_rows_are_reported_not_dropped(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.daily.append(
        meta_row("C3", "2026-05-01", None, impressions=10, clicks=1, spend=1.0, actions=family(3))
    )
    fetch = client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)
    assert fetch.accounts["104598762233591"].unallocated_conversions == 3
    assert "C3" not in set(fetch.frame["campaign_id"])


def test_hourly_actions_mode_counts_one_action_type(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.hourly = [
        meta_row(
            "C1",
            "2026-05-01",
            7,
            impressions=412,
            clicks=9,
            spend=11.84,
            actions={**family(2), "link_click": 8},
            action_values=family(80.0),
        ),
        meta_row(
            "C1",
            "2026-05-01",
            8,
            impressions=655,
            clicks=14,
            spend=18.02,
            actions={"offsite_conversion.fb_pixel_purchase": 1},
        ),
    ]
    meta = client(httpserver, fake_time, hourly_conversions="hourly_actions")
    frame = meta.fetch_day(["104598762233591"], DAY).frame

    assert hour(frame, "C1", "2026-05-01T14:00Z")[["conversions", "conversion_value"]].tolist() == [
        2.0,
        80.0,
    ]
    # The preferred types are absent here: the next in the family is counted.
    assert hour(frame, "C1", "2026-05-01T15:00Z")["conversions"] == 1.0
    assert set(frame["conversions_source"]) == {"hourly_actions"}
    assert all("breakdowns" in c for c in acme.insights_calls)  # no daily report needed


def test_rate_limit_waits_for_the_time_meta_names(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    usage = {
        "104598762233591": [
            {"type": "ads_insights", "call_count": 100, "estimated_time_to_regain_access": 5}
        ]
    }
    acme.failures = [
        Failure(
            400,
            {
                "error": {
                    "message": "(#80000) There have been too many calls from this ad-account.",
                    "type": "OAuthException",
                    "code": 80000,
                    "error_subcode": 2446079,
                }
            },
            {"x-business-use-case-usage": json.dumps(usage)},
        ),
        Failure(
            400,
            {
                "error": {
                    "message": "(#17) User request limit reached",
                    "code": 17,
                    "is_transient": True,
                }
            },
        ),
    ]
    fetch = client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)

    assert len(fetch.frame) == 5
    assert fake_time.sleeps[0] == 300.0  # 5 minutes from the usage header
    assert 0 < fake_time.sleeps[1] < 1  # code 17 without a hint: our own back-off
    assert fetch.retries == 2
    assert fetch.rate_limit_wait_s == pytest.approx(sum(fake_time.sleeps))
    assert fetch.api_calls == 9


def test_server_errors_are_retried_then_succeed(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            500, {"error": {"message": "An unknown error occurred", "code": 1, "error_subcode": 99}}
        ),
        Failure(503, "Service Unavailable"),
    ]
    fetch = client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)

    assert len(fetch.frame) == 5
    assert (fetch.retries, fetch.rate_limit_wait_s) == (2, 0.0)


def test_retries_give_up_after_the_bound(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    acme.failures = [
        Failure(
            503,
            {
                "error": {
                    "message": "(#2) Service temporarily unavailable",
                    "code": 2,
                    "is_transient": True,
                }
            },
        )
    ] * 10
    with pytest.raises(ChannelRetriesExhausted) as caught:
        client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)

    error = caught.value
    assert (error.attempts, error.last_status) == (4, 503)
    assert len(fake_time.sleeps) == 3
    message = str(error)
    assert "4 attempts" in message and "Meta error 2" in message
    assert "brand='acme'" in message and "account='104598762233591'" in message
    assert TOKEN not in message and TOKEN not in caplog.text


def test_rate_limit_longer_than_the_time_budget_gives_up_at_once(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    usage = {"1": [{"type": "ads_insights", "estimated_time_to_regain_access": 60}]}
    acme.failures = [
        Failure(
            400,
            {"error": {"message": "(#613) Calls limited", "code": 613}},
            {"x-business-use-case-usage": json.dumps(usage)},
        ),
    ]
    budget = RetryPolicy(max_attempts=5, max_elapsed_s=600, backoff_base_s=0.01)
    with pytest.raises(ChannelRetriesExhausted, match="600s budget"):
        client(httpserver, fake_time, retry=budget).fetch_day(["104598762233591"], DAY)
    assert fake_time.sleeps == []


def test_expired_token_is_an_auth_error_without_the_token(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    stale = "EAAGstaleTOKENvalue-never-shown-42"
    with pytest.raises(ChannelAuthError) as caught:
        client(httpserver, fake_time, token=stale).fetch_day(["104598762233591"], DAY)

    message = str(caught.value)
    assert stale not in message and stale not in repr(caught.value.args)
    assert "brand='acme'" in message and "channel='meta_ads'" in message
    assert "190" in message and "reconnect" in message
    assert acme.tokens_seen == [stale]  # not retried
    assert fake_time.sleeps == []


def test_malformed_page_names_brand_channel_account_and_field(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.hourly[3]["spend"] = "18,02"  # on the second page
    with pytest.raises(ChannelResponseError) as caught:
        client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)

    error = caught.value
    assert (error.brand, error.channel, error.account, error.field) == (
        "acme",
        "meta_ads",
        "104598762233591",
        "spend",
    )
    assert "'18,02'" in str(error) and "field='spend'" in str(error)


def test_page_without_data_is_a_response_error(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [Failure(200, {"paging": {}})]
    with pytest.raises(ChannelResponseError, match="field='data'"):
        client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)


def test_parameter_errors_are_not_retried(
    acme: FakeMeta, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            400,
            {
                "error": {
                    "message": "(#100) breakdowns[0] must be one of",
                    "type": "OAuthException",
                    "code": 100,
                }
            },
        )
    ]
    with pytest.raises(ChannelRequestError, match="Meta error 100"):
        client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)
    assert fake_time.sleeps == []


def test_unreachable_server_gives_up_without_leaking_the_token_in_the_url(
    fake_time: FakeTime,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    meta = MetaAdsClient(
        brand="acme",
        access_token=Secret(TOKEN),
        config=MetaConfig(base_url=f"http://127.0.0.1:{port}", retry=FAST),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    with pytest.raises(ChannelRetriesExhausted) as caught:
        meta.fetch_day(["104598762233591"], DAY)
    assert "ConnectionError" in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_each_brand_reaches_only_its_own_server_with_its_own_token(
    acme: FakeMeta, httpserver: HTTPServer, other_server: HTTPServer, fake_time: FakeTime
) -> None:
    other_token = "EAAGotherBRANDtokenZZZZ9999"
    globex = FakeMeta(other_server, token=other_token, account_id="555000111", time_zone="UTC")
    globex.hourly = [meta_row("G1", "2026-05-01", 3, impressions=50, clicks=1, spend=1.0)]

    a = client(httpserver, fake_time).fetch_day(["104598762233591"], DAY)
    b = client(other_server, fake_time, token=other_token, brand="globex").fetch_day(
        ["555000111"], DAY
    )

    assert set(acme.tokens_seen) == {TOKEN} and set(globex.tokens_seen) == {other_token}
    assert set(a.frame["brand"]) == {"acme"} and set(b.frame["campaign_id"]) == {"G1"}
    assert set(b.frame["brand"]) == {"globex"} and "G1" not in set(a.frame["campaign_id"])
