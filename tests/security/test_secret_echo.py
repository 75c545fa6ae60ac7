"""A hostile platform echoes the brand's credentials back in its errors: no run of 8 or more
of a secret's characters may reach the exception, the logs, run storage or the brand's page.

The echo is padded so that the secret straddles every place where a text gets cut (the
platform reasons, the connector's reason, delivery errors, the dashboard line)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import Failure, FakeMeta, FakeTikTok, FakeTime
from warroom_pipelines.alerts.destinations import scrub as delivery_error
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.channels.errors import ChannelError
from warroom_pipelines.channels.google_ads import (
    GoogleAdsClient,
    GoogleAdsConfig,
    GoogleAdsCredentials,
)
from warroom_pipelines.channels.http import RetryPolicy
from warroom_pipelines.channels.meta import MetaAdsClient, MetaConfig
from warroom_pipelines.channels.tiktok import TikTokAdsClient, TikTokConfig
from warroom_pipelines.dashboard import publish
from warroom_pipelines.dashboard.model import error_text
from warroom_pipelines.dashboard.pages import brand_file
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.ad_platforms import AdPlatformsResource
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.vault.redact import MIN_RUN, redact
from warroom_pipelines.vault.secret import Secret

pytestmark = pytest.mark.integration  # local HTTP servers started by the tests

META_TOKEN = "EAAGhostileECHOmetaTOKEN0123456789abcdef"
TIKTOK_TOKEN = "tiktokHOSTILEechoTOKEN9876543210fedcba"
REFRESH = "1//0gHOSTILErefreshTOKEN-27x"  # 27 characters, like the one that leaked
CLIENT_SECRET = "GOCSPX-hostile-client-secret"
DEV_TOKEN = "hostileDEVtoken123456"
DAY = date(2026, 5, 1)
FAST = RetryPolicy(max_attempts=2, max_elapsed_s=60, backoff_base_s=0.01, backoff_max_s=0.02)
CUTS = (120, 160, 200, 300, 500)  # where texts were or are cut


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


def paddings(secret: str) -> list[int]:
    """Pad lengths that put a cut point before, inside and after the secret."""
    return sorted({max(0, cut - k) for cut in CUTS for k in (0, 1, MIN_RUN, len(secret) - 1)})


def leaks(text: str, secrets: tuple[str, ...]) -> list[str]:
    """Every run of MIN_RUN characters of a secret that occurs in text."""
    return [
        s[i : i + MIN_RUN]
        for s in secrets
        for i in range(len(s) - MIN_RUN + 1)
        if s[i : i + MIN_RUN] in text
    ]


def product_logs(caplog: pytest.LogCaptureFixture) -> str:
    """What War Room logged (the fake platform's own request log is the platform's side)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")


def echo(pad: int, *secrets: str) -> str:
    return "x" * pad + " you sent " + " and ".join(secrets) + " which we refuse " + "y" * 400


def test_redact_masks_every_run_of_a_secret_wherever_it_is_cut() -> None:
    text = "before " + META_TOKEN + " after"
    for start in range(len(META_TOKEN)):
        for end in range(start + MIN_RUN, len(META_TOKEN) + 1):
            quoted = f"token {META_TOKEN[start:end]}!"
            assert leaks(redact(quoted, [META_TOKEN]), (META_TOKEN,)) == []
    assert redact(text, [META_TOKEN]) == "before **** after"
    assert redact("short abc value", ["abc"]) == "short **** value"
    assert redact("EAAGhos is a word", [META_TOKEN]) == "EAAGhos is a word"  # 7 < 8


@pytest.mark.parametrize("pad", paddings(META_TOKEN))
def test_meta_echoing_the_token_leaks_nothing(
    httpserver: HTTPServer, fake_time: FakeTime, pad: int, caplog: pytest.LogCaptureFixture
) -> None:
    meta = FakeMeta(httpserver, token=META_TOKEN, account_id="1111")
    meta.failures = [Failure(400, {"error": {"message": echo(pad, META_TOKEN), "code": 190}})]
    client = MetaAdsClient(
        brand="acme",
        access_token=Secret(META_TOKEN),
        config=MetaConfig(base_url=httpserver.url_for("/"), retry=FAST),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ChannelError) as caught:
        client.fetch_day(["1111"], DAY)
    shown = [str(caught.value), repr(caught.value.args), product_logs(caplog)]
    shown += [error_text(str(caught.value)), delivery_error(str(caught.value))]
    assert leaks("\n".join(shown), (META_TOKEN,)) == []
    assert "brand='acme'" in str(caught.value)


