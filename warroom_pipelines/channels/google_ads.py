"""Google Ads (REST searchStream, GAQL): campaign-hours of one brand's customers for one UTC day.

The official Python client speaks gRPC only, so this talks REST (testable against a local
server). Quirks handled here (see ../shared/adapi/google_ads.md): the OAuth refresh token
is exchanged for an access token, cached until shortly before it expires and refreshed
once when the API answers 401; searchStream answers with a JSON array of batches, and its
errors come array-wrapped too; int64 values are strings, `cost_micros` is millionths of the
account currency; hours whose metrics are all zero are simply absent (never invented).
"""

from __future__ import annotations

import functools
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests

from warroom_pipelines.channels.errors import ChannelAuthError, ChannelError
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
from warroom_pipelines.vault import models as keys
from warroom_pipelines.vault.secret import Secret

CHANNEL = "google_ads"
SOURCE = "google_ads_api"
_CUSTOMER_ID = re.compile(r"^\d{10}$")
_TRANSIENT_STATUSES = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED"})
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class GoogleAdsCredentials:
    """A brand's OAuth client and refresh token; the manager id when reached through an MCC."""

    client_id: str
    client_secret: Secret
    refresh_token: Secret
    developer_token: Secret | None = None
    login_customer_id: str | None = None


@dataclass(frozen=True)
class GoogleAdsConfig:
    base_url: str = "https://googleads.googleapis.com"
    api_version: str = "v23"
    token_url: str = "https://oauth2.googleapis.com/token"
    # Refresh this long before the access token's stated expiry.
    expiry_margin_s: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def _error_of(body: Any) -> dict[str, Any] | None:
    """The error object, whether bare (unary calls) or inside searchStream's array."""
    candidates = body if isinstance(body, list) else [body]
    for item in candidates:
        if isinstance(item, dict) and isinstance(item.get("error"), dict):
            return item["error"]
    return None


def _ads_details(error: dict[str, Any]) -> tuple[list[str], float | None]:
    """Ads error codes (e.g. quotaError=RESOURCE_TEMPORARILY_EXHAUSTED) and the retry delay."""
    codes: list[str] = []
    delay: float | None = None
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        failures = detail.get("errors") if isinstance(detail, dict) else None
        for failure in failures if isinstance(failures, list) else []:
            if not isinstance(failure, dict):
                continue
            for kind, value in (failure.get("errorCode") or {}).items():
                codes.append(f"{kind}={value}")
            quota = (failure.get("details") or {}).get("quotaErrorDetails") or {}
            match = _DURATION.match(str(quota.get("retryDelay", "")))
            if match:
                delay = max(delay or 0.0, float(match.group(1)))
    return codes, delay


def classify_ads(reply: Reply) -> Verdict:
    """Read the Google RPC status (array-wrapped or bare) before the HTTP status."""
    error = _error_of(reply.body)
    if error is None:
        return generic_verdict(reply)
    status = str(error.get("status", ""))
    codes, delay = _ads_details(error)
    reason = f"HTTP {reply.status} {status}: {error.get('message', '')} {' '.join(codes)}"
    if status == "UNAUTHENTICATED" or reply.status == 401:
        return Verdict(Outcome.AUTH, reason.strip())
    if status == "RESOURCE_EXHAUSTED" or reply.status == 429:
        return Verdict(Outcome.RATE_LIMITED, reason.strip(), delay)
    if status in _TRANSIENT_STATUSES or reply.status >= 500:
        return Verdict(Outcome.TRANSIENT, reason.strip())
    if status == "PERMISSION_DENIED":
        return Verdict(Outcome.AUTH, reason.strip())
    return Verdict(Outcome.REJECTED, reason.strip())


def classify_oauth(reply: Reply) -> Verdict:
    """The token endpoint: invalid_grant (revoked/expired refresh token) and client errors
    mean the brand must reconnect."""
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error")
    if isinstance(error, str) and error in (
        "invalid_grant",
        "invalid_client",
        "unauthorized_client",
    ):
        return Verdict(Outcome.AUTH, f"{error}: {body.get('error_description', '')}")
    return generic_verdict(reply)


