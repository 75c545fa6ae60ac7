"""The ad platforms as a resource: where their APIs live, and a client per brand and channel.

Base URLs and API versions are configuration, so the same code talks to the real APIs in
production and to local servers in tests.
"""

from datetime import date

import dagster as dg
from pydantic import Field

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
            return client.fetch_day(meta.ad_account_ids, day)
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
            return google_client.fetch_day(google.customer_ids, day)
        if channel == "tiktok_ads":
            tiktok = vault.get(TikTokAdsCredentials)
            tiktok_client = TikTokAdsClient(
                brand=vault.brand,
                access_token=tiktok.access_token,
                config=TikTokConfig(
                    base_url=self.tiktok_base_url, api_version=self.tiktok_api_version
                ),
            )
            return tiktok_client.fetch_day(tiktok.advertiser_ids, day)
        raise ValueError(f"unknown ad platform {channel!r}; expected one of {PLATFORMS}")
