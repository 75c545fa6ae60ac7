"""A cut or non-JSON HTTP 200 (a proxy's page, a dropped connection) is transient: retried
within the bounded back-off, and a typed error only when the bound is reached."""

from __future__ import annotations

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from tests.channels.fakes import FakeTime
from tests.channels.test_http import http
from warroom_pipelines.channels.errors import ChannelResponseError
from warroom_pipelines.channels.http import CallStats, RetryPolicy

pytestmark = pytest.mark.integration  # a local HTTP server started by the test

POLICY = RetryPolicy(max_attempts=3, max_elapsed_s=60, backoff_base_s=0.01, backoff_max_s=0.02)


def test_a_cut_body_is_retried_and_the_good_one_returned(httpserver: HTTPServer) -> None:
    fake_time = FakeTime()
    httpserver.expect_ordered_request("/insights").respond_with_response(
        Response('{"data": [{"spend": "1', status=200, content_type="application/json")
    )
    httpserver.expect_ordered_request("/insights").respond_with_json({"data": []})
    stats = CallStats()
    body = http(fake_time, POLICY).request(
        "GET", httpserver.url_for("/insights"), account="1111", stats=stats
    )
    assert body == {"data": []}
    assert stats.api_calls == 2 and stats.retries == 1 and len(fake_time.sleeps) == 1


def test_garbage_always_is_a_typed_error_after_the_bound(httpserver: HTTPServer) -> None:
    fake_time = FakeTime()
    httpserver.expect_request("/insights").respond_with_data("<html>proxy</html>", status=200)
    stats = CallStats()
    with pytest.raises(ChannelResponseError) as caught:
        http(fake_time, POLICY).request(
            "GET", httpserver.url_for("/insights"), account="1111", stats=stats
        )
    assert caught.value.field == "body" and stats.api_calls == POLICY.max_attempts
    assert "brand='acme'" in str(caught.value) and "not JSON" in str(caught.value)
