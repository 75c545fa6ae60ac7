"""The ad platforms as a resource: where their APIs live, and a client per brand and channel.

Base URLs and API versions are configuration, so the same code talks to the real APIs in
production, to a sandbox or a proxy, and to local servers in tests. They come from
environment variables (`ENDPOINT_SETTINGS`) when the definitions load, so that schedules,
sensors and manual runs all use them; run config can still override them for one run.
"""

import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from urllib.parse import urlsplit

import dagster as dg
from pydantic import Field

from warroom_pipelines.channels.budgets import CampaignBudget
from warroom_pipelines.channels.google_ads import (
    GoogleAdsClient,
    GoogleAdsConfig,
)
from warroom_pipelines.channels.google_ads import (
    GoogleAdsCredentials as GoogleAdsClientCredentials,
)
from warroom_pipelines.channels.meta import MetaAdsClient, MetaConfig
from warroom_pipelines.channels.report import ChannelFetch
from warroom_pipelines.channels.tiktok import TikTokAdsClient, TikTokConfig
from warroom_pipelines.vault.manager import BrandVault
from warroom_pipelines.vault.models import (
    GoogleAdsCredentials,
    MetaAdsCredentials,
    TikTokAdsCredentials,
)

PLATFORMS = ("meta_ads", "google_ads", "tiktok_ads")
# Environment variable -> the resource's field it sets.
ENDPOINT_SETTINGS: dict[str, str] = {
    "WARROOM_META_BASE_URL": "meta_base_url",
    "WARROOM_META_API_VERSION": "meta_api_version",
    "WARROOM_GOOGLE_ADS_BASE_URL": "google_base_url",
    "WARROOM_GOOGLE_ADS_API_VERSION": "google_api_version",
    "WARROOM_GOOGLE_ADS_TOKEN_URL": "google_token_url",
    "WARROOM_TIKTOK_BASE_URL": "tiktok_base_url",
    "WARROOM_TIKTOK_API_VERSION": "tiktok_api_version",
}
_API_VERSION = re.compile(r"v\d+(\.\d+)?")


class EndpointSettingError(ValueError):
    """An ad-platform endpoint variable is malformed; the message names it."""


class AdPlatformsResource(dg.ConfigurableResource):
    """Endpoints of Meta's Graph API, the Google Ads REST API and TikTok's Business API."""

    meta_base_url: str = MetaConfig.base_url
    meta_api_version: str = MetaConfig.api_version
    meta_hourly_conversions: str = Field(
        default=MetaConfig.hourly_conversions,
        description="daily_report_allocated (pixel conversions included) or hourly_actions",
    )
    google_base_url: str = GoogleAdsConfig.base_url
    google_api_version: str = GoogleAdsConfig.api_version
    google_token_url: str = GoogleAdsConfig.token_url
    tiktok_base_url: str = TikTokConfig.base_url
    tiktok_api_version: str = TikTokConfig.api_version

    def fetch(self, channel: str, vault: BrandVault, day: date) -> ChannelFetch | None:
        """The brand's campaign-hours of `day` on `channel`; None when it has no credentials."""
        found = self._client(channel, vault)
        return None if found is None else found[0].fetch_day(found[1], day)

    def budgets(self, channel: str, vault: BrandVault) -> list[CampaignBudget] | None:
        """The brand's campaign daily budgets on `channel` as set now; None without keys."""
        found = self._client(channel, vault)
        return None if found is None else found[0].fetch_budgets(found[1])

    def _client(
        self, channel: str, vault: BrandVault
    ) -> tuple[MetaAdsClient | GoogleAdsClient | TikTokAdsClient, Sequence[str]] | None:
        """The brand's client of `channel` and its account ids; None when it has no keys."""
        if channel not in vault.integrations():
            return None
        if channel == "meta_ads":
            meta = vault.get(MetaAdsCredentials)
            config = MetaConfig(
                base_url=self.meta_base_url,
                api_version=self.meta_api_version,
                hourly_conversions=self.meta_hourly_conversions,  # type: ignore[arg-type]
            )
            client = MetaAdsClient(brand=vault.brand, access_token=meta.access_token, config=config)
            return client, meta.ad_account_ids
        if channel == "google_ads":
            google = vault.get(GoogleAdsCredentials)
            google_client = GoogleAdsClient(
                brand=vault.brand,
                credentials=GoogleAdsClientCredentials(
                    client_id=google.client_id,
                    client_secret=google.client_secret,
                    refresh_token=google.refresh_token,
                    developer_token=google.developer_token,
                    login_customer_id=google.login_customer_id,
                ),
                config=GoogleAdsConfig(
                    base_url=self.google_base_url,
                    api_version=self.google_api_version,
                    token_url=self.google_token_url,
                ),
            )
            return google_client, google.customer_ids
        if channel == "tiktok_ads":
            tiktok = vault.get(TikTokAdsCredentials)
            tiktok_client = TikTokAdsClient(
                brand=vault.brand,
                access_token=tiktok.access_token,
                config=TikTokConfig(
                    base_url=self.tiktok_base_url, api_version=self.tiktok_api_version
                ),
            )
            return tiktok_client, tiktok.advertiser_ids
        raise ValueError(f"unknown ad platform {channel!r}; expected one of {PLATFORMS}")


def endpoint_problems(environ: Mapping[str, str]) -> list[str]:
    """Why each set ENDPOINT_SETTINGS variable is unusable (none: all are well-formed)."""
    problems = []
    for name, field in ENDPOINT_SETTINGS.items():
        value = environ.get(name, "").strip()
        if not value:
            continue
        if field.endswith("_api_version"):
            if not _API_VERSION.fullmatch(value):
                problems.append(f"{name}={value!r} is not an API version such as v23 or v1.3")
            continue
        url = urlsplit(value)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            problems.append(f"{name}={value!r} is not an http(s) base URL, e.g. https://host/path")
    return problems


def ad_platforms_from_env(environ: Mapping[str, str] | None = None) -> AdPlatformsResource:
    """The resource with the endpoints the environment sets (the platforms' own otherwise)."""
    env = os.environ if environ is None else environ
    problems = endpoint_problems(env)
    if problems:
        raise EndpointSettingError("; ".join(problems))
    return AdPlatformsResource(
        **{
            field: env[name].strip().rstrip("/")
            for name, field in ENDPOINT_SETTINGS.items()
            if env.get(name, "").strip()
        }
    )
