"""The shared HTTP layer: back-off bounds, HTTP 429, the time budget, scrubbing."""

from __future__ import annotations

import logging
import random
from datetime import date

import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import FakeMeta, FakeTime, meta_row
from warroom_pipelines.channels.errors import (
    ChannelError,
    ChannelResponseError,
    ChannelRetriesExhausted,
)
from warroom_pipelines.channels.http import CallStats, ChannelHttp, RetryPolicy, generic_verdict
from warroom_pipelines.channels.meta import MetaAdsClient, MetaConfig
from warroom_pipelines.vault.secret import Secret

pytestmark = pytest.mark.integration  # local HTTP servers started by the tests


def http(fake_time: FakeTime, policy: RetryPolicy) -> ChannelHttp:
    return ChannelHttp(
        brand="acme",
        channel="meta_ads",
        classifier=generic_verdict,
        policy=policy,
        sleep=fake_time.sleep,
        clock=fake_time.clock,
        rng=random.Random(7),
    )


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=10.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)]:
        waits = {policy.backoff(attempt, rng) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered, so many brands do not retry in lockstep


def test_http_429_honours_retry_after(httpserver: HTTPServer, fake_time: FakeTime) -> None:
    httpserver.expect_ordered_request("/x").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "7"}
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    stats = CallStats()
    body = http(fake_time, RetryPolicy(backoff_base_s=0.01)).request(
        "GET", httpserver.url_for("/x"), account="1", stats=stats
    )
    assert body == {"ok": True}
    assert fake_time.sleeps == [7.0]
    assert (stats.api_calls, stats.retries, stats.rate_limit_wait_s) == (2, 1, 7.0)


def test_total_time_budget_bounds_the_retries(httpserver: HTTPServer, fake_time: FakeTime) -> None:
    httpserver.expect_request("/x").respond_with_data("down", status=503)
    policy = RetryPolicy(max_attempts=100, max_elapsed_s=5.0, backoff_base_s=0.5, backoff_max_s=2.0)
    with pytest.raises(ChannelRetriesExhausted, match="5s budget") as caught:
        http(fake_time, policy).request(
            "GET", httpserver.url_for("/x"), account="1", stats=CallStats()
        )
    assert sum(fake_time.sleeps) <= 5.0
    assert 2 < caught.value.attempts < 100
    assert caught.value.last_status == 503


def test_ok_status_with_a_body_that_is_not_json(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    httpserver.expect_request("/x").respond_with_data("<html>maintenance</html>", status=200)
    with pytest.raises(ChannelResponseError) as caught:
        http(fake_time, RetryPolicy()).request(
            "GET", httpserver.url_for("/x"), account="42", stats=CallStats()
        )
    assert (caught.value.field, caught.value.account) == ("body", "42")


def test_messages_never_carry_token_parameters() -> None:
    error = ChannelError(
        "failed GET https://graph.facebook.com/v25.0/act_1/insights?access_token=EAAGsecret123"
        "&after=MQZDZD (refresh_token=1//0gSECRET, client_secret: GOCSPX-abc)",
        brand="acme",
        channel="meta_ads",
    )
    text = str(error)
    for secret in ("EAAGsecret123", "1//0gSECRET", "GOCSPX-abc"):
        assert secret not in text
    assert "after=MQZDZD" in text and "brand='acme'" in text


def test_request_logs_of_urllib3_are_scrubbed(
    httpserver: HTTPServer, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    token = "EAAGloggedTOKENshouldNEVERappear77"
    fake = FakeMeta(httpserver, token=token)
    fake.hourly = [meta_row("C1", "2026-05-01", 7, impressions=1, clicks=1, spend=1.0)]
    caplog.set_level(logging.DEBUG, logger="urllib3")
    MetaAdsClient(
        brand="acme",
        access_token=Secret(token),
        config=MetaConfig(base_url=httpserver.url_for("/")),
        sleep=fake_time.sleep,
    ).fetch_day(["104598762233591"], date(2026, 5, 1))

    ours = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("/insights?" in m for m in ours)  # the request lines were logged ...
    assert not any(token in m for m in ours)  # ... without the token
