"""A fourth ad platform, defined only here, reaches everything that reads the registry.

This is docs/adding-a-platform.md done in a test: the platform's client (on the shared
`TokenClient` base), its credentials and its record are written in this module, served by a
local HTTP server speaking its invented wire protocol, and registered; no package file
names it, yet the resource reads it with the brand's keys, the channel asset stores its rows
in the unified shape, the demo imitates it, the schedules restate it, the Sentry settles it
and the dashboard names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines import clock
from warroom_pipelines.assets.channels import platform_asset
from warroom_pipelines.channels import registry
from warroom_pipelines.channels.client import TokenClient
from warroom_pipelines.channels.demo import demo_metrics
from warroom_pipelines.channels.errors import ChannelError
from warroom_pipelines.channels.health import source_name
from warroom_pipelines.channels.http import Reply, RetryPolicy, Verdict, generic_verdict
from warroom_pipelines.channels.platform import DemoFunnel, Platform, Setting
from warroom_pipelines.channels.report import Account, AccountStats, LocalRow
from warroom_pipelines.dashboard.model import build_freshness
from warroom_pipelines.dashboard.pages import channel_name
from warroom_pipelines.days import local_dates_covering
from warroom_pipelines.partitions import partition_key
from warroom_pipelines.resources.ad_platforms import ad_platforms_from_env, endpoint_variables
from warroom_pipelines.resources.demo import DemoSourceResource
from warroom_pipelines.resources.vault import VaultResource
from warroom_pipelines.schedules import restatement_text, restatement_windows
from warroom_pipelines.schema import RAW_COLUMNS, finalize
from warroom_pipelines.sentry.settle import settle_lag
from warroom_pipelines.vault.models import Integration
from warroom_pipelines.vault.secret import Secret
from warroom_pipelines.warehouse import TableRef

pytestmark = AFTER_THE_FIXTURES

CHANNEL = "example_ads"
DAY = date(2026, 5, 1)
API_KEY = "exSECRETexampleADSkey000011112222"


@dataclass(frozen=True)
class ExampleConfig:
    base_url: str = "https://api.example-ads.invalid"
    api_version: str = "v1"
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class ExampleAdsClient(TokenClient[ExampleConfig]):
    """Example Ads: an account's currency and zone, then one hourly report per local day."""

    channel = CHANNEL
    source = "example_api"

    def classifier(self) -> Callable[[Reply], Verdict]:
        return generic_verdict

    def account_id(self, raw: str) -> str:
        if not raw.isdigit():
            raise ChannelError(
                f"account id {raw!r} is not numeric", brand=self.brand, channel=CHANNEL
            )
        return raw

    def read_account(
        self, account_id: str, day: date, stats: AccountStats
    ) -> tuple[Account, list[LocalRow]]:
        bare = self.bare(account_id)
        info = self._get(account_id, "", {}, stats)
        account = bare.located(
            bare.text(info, "currency"), bare.text(info, "time_zone"), zone_field="time_zone"
        )
        rows = []
        for local_date in local_dates_covering(day, account.time_zone):
            body = self._get(account_id, "/report", {"date": str(local_date)}, stats)
            rows += [
                LocalRow(
                    campaign_id=account.text(r, "campaign_id"),
                    campaign_name=str(r.get("campaign_name") or ""),
                    local_date=local_date,
                    local_hour=account.count(r.get("hour"), "hour"),
                    impressions=account.count(r.get("impressions"), "impressions"),
                    clicks=account.count(r.get("clicks"), "clicks"),
                    spend=account.number(r.get("spend"), "spend"),
                    conversions=account.number(r.get("conversions"), "conversions"),
                    conversion_value=account.number(r.get("value"), "value"),
                    conversions_source="hourly_report",
                )
                for r in body["rows"]
            ]
        return account, rows

    def _get(self, account_id: str, path: str, params: dict[str, str], stats: AccountStats) -> Any:
        url = self.url(f"accounts/{account_id}{path}")
        headers = {"Authorization": f"Bearer {self._token.reveal()}"}
        return self._http.request(
            "GET", url, account=account_id, stats=stats.calls, params=params, headers=headers
        )