@pytest.mark.parametrize("pad", paddings(TIKTOK_TOKEN))
def test_tiktok_echoing_the_token_leaks_nothing(
    httpserver: HTTPServer, fake_time: FakeTime, pad: int, caplog: pytest.LogCaptureFixture
) -> None:
    tiktok = FakeTikTok(httpserver, token=TIKTOK_TOKEN)
    # Transient twice: the retry warning is logged, then the retries run out.
    tiktok.failures = [Failure(200, {"code": 50000, "message": echo(pad, TIKTOK_TOKEN)})] * 2
    client = TikTokAdsClient(
        brand="acme",
        access_token=Secret(TIKTOK_TOKEN),
        config=TikTokConfig(base_url=httpserver.url_for("/open_api"), retry=FAST),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ChannelError) as caught:
        client.fetch_day([tiktok.advertiser_id], DAY)
    shown = "\n".join([str(caught.value), product_logs(caplog), error_text(str(caught.value))])
    assert leaks(shown, (TIKTOK_TOKEN,)) == []
    assert "50000" in shown


@pytest.mark.parametrize("pad", paddings(REFRESH))
def test_google_oauth_echoing_the_refresh_token_leaks_nothing(
    httpserver: HTTPServer, fake_time: FakeTime, pad: int, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = (REFRESH, CLIENT_SECRET, DEV_TOKEN)
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_grant", "error_description": echo(pad, *secrets)}, status=400
    )
    client = GoogleAdsClient(
        brand="acme",
        credentials=GoogleAdsCredentials(
            client_id="1234-client.apps.googleusercontent.com",
            client_secret=Secret(CLIENT_SECRET),
            refresh_token=Secret(REFRESH),
            developer_token=Secret(DEV_TOKEN),
            login_customer_id=None,
        ),
        config=GoogleAdsConfig(
            base_url=httpserver.url_for("/"), token_url=httpserver.url_for("/token"), retry=FAST
        ),
        sleep=fake_time.sleep,
        clock=fake_time.clock,
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ChannelError) as caught:
        client.fetch_day(["5839201945"], DAY)
    shown = "\n".join([str(caught.value), product_logs(caplog), delivery_error(str(caught.value))])
    assert leaks(shown, secrets) == []
    assert "invalid_grant" in shown


def test_an_echoed_token_reaches_no_event_log_run_storage_or_page(
    instance: dg.DagsterInstance,
    resources: dict[str, object],
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    meta = FakeMeta(httpserver, token=META_TOKEN, account_id="1111")
    meta.failures = [Failure(400, {"error": {"message": echo(200 - 20, META_TOKEN), "code": 190}})]
    vault = VaultResource(profile="local", key_store="sqlite", dagster_home=str(tmp_path))
    vault.manager().set(
        "acme", "meta_ads", {"access_token": META_TOKEN, "ad_account_ids": ["act_1111"]}
    )
    base = httpserver.url_for("/").rstrip("/")
    run_resources = dict(
        resources,
        vault=vault,
        demo_source=DemoSourceResource(brands=[]),
        ad_platforms=AdPlatformsResource(
            settings={
                "meta_ads": {"base_url": base},
                "tiktok_ads": {"base_url": f"{base}/open_api"},
                "google_ads": {"base_url": base, "token_url": f"{base}/token"},
            }
        ),
    )
    instance.add_dynamic_partitions("brands", ["acme"])
    result = dg.materialize(
        channel_assets,
        instance=instance,
        resources=run_resources,
        partition_key=partition_key("acme", DAY),
        raise_on_error=False,
    )
    # The failure stays with its brand-day: stored as the channel's health, the step succeeds.
    assert result.success
    events = "\n".join(str(record) for record in instance.all_logs(result.run_id))
    assert leaks(events, (META_TOKEN,)) == []
    store = resources["warehouse"].get()
    health = store.query("SELECT status, reason FROM channel_health.meta_ads")
    assert list(health["status"]) == ["failed"]
    assert leaks(str(health["reason"][0]), (META_TOKEN,)) == []
    pages = tmp_path / "pages"
    publish(resources["warehouse"].get(), pages, brands=["acme"])
    page = (pages / "brands" / brand_file("acme")).read_text()
    assert "DATA MISSING" in page
    stored = [p for p in Path(instance.root_directory).rglob("*") if p.is_file()]
    texts = [page] + [p.read_bytes().decode("utf-8", "replace") for p in stored]
    for text in texts:
        assert leaks(text, (META_TOKEN,)) == []
