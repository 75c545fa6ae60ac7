"""Example Ads, an invented ad platform written as a platform module is (docs/adding-a-platform.md):
its client on the shared `TokenClient` base, its credentials and its `PLATFORM` record, built
by `example_platform()` so that a test registers it only while it runs.

It imports nothing that builds the Dagster definitions, so a process can register it before
they load, as a deployment registers its own platform module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar

from warroom_pipelines.channels.client import TokenClient
from warroom_pipelines.channels.errors import ChannelError
from warroom_pipelines.channels.http import Reply, RetryPolicy, Verdict, generic_verdict
from warroom_pipelines.channels.platform import DemoFunnel, Platform, Setting
from warroom_pipelines.channels.report import Account, AccountStats, LocalRow
from warroom_pipelines.days import local_dates_covering
from warroom_pipelines.vault.models import Integration
from warroom_pipelines.vault.secret import Secret

CHANNEL = "example_ads"


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


def connect(brand: str, credentials: Any, settings: Mapping[str, str]) -> ExampleAdsClient:
    config = ExampleConfig(base_url=settings["base_url"], api_version=settings["api_version"])
    return ExampleAdsClient(brand=brand, access_token=credentials.api_key, config=config)


def example_platform() -> Platform[Any]:
    """Example Ads' credentials (they register with the vault when defined) and record."""

    @dataclass(frozen=True)
    class ExampleAdsCredentials(Integration):
        name: ClassVar[str] = CHANNEL
        api_key: Secret
        account_ids: tuple[str, ...]

        @classmethod
        def parse(cls, f: Any) -> ExampleAdsCredentials:
            digits = "a numeric account id"
            return cls(f.secret("api_key"), f.ids("account_ids", _digits, digits))

    return Platform(
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


def _digits(value: str) -> str | None:
    return value if value.isdigit() else None
