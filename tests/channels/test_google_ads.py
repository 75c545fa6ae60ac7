"""Google Ads client against a local OAuth + searchStream stand-in (tests/channels/fakes.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import (
    Failure,
    FakeGoogleAds,
    FakeTime,
    google_row,
    measures_by_campaign_hour,
)
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.channels.errors import (
    ChannelAuthError,
    ChannelRequestError,
    ChannelResponseError,
    ChannelRetriesExhausted,
)
from warroom_pipelines.channels.google_ads import (
    GoogleAdsClient,
    GoogleAdsConfig,
    GoogleAdsCredentials,
)
from warroom_pipelines.channels.http import RetryPolicy
from warroom_pipelines.vault.secret import Secret

# Local HTTP servers started by the tests; fixtures dated in 2026.
pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

REFRESH = "1//0gFAKErefreshTOKENforACME-abcdef"
SECRET = "GOCSPX-client-secret-value"
DEV = "DEVtokenACME0123456789"
DAY = date(2026, 5, 1)
FAST = RetryPolicy(max_attempts=4, max_elapsed_s=3600, backoff_base_s=0.01, backoff_max_s=0.05)


def client(
    server: HTTPServer, fake_time: FakeTime, refresh: str = REFRESH, **config: Any
) -> GoogleAdsClient:
    return GoogleAdsClient(
        brand="acme",
        credentials=GoogleAdsCredentials(
            client_id="1234-client.apps.googleusercontent.com",
            client_secret=Secret(SECRET),
            refresh_token=Secret(refresh),
            developer_token=Secret(DEV),
            login_customer_id="987-654-3210",
        ),
        config=GoogleAdsConfig(
            base_url=server.url_for("/"),
            token_url=server.url_for("/token"),
            retry=config.pop("retry", FAST),
            **config,
        ),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )


@pytest.fixture
def acme(httpserver: HTTPServer) -> FakeGoogleAds:
    """Customer in New York: UTC 2026-05-01 is local 04-30 20:00 .. 05-01 19:59 (EDT)."""
    fake = FakeGoogleAds(httpserver, refresh_token=REFRESH)
    fake.rows = [
        google_row("111", "2026-04-30", 19, impressions=50, clicks=2, cost=1.5),  # 23:00Z 04-30
        google_row("111", "2026-04-30", 21, impressions=60, clicks=3, cost=2.25),  # 01:00Z
        google_row(
            "111",
            "2026-05-01",
            8,
            impressions=212,
            clicks=27,
            cost=17.43,
            conversions=1.0,
            value=89.0,
        ),
        google_row(
            "111",
            "2026-05-01",
            9,
            impressions=301,
            clicks=35,
            cost=23.11,
            conversions=2.5,
            value=240.5,
        ),
        # A late-attributed conversion in an hour without clicks or cost is still reported.
        google_row(
            "111", "2026-05-01", 17, impressions=4, clicks=0, cost=0.0, conversions=1.0, value=129.0
        ),
        google_row(
            "222",
            "2026-05-01",
            13,
            impressions=2210,
            clicks=41,
            cost=55.87,
            conversions=3.33,
            value=401.2,
            name="PMax | All Products | US",
        ),
        google_row("222", "2026-05-01", 20, impressions=10, clicks=1, cost=0.5),  # 00:00Z 05-02
    ]
    return fake


def test_streams_batches_converts_micros_and_hours(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    fetch = client(httpserver, fake_time).fetch_day(["583-920-1945"], DAY)

    expected = {
        ("111", "2026-05-01T01:00Z"): (60, 3, 2.25, 0.0, 0.0),
        ("111", "2026-05-01T12:00Z"): (212, 27, 17.43, 1.0, 89.0),
        ("111", "2026-05-01T13:00Z"): (301, 35, 23.11, 2.5, 240.5),
        ("111", "2026-05-01T21:00Z"): (4, 0, 0.0, 1.0, 129.0),
        ("222", "2026-05-01T17:00Z"): (2210, 41, 55.87, 3.33, 401.2),
    }
    got = measures_by_campaign_hour(fetch.frame, "%Y-%m-%dT%H:%MZ")
    assert got == expected
    # Hours Google dropped (all-zero) stay absent: nothing is invented for them.
    assert len(fetch.frame) == 5
    assert set(fetch.frame["account_id"]) == {"5839201945"}
    assert set(fetch.frame["currency"]) == {"USD"}
    assert set(fetch.frame["account_timezone"]) == {"America/New_York"}
    assert set(fetch.frame["source"]) == {"google_ads_api"}
    assert set(fetch.frame["conversions_source"]) == {"hourly_segments"}
    assert fetch.frame.loc[fetch.frame["campaign_id"] == "222", "campaign_name"].iloc[0] == (
        "PMax | All Products | US"
    )

    headers = acme.headers_seen[-1]
    assert headers["Developer-Token"] == DEV and headers["Login-Customer-Id"] == "9876543210"
    assert acme.refresh_tokens_seen == [REFRESH]
    stats = fetch.accounts["5839201945"]
    assert stats.spend == pytest.approx(98.66) and stats.rows == 5
    assert (fetch.api_calls, fetch.retries) == (3, 0)  # token, customer, report


def test_access_token_is_cached_until_it_expires(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    google = client(httpserver, fake_time)
    google.fetch_day(["5839201945"], DAY)
    google.fetch_day(["5839201945"], DAY)
    assert acme.issued == 1

    fake_time.now += 3600  # past expires_in (3599 s)
    google.fetch_day(["5839201945"], DAY)
    assert acme.issued == 2
    assert len(set(acme.access_tokens_seen)) == 2


def test_expired_access_token_is_refreshed_once_and_retried(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    google = client(httpserver, fake_time)
    google.fetch_day(["5839201945"], DAY)
    acme.expire_access_tokens()  # revoked server-side before our cached expiry

    fetch = google.fetch_day(["5839201945"], DAY)

    assert len(fetch.frame) == 5
    assert acme.issued == 2
    assert fetch.api_calls == 4  # 401, token, customer, report


def test_a_second_401_after_refreshing_is_an_auth_error(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.accept_access = False
    with pytest.raises(ChannelAuthError) as caught:
        client(httpserver, fake_time).fetch_day(["5839201945"], DAY)
    assert caught.value.status == 401 and "OAUTH_TOKEN_EXPIRED" in str(caught.value)
    assert acme.issued == 2  # refreshed exactly once
    for token in acme.valid_access:
        assert token not in str(caught.value)


def test_revoked_refresh_token_is_an_auth_error_without_secrets(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    revoked = "1//0gREVOKEDrefreshTOKEN-zzzz9999"
    with pytest.raises(ChannelAuthError) as caught:
        client(httpserver, fake_time, refresh=revoked).fetch_day(["5839201945"], DAY)

    message = str(caught.value)
    assert "invalid_grant" in message and "reconnect" in message
    assert "brand='acme'" in message and "channel='google_ads'" in message
    for secret in (revoked, SECRET, DEV):
        assert secret not in message
    assert acme.refresh_tokens_seen == [revoked]  # not retried
    assert fake_time.sleeps == []


def test_resource_exhausted_waits_the_retry_delay(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            429,
            [
                {
                    "error": {
                        "code": 429,
                        "message": "Resource has been exhausted.",
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.ads.googleads.v23.errors."
                                "GoogleAdsFailure",
                                "errors": [
                                    {
                                        "errorCode": {
                                            "quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"
                                        },
                                        "message": "Too many requests. Retry in 30 seconds.",
                                        "details": {
                                            "quotaErrorDetails": {
                                                "rateScope": "ACCOUNT",
                                                "retryDelay": "30s",
                                            }
                                        },
                                    }
                                ],
                            }
                        ],
                    }
                }
            ],
        ),
    ]
    fetch = client(httpserver, fake_time).fetch_day(["5839201945"], DAY)

    assert len(fetch.frame) == 5
    assert fake_time.sleeps == [30.0]
    assert (fetch.retries, fetch.rate_limit_wait_s) == (1, 30.0)


def test_unavailable_then_success(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            503,
            [
                {
                    "error": {
                        "code": 503,
                        "message": "The service is currently unavailable.",
                        "status": "UNAVAILABLE",
                    }
                }
            ],
        ),
        Failure(504, "<html>Gateway Timeout</html>"),
    ]
    fetch = client(httpserver, fake_time).fetch_day(["5839201945"], DAY)
    assert len(fetch.frame) == 5 and fetch.retries == 2 and fetch.rate_limit_wait_s == 0


def test_internal_errors_give_up_after_the_bound(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            500,
            [
                {
                    "error": {
                        "code": 500,
                        "message": "Internal error encountered.",
                        "status": "INTERNAL",
                    }
                }
            ],
        ),
    ] * 10
    with pytest.raises(ChannelRetriesExhausted) as caught:
        client(httpserver, fake_time).fetch_day(["5839201945"], DAY)
    assert (caught.value.attempts, caught.value.last_status) == (4, 500)
    assert "INTERNAL" in str(caught.value) and "account='5839201945'" in str(caught.value)


def test_error_inside_a_200_stream_is_not_data(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.failures = [
        Failure(
            200,
            [
                {"results": []},
                {
                    "error": {
                        "code": 400,
                        "status": "INVALID_ARGUMENT",
                        "message": "Request contains an invalid argument.",
                    }
                },
            ],
        ),
    ]
    with pytest.raises(ChannelRequestError, match="INVALID_ARGUMENT"):
        client(httpserver, fake_time).fetch_day(["5839201945"], DAY)


def test_malformed_int64_names_the_field(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.rows[4]["metrics"]["costMicros"] = "12.3.4"  # third batch
    with pytest.raises(ChannelResponseError) as caught:
        client(httpserver, fake_time).fetch_day(["5839201945"], DAY)
    error = caught.value
    assert (error.brand, error.channel, error.account, error.field) == (
        "acme",
        "google_ads",
        "5839201945",
        "metrics.cost_micros",
    )


def test_empty_stream_is_an_empty_day(
    acme: FakeGoogleAds, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    acme.rows = []
    fetch = client(httpserver, fake_time).fetch_day(["5839201945"], DAY)
    assert fetch.frame.empty and fetch.accounts["5839201945"].rows == 0
    assert isinstance(fetch.frame["hour_start"].dtype, pd.DatetimeTZDtype)
