"""TikTok client against a local Business API stand-in (tests/channels/fakes.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import (
    Failure,
    FakeTikTok,
    FakeTime,
    measures_by_campaign_hour,
    tiktok_record,
)
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.channels.errors import (
    ChannelAuthError,
    ChannelRequestError,
    ChannelResponseError,
    ChannelRetriesExhausted,
)
from warroom_pipelines.channels.http import RetryPolicy
from warroom_pipelines.channels.tiktok import TikTokAdsClient, TikTokConfig
from warroom_pipelines.vault.secret import Secret

# Local HTTP servers started by the tests; fixtures dated in 2026.
pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

TOKEN = "act.FAKEtiktokTOKENacme0001xyz"
ADV = "7123456789012345678"
DAY = date(2026, 5, 1)
FAST = RetryPolicy(max_attempts=4, max_elapsed_s=3600, backoff_base_s=0.01, backoff_max_s=0.05)


def client(
    server: HTTPServer, fake_time: FakeTime, token: str = TOKEN, **config: Any
) -> TikTokAdsClient:
    return TikTokAdsClient(
        brand="acme",
        access_token=Secret(token),
        config=TikTokConfig(
            base_url=server.url_for("/open_api"), retry=config.pop("retry", FAST), **config
        ),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "2026050203160011AA", "data": {}}


@pytest.fixture
def acme(httpserver: HTTPServer) -> FakeTikTok:
    """Advertiser in Los Angeles: UTC 2026-05-01 is local 04-30 17:00 .. 05-01 16:59 (PDT)."""
    fake = FakeTikTok(httpserver, token=TOKEN)
    fake.records = [
        tiktok_record("T1", "2026-04-30 16:00:00", impressions=10, clicks=1, spend="1.00"),
        tiktok_record(
            "T1",
            "2026-04-30 23:00:00",
            impressions=500,
            clicks=6,
            spend="3.10",
            purchases="1",
            value="45.00",
        ),
        tiktok_record(
            "T1",
            "2026-05-01 08:00:00",
            impressions=8120,
            clicks=101,
            spend="18.40",
            purchases="2",
            value="141.00",
        ),
        tiktok_record(
            "T1",
            "2026-05-01 09:00:00",
            impressions=9011,
            clicks=117,
            spend="21.07",
            purchases="2",
            value="152.80",
        ),
        tiktok_record(
            "T2",
            "2026-05-01 08:00:00",
            impressions=1760,
            clicks=15,
            spend="4.12",
            purchases="-",
            value="-",
            name="Lead Gen | Instant Form | US",
        ),
        tiktok_record("T2", "2026-05-01 18:00:00", impressions=5, clicks=0, spend="0.10"),
    ]
    return fake


def test_pages_each_local_day_and_reads_dash_as_no_value(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fetch = client(httpserver, fake_time).fetch_day([ADV], DAY)

    got = measures_by_campaign_hour(fetch.frame, "%H")
    assert got == {
        ("T1", "06"): (500, 6, 3.10, 1, 45.0),
        ("T1", "15"): (8120, 101, 18.40, 2, 141.0),
        ("T1", "16"): (9011, 117, 21.07, 2, 152.8),
        ("T2", "15"): (1760, 15, 4.12, 0, 0),
    }
    assert set(fetch.frame["currency"]) == {"USD"}
    assert set(fetch.frame["source"]) == {"tiktok_api"}
    assert set(fetch.frame["conversions_source"]) == {"hourly_report"}
    # One call per local day, paged by two: 04-30 has 2 records (1 page), 05-01 has 4 (2 pages).
    calls = [(c["start_date"], c["page"]) for c in acme.report_calls]
    assert calls == [("2026-04-30", "1"), ("2026-05-01", "1"), ("2026-05-01", "2")]
    first = acme.report_calls[0]
    assert first["data_level"] == "AUCTION_CAMPAIGN"
    assert json.loads(first["metrics"])[-2:] == ["complete_payment", "total_purchase_value"]
    assert set(acme.tokens_seen) == {TOKEN}
    assert (fetch.api_calls, fetch.retries) == (4, 0)


def test_conversion_metrics_are_configurable(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    for record in acme.records:
        record["metrics"]["conversion"] = "7"
    fetch = client(httpserver, fake_time, conversions_metric="conversion").fetch_day([ADV], DAY)
    assert set(fetch.frame["conversions"]) == {7.0}


def test_errors_on_http_200_are_classified_by_code(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            200,
            error_body(
                40100,
                "Due to too many requests, requests from App [70] are temporarily restricted.",
            ),
        ),
        Failure(200, error_body(50000, "System error.")),
    ]
    fetch = client(httpserver, fake_time).fetch_day([ADV], DAY)

    assert len(fetch.frame) == 4
    assert fetch.retries == 2
    assert fetch.rate_limit_wait_s == pytest.approx(fake_time.sleeps[0])
    assert fetch.rate_limit_wait_s < sum(fake_time.sleeps)  # the 50000 wait is not a rate limit


def test_parameter_error_on_http_200_is_not_retried(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [Failure(200, error_body(40002, "Invalid value for data_level."))]
    with pytest.raises(ChannelRequestError, match="TikTok code 40002"):
        client(httpserver, fake_time).fetch_day([ADV], DAY)
    assert fake_time.sleeps == []


def test_rate_limit_gives_up_after_the_bound(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [Failure(200, error_body(40133, "Advertiser QPS reaches limit."))] * 10
    with pytest.raises(ChannelRetriesExhausted) as caught:
        client(httpserver, fake_time).fetch_day([ADV], DAY)
    assert caught.value.attempts == 4 and "40133" in str(caught.value)
    assert caught.value.last_status == 200


def test_invalid_token_is_an_auth_error_without_the_token(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    revoked = "act.REVOKEDtiktokTOKEN-9999"
    with pytest.raises(ChannelAuthError) as caught:
        client(httpserver, fake_time, token=revoked).fetch_day([ADV], DAY)
    message = str(caught.value)
    assert revoked not in message
    assert "40105" in message and "brand='acme'" in message and "channel='tiktok_ads'" in message
    assert acme.tokens_seen == [revoked]


def test_server_error_then_success(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [Failure(502, "<html>Bad Gateway</html>")]
    fetch = client(httpserver, fake_time).fetch_day([ADV], DAY)
    assert len(fetch.frame) == 4 and fetch.retries == 1


def test_malformed_metric_names_the_field(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.records[5]["metrics"]["spend"] = "1O.5"  # page 2 of 05-01
    with pytest.raises(ChannelResponseError) as caught:
        client(httpserver, fake_time).fetch_day([ADV], DAY)
    error = caught.value
    assert (error.brand, error.channel, error.account, error.field) == (
        "acme",
        "tiktok_ads",
        ADV,
        "metrics.spend",
    )


def test_missing_page_info_is_a_response_error(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [Failure(200, {"code": 0, "message": "OK", "data": {"list": []}})]
    with pytest.raises(ChannelResponseError, match="page_info"):
        client(httpserver, fake_time).fetch_day([ADV], DAY)


def test_only_hours_that_have_ended_are_kept(
    acme: FakeTikTok, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    """Today's hour in progress has partial numbers: it waits for the next refresh."""
    as_of = datetime(2026, 5, 1, 16, 0, tzinfo=UTC)
    fetch = client(httpserver, fake_time).fetch_day([ADV], DAY, as_of=as_of)
    hours = sorted(fetch.frame["hour_start"].dt.hour.tolist())
    assert hours == [6, 15, 15]  # 16:00-16:59 has not ended at 16:00
    assert fetch.accounts[ADV].rows == 3
    assert fetch.accounts[ADV].spend == pytest.approx(3.10 + 18.40 + 4.12)
