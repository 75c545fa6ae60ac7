"""Ad-platform endpoints from the environment reach every run, run config or not.

Schedules and sensors send no run config, so an endpoint that only run config can set is no
use to them: the profile reads the variables when the definitions load.
"""

from __future__ import annotations

import base64
import os
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import FakeMeta, meta_row
from warroom_pipelines.assets.channels import channel_assets
from warroom_pipelines.profiles import local_resources
from warroom_pipelines.resources.ad_platforms import (
    EndpointSettingError,
    ad_platforms_from_env,
    endpoint_variables,
)
from warroom_pipelines.schedules import batch_requests

DAY = date(2026, 5, 1)
TOKEN = "EAAGacmeSECRETmetaTOKEN0000111122223333"
META = [a for a in channel_assets if a.key.path[-1] == "meta_ads"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("WARROOM_DUCKDB_PATH", str(tmp_path / "warroom.duckdb"))
    monkeypatch.setenv("PERFORMANCE_ENCRYPTION_KEY", base64.b64encode(os.urandom(32)).decode())
    for _, setting in endpoint_variables():
        monkeypatch.delenv(str(setting.env_var), raising=False)
    return tmp_path


def test_a_scheduled_run_reads_the_platform_the_environment_names(
    home: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer, instance
) -> None:
    # A sandbox on a newer API version than War Room's default.
    meta = FakeMeta(httpserver, token=TOKEN, account_id="1111", time_zone="UTC", version="v26.0")
    meta.hourly = [meta_row("A1", "2026-05-01", 9, impressions=900, clicks=30, spend=21.5)]
    meta.daily = [meta_row("A1", "2026-05-01", None, impressions=900, clicks=30, spend=21.5)]
    monkeypatch.setenv("WARROOM_META_BASE_URL", httpserver.url_for("/"))
    monkeypatch.setenv("WARROOM_META_API_VERSION", "v26.0")

    resources = local_resources()  # what the Definitions get when they load
    with dg.build_resources({"vault": resources["vault"]}) as built:
        built.vault.manager().set(
            "acme", "meta_ads", {"access_token": TOKEN, "ad_account_ids": ["act_1111"]}
        )
    instance.add_dynamic_partitions("brands", ["acme"])
    (request,) = batch_requests(["acme"], DAY, DAY, tick="t", reason="hourly", size=25)
    assert not request.run_config  # what the hourly schedule sends: no run config
    result = dg.materialize(
        META,
        instance=instance,
        resources=resources,
        partition_key=request.partition_key,
        run_config=request.run_config,
    )
    assert result.success
    assert meta.tokens_seen and set(meta.tokens_seen) == {TOKEN}
    (event,) = result.asset_materializations_for_node("channel_metrics__meta_ads")
    assert event.metadata["rows"].value == 1


def test_unset_variables_keep_the_platforms_own_endpoints(home: Path) -> None:
    platforms = ad_platforms_from_env({})
    base_urls = {p.name: platforms.settings_of(p)["base_url"] for p, _ in endpoint_variables()}
    assert base_urls == {
        "meta_ads": "https://graph.facebook.com",
        "google_ads": "https://googleads.googleapis.com",
        "tiktok_ads": "https://business-api.tiktok.com/open_api",
    }


def test_every_variable_sets_its_field(home: Path) -> None:
    variables = endpoint_variables()
    assert len(variables) == 7  # Meta 2, Google Ads 3, TikTok 2
    env = {
        str(s.env_var): "v9.9" if s.kind == "api_version" else f"https://proxy.example/{p.name}/"
        for p, s in variables
    }
    platforms = ad_platforms_from_env(env)
    for platform, setting in variables:
        assert platforms.settings_of(platform)[setting.name] == env[str(setting.env_var)].rstrip(
            "/"
        )


def test_a_malformed_endpoint_fails_the_load_naming_the_variable(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WARROOM_TIKTOK_BASE_URL", "business-api.tiktok.com")
    monkeypatch.setenv("WARROOM_GOOGLE_ADS_API_VERSION", "23")
    with pytest.raises(EndpointSettingError) as raised:
        local_resources()
    assert "WARROOM_TIKTOK_BASE_URL='business-api.tiktok.com'" in str(raised.value)
    assert "WARROOM_GOOGLE_ADS_API_VERSION='23'" in str(raised.value)
