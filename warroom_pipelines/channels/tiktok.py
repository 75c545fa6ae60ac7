"""TikTok Ads (Business API v1.3 integrated report): campaign-hours of one brand's
advertisers for one UTC day.

Quirks handled here (see ../shared/adapi/tiktok.md): errors, token expiry and rate limits
come as HTTP 200 with a non-zero body `code`; `"-"` stands for "no value"; paths end with
a slash; list parameters are JSON in the query string; the hourly report takes one
advertiser-local day per call and pages with `page` / `page_info.total_page`. Which metrics
count as conversions is not documented beyond their names, so it is configuration.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests

from warroom_pipelines.channels.errors import ChannelError
from warroom_pipelines.channels.http import (
    CallStats,
    ChannelHttp,
    Outcome,
    Reply,
    RetryPolicy,
    Verdict,
    generic_verdict,
)
from warroom_pipelines.channels.platform import DemoFunnel, Platform, Setting
from warroom_pipelines.channels.report import (
    Account,
    AccountStats,
    ChannelFetch,
    LocalRow,
    fetch_accounts,
)
from warroom_pipelines.days import local_dates_covering
from warroom_pipelines.vault.models import TikTokAdsCredentials
from warroom_pipelines.vault.secret import Secret

CHANNEL = "tiktok_ads"
SOURCE = "tiktok_api"
NO_VALUE = "-"


@dataclass(frozen=True)
class TikTokConfig:
    base_url: str = "https://business-api.tiktok.com/open_api"
    api_version: str = "v1.3"
    # Purchase count and value of the web pixel; `conversion` (the optimisation event) is
    # the alternative. Semantics are unverified per account, hence configurable.
    conversions_metric: str = "complete_payment"
    conversion_value_metric: str = "total_purchase_value"
    page_size: int = 1000
    # Deleted campaigns appear only with a STATUS_ALL filter; they still spent money.
    include_deleted: bool = True
    rate_limit_codes: frozenset[int] = frozenset({40100, 40133, 40016, 40132})
    transient_codes: frozenset[int] = frozenset({50000, 50002, 60001, *range(51000, 51010)})
    auth_codes: frozenset[int] = frozenset({40001, 40102, 40104, 40105, 40106, 40107, 40113})
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def classify(config: TikTokConfig) -> Callable[[Reply], Verdict]:
    """The body `code` takes precedence over the HTTP status."""

    def verdict(reply: Reply) -> Verdict:
        code = reply.body.get("code") if isinstance(reply.body, dict) else None
        if not isinstance(code, int):
            return generic_verdict(reply)
        if code == 0 and 200 <= reply.status < 300:
            return Verdict(Outcome.OK)
        reason = f"HTTP {reply.status}, TikTok code {code}: {reply.body.get('message', '')}"
        if code in config.auth_codes:
            return Verdict(Outcome.AUTH, reason)
        if code in config.rate_limit_codes:
            return Verdict(Outcome.RATE_LIMITED, reason)
        if code in config.transient_codes or reply.status >= 500:
            return Verdict(Outcome.TRANSIENT, reason)
        return Verdict(Outcome.REJECTED, reason)

    return verdict


class TikTokAdsClient:
    """Reads one brand's TikTok advertisers with the brand's own access token."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        brand: str,
        access_token: Secret,
        config: TikTokConfig | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.brand = brand
        self.config = config or TikTokConfig()
        self._token = access_token
        self._http = ChannelHttp(
            brand=brand,
            channel=CHANNEL,
            classifier=classify(self.config),
            policy=self.config.retry,
            secrets=(access_token,),
            session=session,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )

    def fetch_day(
        self, account_ids: Sequence[str], day: date, as_of: datetime | None = None
    ) -> ChannelFetch:
        """Campaign-hours of the UTC day for each advertiser id that have ended
        by `as_of` (default: now)."""
        ids = [self._advertiser_id(raw) for raw in account_ids]
        return fetch_accounts(CHANNEL, SOURCE, ids, day, self._read, as_of)

    def _advertiser_id(self, raw: str) -> str:
        if not str(raw).isdigit():
            raise ChannelError(
                f"advertiser id {raw!r} is not numeric", brand=self.brand, channel=CHANNEL
            )
        return str(raw)

    def _read(
        self, advertiser_id: str, day: date, stats: AccountStats
    ) -> tuple[Account, list[LocalRow]]:
        """One report per advertiser-local day overlapping the UTC day."""
        account = self._advertiser(advertiser_id, stats.calls)
        rows = [
            self._hourly_row(account, record)
            for local_date in local_dates_covering(day, account.time_zone)
            for record in self._report(account, local_date, stats.calls)
        ]
        return account, rows

    def _get(self, path: str, params: dict[str, str], account: str, stats: CallStats) -> Any:
        url = f"{self.config.base_url.rstrip('/')}/{self.config.api_version}/{path.strip('/')}/"
        return self._http.request(
            "GET",
            url,
            account=account,
            stats=stats,
            params=params,
            headers={"Access-Token": self._token.reveal()},
        )

    def _advertiser(self, advertiser_id: str, stats: CallStats) -> Account:
        """Currency and time zone from the advertiser info."""
        body = self._get(
            "advertiser/info",
            {
                "advertiser_ids": json.dumps([advertiser_id]),
                "fields": json.dumps(["advertiser_id", "currency", "timezone"]),
            },
            advertiser_id,
            stats,
        )
        bare = Account(self.brand, CHANNEL, advertiser_id)
        listed = _data(bare, body).get("list")
        if not isinstance(listed, list) or not listed or not isinstance(listed[0], dict):
            raise bare.error("advertiser info has no advertiser", "data.list")
        return bare.located(
            bare.text(listed[0], "currency"),
            bare.text(listed[0], "timezone"),
            zone_field="timezone",
        )

    def _report(self, account: Account, local_date: date, stats: CallStats) -> list[dict[str, Any]]:
        """Every record of the hourly campaign report of one advertiser-local day."""
        metrics = [
            "campaign_name",
            "spend",
            "impressions",
            "clicks",
            self.config.conversions_metric,
            self.config.conversion_value_metric,
        ]
        params = {
            "advertiser_id": account.account_id,
            "service_type": "AUCTION",
            "report_type": "BASIC",
            "data_level": "AUCTION_CAMPAIGN",
            "dimensions": json.dumps(["campaign_id", "stat_time_hour"]),
            "metrics": json.dumps(metrics),
            "start_date": local_date.isoformat(),
            "end_date": local_date.isoformat(),
            "page_size": str(self.config.page_size),
        }
        if self.config.include_deleted:
            params["filtering"] = json.dumps(
                [
                    {
                        "field_name": "campaign_status",
                        "filter_type": "IN",
                        "filter_value": json.dumps(["STATUS_ALL"]),
                    }
                ]
            )
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._get(
                "report/integrated/get", {**params, "page": str(page)}, account.account_id, stats
            )
            data = _data(account, body)
            listed = data.get("list")
            if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
                raise account.error("report page has no list of records", "data.list")
            info = data.get("page_info")
            total_pages = info.get("total_page") if isinstance(info, dict) else None
            if not isinstance(total_pages, int) or isinstance(total_pages, bool):
                raise account.error(
                    "report page has no integer total_page", "data.page_info.total_page"
                )
            records.extend(listed)
            if page >= total_pages or not listed:
                return records
            page += 1

    def _hourly_row(self, account: Account, record: dict[str, Any]) -> LocalRow:
        dimensions = record.get("dimensions")
        metrics = record.get("metrics")
        if not isinstance(metrics, dict):
            raise account.error("record has no metrics object", "metrics")
        label = account.text(dimensions, "stat_time_hour", "dimensions.stat_time_hour")
        try:
            local = datetime.strptime(label, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise account.error(
                f"expected 'YYYY-MM-DD HH:00:00', got {label[:30]!r}", "dimensions.stat_time_hour"
            ) from None

        def metric(name: str) -> float:
            if name not in metrics:
                raise account.error("requested metric is missing", f"metrics.{name}")
            value = metrics[name]
            # "-" is TikTok's "no value": nothing was counted for this hour.
            return 0.0 if value == NO_VALUE else account.number(value, f"metrics.{name}")

        def count(name: str) -> int:
            value = metric(name)
            if value != int(value):
                raise account.error(f"expected a whole number, got {value!r}", f"metrics.{name}")
            return int(value)

        return LocalRow(
            campaign_id=account.text(dimensions, "campaign_id", "dimensions.campaign_id"),
            campaign_name=str(metrics.get("campaign_name") or ""),
            local_date=local.date(),
            local_hour=local.hour,
            impressions=count("impressions"),
            clicks=count("clicks"),
            spend=metric("spend"),
            conversions=metric(self.config.conversions_metric),
            conversion_value=metric(self.config.conversion_value_metric),
            conversions_source="hourly_report",
        )


def _data(account: Account, body: Any) -> dict[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise account.error("response has no data object", "data")
    return data


def connect(
    brand: str, credentials: TikTokAdsCredentials, settings: Mapping[str, str]
) -> TikTokAdsClient:
    """The brand's client at the configured Business API."""
    config = TikTokConfig(base_url=settings["base_url"], api_version=settings["api_version"])
    return TikTokAdsClient(brand=brand, access_token=credentials.access_token, config=config)


PLATFORM = Platform(
    name=CHANNEL,
    label="TikTok Ads",
    # TikTok's attribution windows need at least a week.
    restatement_days=7,
    # Basic reports lag about 10 minutes on average, stragglers up to an hour.
    settle_lag=timedelta(hours=1),
    credentials=TikTokAdsCredentials,
    settings=(
        Setting("base_url", TikTokConfig.base_url, "WARROOM_TIKTOK_BASE_URL", "url"),
        Setting(
            "api_version", TikTokConfig.api_version, "WARROOM_TIKTOK_API_VERSION", "api_version"
        ),
    ),
    connect=connect,
    accounts=lambda credentials: credentials.advertiser_ids,
    demo=DemoFunnel(
        ctr=(0.005, 0.015),
        cpc=(0.25, 1.0),
        cvr=(0.008, 0.025),
        aov=(30, 80),
        daily_impressions=80_000.0,
    ),
)