class GoogleAdsClient:
    """Reads one brand's Google Ads customers with the brand's own OAuth credentials."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        brand: str,
        credentials: GoogleAdsCredentials,
        config: GoogleAdsConfig | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.brand = brand
        self.config = config or GoogleAdsConfig()
        self._credentials = credentials
        self._clock = clock
        secrets = tuple(
            s
            for s in (
                credentials.client_secret,
                credentials.refresh_token,
                credentials.developer_token,
            )
            if s is not None
        )
        http = functools.partial(
            ChannelHttp,
            brand=brand,
            channel=CHANNEL,
            policy=self.config.retry,
            secrets=secrets,
            session=session,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )
        self._ads = http(classifier=classify_ads)
        self._oauth = http(classifier=classify_oauth)
        self._access: tuple[Secret, float] | None = None
        self._login_customer_id = (
            self._customer_id(credentials.login_customer_id)
            if credentials.login_customer_id
            else None
        )

    def fetch_day(
        self, account_ids: Sequence[str], day: date, as_of: datetime | None = None
    ) -> ChannelFetch:
        """Campaign-hours of the UTC day for each customer id (with or without hyphens)
        that have ended by `as_of` (default: now)."""
        ids = [self._customer_id(raw) for raw in account_ids]
        return fetch_accounts(CHANNEL, SOURCE, ids, day, self._read, as_of)

    def _read(
        self, customer_id: str, day: date, stats: AccountStats
    ) -> tuple[Account, list[LocalRow]]:
        account = self._customer(customer_id, stats.calls)
        local_dates = local_dates_covering(day, account.time_zone)
        query = (
            "SELECT campaign.id, campaign.name, segments.date, segments.hour, "
            "metrics.impressions, metrics.clicks, metrics.cost_micros, "
            "metrics.conversions, metrics.conversions_value FROM campaign "
            f"WHERE segments.date BETWEEN '{local_dates[0].isoformat()}' "
            f"AND '{local_dates[-1].isoformat()}'"
        )
        results = self._search_stream(customer_id, query, stats.calls)
        return account, [self._hourly_row(account, result) for result in results]

    def _customer_id(self, raw: str) -> str:
        customer_id = raw.replace("-", "")
        if not _CUSTOMER_ID.fullmatch(customer_id):
            raise ChannelError(
                f"customer id {raw!r} is not 10 digits", brand=self.brand, channel=CHANNEL
            )
        return customer_id

    def _access_token(self, account: str, stats: CallStats) -> Secret:
        """The cached access token, exchanged anew from the refresh token when near expiry."""
        if self._access is not None and self._clock() < self._access[1]:
            return self._access[0]
        creds = self._credentials
        body = self._oauth.request(
            "POST",
            self.config.token_url,
            account=account,
            stats=stats,
            form={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret.reveal(),
                "refresh_token": creds.refresh_token.reveal(),
            },
        )
        bare = Account(self.brand, CHANNEL, account)
        token = Secret(bare.text(body, "access_token"))
        lifetime = bare.number(body.get("expires_in"), "expires_in", missing=3600.0)
        self._ads.add_secret(token)
        self._oauth.add_secret(token)
        self._access = (token, self._clock() + lifetime - self.config.expiry_margin_s)
        return token

    def _search_stream(
        self, customer_id: str, query: str, stats: CallStats
    ) -> list[dict[str, Any]]:
        """All result rows of a searchStream call; refreshes the token once on a 401."""
        url = (
            f"{self.config.base_url.rstrip('/')}/{self.config.api_version}"
            f"/customers/{customer_id}/googleAds:searchStream"
        )
        try:
            body = self._post(url, customer_id, query, stats)
        except ChannelAuthError as exc:
            if exc.status != 401:
                raise
            # The access token died before its stated expiry (revoked, rotated): mint a new
            # one and try once more; a second 401 is the brand's problem.
            self._access = None
            body = self._post(url, customer_id, query, stats)
        return self._results(Account(self.brand, CHANNEL, customer_id), body)

    def _post(self, url: str, customer_id: str, query: str, stats: CallStats) -> Any:
        headers = {"Authorization": f"Bearer {self._access_token(customer_id, stats).reveal()}"}
        if self._credentials.developer_token is not None:
            headers["developer-token"] = self._credentials.developer_token.reveal()
        if self._login_customer_id:
            headers["login-customer-id"] = self._login_customer_id
        return self._ads.request(
            "POST",
            url,
            account=customer_id,
            stats=stats,
            headers=headers,
            json_body={"query": query},
        )

    @staticmethod
    def _results(account: Account, body: Any) -> list[dict[str, Any]]:
        batches = body if isinstance(body, list) else [body]
        rows: list[dict[str, Any]] = []
        for batch in batches:
            if not isinstance(batch, dict):
                raise account.error("searchStream batch is not an object", "results")
            results = batch.get("results", [])
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise account.error("searchStream results is not a list of rows", "results")
            rows.extend(results)
        return rows

    def _customer(self, customer_id: str, stats: CallStats) -> Account:
        """Currency and time zone from the customer resource."""
        rows = self._search_stream(
            customer_id,
            "SELECT customer.id, customer.currency_code, customer.time_zone FROM customer",
            stats,
        )
        bare = Account(self.brand, CHANNEL, customer_id)
        if not rows:
            raise bare.error("customer query returned no row", "customer")
        customer = rows[0].get("customer")
        return bare.located(
            bare.text(customer, "currencyCode", "customer.currency_code"),
            bare.text(customer, "timeZone", "customer.time_zone"),
            zone_field="customer.time_zone",
        )

    @staticmethod
    def _hourly_row(account: Account, result: dict[str, Any]) -> LocalRow:
        campaign = result.get("campaign")
        segments = result.get("segments")
        metrics = result.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise account.error("metrics is not an object", "metrics")
        day_text = account.text(segments, "date", "segments.date")
        try:
            local_date = date.fromisoformat(day_text)
        except ValueError:
            raise account.error(
                f"expected YYYY-MM-DD, got {day_text[:20]!r}", "segments.date"
            ) from None
        hour = account.count(
            segments.get("hour") if isinstance(segments, dict) else None, "segments.hour"
        )
        if hour > 23:
            raise account.error(f"hour {hour} is outside 0-23", "segments.hour")
        # Selected metrics normally come back even when zero; absent is read as zero.
        return LocalRow(
            campaign_id=account.text(campaign, "id", "campaign.id"),
            campaign_name=str((campaign or {}).get("name") or ""),
            local_date=local_date,
            local_hour=hour,
            impressions=account.count(metrics.get("impressions"), "metrics.impressions", missing=0),
            clicks=account.count(metrics.get("clicks"), "metrics.clicks", missing=0),
            spend=account.number(metrics.get("costMicros"), "metrics.cost_micros", missing=0.0)
            / 1_000_000,
            conversions=account.number(
                metrics.get("conversions"), "metrics.conversions", missing=0.0
            ),
            conversion_value=account.number(
                metrics.get("conversionsValue"), "metrics.conversions_value", missing=0.0
            ),
            conversions_source="hourly_segments",
        )


def connect(
    brand: str, credentials: keys.GoogleAdsCredentials, settings: Mapping[str, str]
) -> GoogleAdsClient:
    """The brand's client at the configured Google Ads API and OAuth token endpoint."""
    return GoogleAdsClient(
        brand=brand,
        credentials=GoogleAdsCredentials(
            client_id=credentials.client_id,
            client_secret=credentials.client_secret,
            refresh_token=credentials.refresh_token,
            developer_token=credentials.developer_token,
            login_customer_id=credentials.login_customer_id,
        ),
        config=GoogleAdsConfig(
            base_url=settings["base_url"],
            api_version=settings["api_version"],
            token_url=settings["token_url"],
        ),
    )


PLATFORM = Platform(
    name=CHANNEL,
    label="Google Ads",
    # Conversions arrive over the conversion window and are restated for about two weeks.
    restatement_days=14,
    # Google Ads documents reporting "typically delayed up to 3 hours".
    settle_lag=timedelta(hours=3),
    credentials=keys.GoogleAdsCredentials,
    settings=(
        Setting("base_url", GoogleAdsConfig.base_url, "WARROOM_GOOGLE_ADS_BASE_URL", "url"),
        Setting(
            "api_version",
            GoogleAdsConfig.api_version,
            "WARROOM_GOOGLE_ADS_API_VERSION",
            "api_version",
        ),
        Setting("token_url", GoogleAdsConfig.token_url, "WARROOM_GOOGLE_ADS_TOKEN_URL", "url"),
    ),
    connect=connect,
    accounts=lambda credentials: credentials.customer_ids,
    demo=DemoFunnel(
        ctr=(0.025, 0.065),
        cpc=(0.6, 2.2),
        cvr=(0.04, 0.09),
        aov=(70, 180),
        daily_impressions=18_000.0,
    ),
)