class FakeExampleAds:
    """The platform's wire protocol on a local server: Bearer key, string numbers."""

    def __init__(self, server: HTTPServer, account_id: str, rows: dict[str, list[dict[str, Any]]]):
        self.keys_seen: list[str] = []
        self.rows = rows  # local date -> report rows
        server.expect_request(f"/v1/accounts/{account_id}").respond_with_handler(self._account)
        server.expect_request(f"/v1/accounts/{account_id}/report").respond_with_handler(
            self._report
        )

    def _authorized(self, request: Request) -> bool:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.keys_seen.append(key)
        return key == API_KEY

    def _account(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(json.dumps({"error": "bad key"}), status=401)
        body = {"currency": "EUR", "time_zone": "Europe/Berlin"}
        return Response(json.dumps(body), content_type="application/json")

    def _report(self, request: Request) -> Response:
        if not self._authorized(request):
            return Response(json.dumps({"error": "bad key"}), status=401)
        body = {"rows": self.rows.get(request.args["date"], [])}
        return Response(json.dumps(body), content_type="application/json")


def connect(brand: str, credentials: Any, settings: Mapping[str, str]) -> ExampleAdsClient:
    config = ExampleConfig(base_url=settings["base_url"], api_version=settings["api_version"])
    return ExampleAdsClient(brand=brand, access_token=credentials.api_key, config=config)


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform[Any]]:
    """Example Ads registered for one test: its credentials and its platform record."""
    # Credentials register themselves with the vault when defined: keep that to this test.
    monkeypatch.setattr(Integration, "registry", dict(Integration.registry))

    @dataclass(frozen=True)
    class ExampleAdsCredentials(Integration):
        name: ClassVar[str] = CHANNEL
        api_key: Secret
        account_ids: tuple[str, ...]

        @classmethod
        def parse(cls, f: Any) -> ExampleAdsCredentials:
            digits = "a numeric account id"
            return cls(f.secret("api_key"), f.ids("account_ids", _digits, digits))

    platform = registry.register(
        Platform(
            name=CHANNEL,
            label="Example Ads",
            restatement_days=10,
            settle_lag=timedelta(hours=2),
            overdelivery=1.5,
            credentials=ExampleAdsCredentials,
            settings=(
                Setting("base_url", ExampleConfig.base_url, "WARROOM_EXAMPLE_BASE_URL", "url"),
                Setting("api_version", ExampleConfig.api_version),
            ),
            connect=connect,
            accounts=lambda credentials: credentials.account_ids,
            demo=DemoFunnel(ctr=(0.1, 0.2), daily_impressions=5_000.0),
        )
    )
    yield platform
    registry.unregister(CHANNEL)


def _digits(value: str) -> str | None:
    return value if value.isdigit() else None


def _row(campaign: str, hour: int, impressions: int, clicks: int, spend: str) -> dict[str, Any]:
    return {
        "campaign_id": campaign,
        "campaign_name": f"Example {campaign}",
        "hour": hour,
        "impressions": str(impressions),
        "clicks": str(clicks),
        "spend": spend,
        "conversions": "1",
        "value": "40.0",
    }


def test_the_registered_platform_is_read_with_the_brands_keys_and_stored_in_the_unified_shape(
    example: Platform[Any],
    resources: dict[str, Any],
    tmp_path: Path,
    httpserver: HTTPServer,
    instance: dg.DagsterInstance,
) -> None:
    # Berlin is UTC+2 on 1 May: local 01:00 on 1 May is 23:00 UTC on 30 April (another day),
    # local 01:00 on 2 May is 23:00 UTC on 1 May.
    fake = FakeExampleAds(
        httpserver,
        "4242",
        {
            "2026-05-01": [_row("E1", 1, 900, 30, "12.50"), _row("E1", 14, 1200, 40, "20.00")],
            "2026-05-02": [_row("E2", 1, 300, 3, "2.25")],
        },
    )
    vault = VaultResource(profile="local", key_store="sqlite", dagster_home=str(tmp_path))
    vault.manager().set("acme", CHANNEL, {"api_key": API_KEY, "account_ids": ["4242"]})
    # The record's variable moves its endpoint, as WARROOM_META_BASE_URL moves Meta's.
    assert "WARROOM_EXAMPLE_BASE_URL" in {s.env_var for _, s in endpoint_variables()}
    ad_platforms = ad_platforms_from_env({"WARROOM_EXAMPLE_BASE_URL": httpserver.url_for("/")})
    instance.add_dynamic_partitions("brands", ["acme"])

    result = dg.materialize(
        [platform_asset(CHANNEL)],
        instance=instance,
        resources=dict(
            resources,
            vault=vault,
            ad_platforms=ad_platforms,
            demo_source=DemoSourceResource(brands=[]),
        ),
        partition_key=partition_key("acme", DAY),
    )

    assert result.success
    assert fake.keys_seen and set(fake.keys_seen) == {API_KEY}
    store = resources["warehouse"].get()
    stored = store.read_slices(TableRef("channel_metrics", CHANNEL), {"acme": [DAY]})
    hours = sorted(pd.to_datetime(stored["hour_start"], utc=True).dt.strftime("%d %H:%M"))
    assert hours == ["01 12:00", "01 23:00"]
    assert set(stored["currency"]) == {"EUR"} and set(stored["source"]) == {"example_api"}
    (health,) = store.read_slices(TableRef("channel_health", CHANNEL), {"acme": [DAY]}).to_dict(
        "records"
    )
    assert health["status"] == "ok" and health["reported_hours"] == 2
    unified = finalize(stored[list(RAW_COLUMNS)], brand="acme", ingested_at=clock.now())
    assert unified["ctr"].round(4).tolist() == [round(40 / 1200, 4), round(3 / 300, 4)]


def test_the_registered_platform_is_restated_settled_imitated_and_named(
    example: Platform[Any],
) -> None:
    assert registry.names() == ("meta_ads", "google_ads", "tiktok_ads", CHANNEL)
    assert restatement_windows({})[CHANNEL] == 10
    assert "Example Ads 10" in restatement_text()
    assert settle_lag(CHANNEL) == pd.Timedelta(hours=2)

    rows = demo_metrics("example-shop", DAY)
    assert set(rows["channel"]) == set(registry.names())
    mine = rows.loc[rows["channel"] == CHANNEL]
    assert len(mine) and mine["account_id"].str.startswith("demo-example-").all()
    ctr = mine["clicks"].sum() / mine["impressions"].sum()
    assert 0.05 < ctr < 0.3  # its own funnel (CTR 10-20 %), not another platform's

    assert channel_name(CHANNEL) == "Example Ads"
    assert source_name(CHANNEL) == "Example Ads"
    freshness = build_freshness(pd.DataFrame(), pd.Timestamp("2026-05-01T12:00Z"), {})
    assert [(f.channel, f.status) for f in freshness][-1] == (CHANNEL, "not connected")


def test_a_name_is_registered_once_and_the_first_platforms_keep_their_order(
    example: Platform[Any],
) -> None:
    with pytest.raises(ValueError, match="already registered as 'example_ads'"):
        registry.register(replace(example, label="Another Example"))
    with pytest.raises(ValueError, match="built-in"):
        registry.unregister("meta_ads")
    registry.unregister(CHANNEL)
    # Found by module in the package, kept in the order the demo's seeded draws depend on.
    assert registry.names() == ("meta_ads", "google_ads", "tiktok_ads")
    with pytest.raises(registry.UnknownPlatform, match="unknown ad platform 'example_ads'"):
        registry.platform(CHANNEL)
