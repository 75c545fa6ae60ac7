"""Meta Ads (Graph API Insights): campaign-hours of one brand's ad accounts for one UTC day.

Quirks handled here (see ../shared/adapi/meta.md): every number is a string; hours and
fields without delivery are omitted (absent means zero); the purchase action types
overlap (`purchase`, `omni_purchase`, `offsite_conversion.fb_pixel_purchase` count the same
sales), so one family is counted, never their sum; with the hourly breakdown Meta does not
return off-Meta (pixel) conversions, so by default the day's conversions come from the
daily report and are spread over the day's hours in proportion to clicks, and the rows say
so in `conversions_source`. Errors arrive as HTTP 400 with an error code, the rate-limit
codes with usage headers saying how many minutes until access returns.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

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
from warroom_pipelines.vault.models import MetaAdsCredentials
from warroom_pipelines.vault.secret import Secret

CHANNEL = "meta_ads"
SOURCE = "meta_api"
HOURLY_BREAKDOWN = "hourly_stats_aggregated_by_advertiser_time_zone"
_FIELDS = (
    "campaign_id",
    "campaign_name",
    "impressions",
    "clicks",
    "spend",
    "actions",
    "action_values",
)
_TOKEN_PARAMS = ("access_token", "appsecret_proof")

HourlyConversions = Literal["daily_report_allocated", "hourly_actions"]


@dataclass(frozen=True)
class MetaConfig:
    """Where and how to call the Graph API; the unverified points are switches."""

    base_url: str = "https://graph.facebook.com"
    api_version: str = "v25.0"
    # One family, in order of preference: the first type present in a row is counted.
    conversion_action_types: tuple[str, ...] = (
        "omni_purchase",
        "purchase",
        "offsite_conversion.fb_pixel_purchase",
    )
    # "hourly_actions" trusts the hourly rows' actions (on-Meta conversions only).
    hourly_conversions: HourlyConversions = "daily_report_allocated"
    # The SDK sends the token as a query parameter; Graph also accepts a Bearer header
    # (documented for OAuth 2 generally, not verified against the Insights edge).
    token_placement: Literal["query", "header"] = "query"
    page_limit: int = 500
    # Include deleted and archived campaigns: they still spent money on past days.
    effective_statuses: tuple[str, ...] = (
        "ACTIVE",
        "PAUSED",
        "ARCHIVED",
        "DELETED",
        "IN_PROCESS",
        "WITH_ISSUES",
    )
    rate_limit_codes: frozenset[int] = frozenset({4, 17, 32, 613, *range(80000, 80015)})
    transient_codes: frozenset[int] = frozenset({1, 2})
    # 190 expired/invalidated token, 102 session, 10 and 200-299 missing permission.
    auth_codes: frozenset[int] = frozenset({190, 102, 10, *range(200, 300)})
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def classify(config: MetaConfig) -> Callable[[Reply], Verdict]:
    """Meta's error envelope decides, whatever the HTTP status (an error in a 200 is an error)."""

    def verdict(reply: Reply) -> Verdict:
        error = reply.body.get("error") if isinstance(reply.body, dict) else None
        if not isinstance(error, dict):
            return generic_verdict(reply)
        code = error.get("code")
        reason = (
            f"HTTP {reply.status}, Meta error {code}/{error.get('error_subcode')}: "
            f"{error.get('message', '')}"
        )
        if code in config.auth_codes:
            return Verdict(Outcome.AUTH, reason)
        if code in config.rate_limit_codes:
            return Verdict(Outcome.RATE_LIMITED, reason, regain_access_s(reply.headers))
        if (
            error.get("is_transient") is True
            or code in config.transient_codes
            or reply.status >= 500
        ):
            return Verdict(Outcome.TRANSIENT, reason)
        return Verdict(Outcome.REJECTED, reason)

    return verdict


def regain_access_s(headers: Mapping[str, str]) -> float | None:
    """Seconds until Meta lifts a business-use-case limit (the header counts minutes)."""
    raw = headers.get("x-business-use-case-usage")
    try:
        usage = json.loads(raw) if raw else {}
        minutes = [
            float(entry.get("estimated_time_to_regain_access") or 0)
            for entries in usage.values()
            for entry in entries
        ]
    except (ValueError, AttributeError, TypeError):
        return None
    longest = max(minutes, default=0.0)
    return longest * 60 if longest > 0 else None


class MetaAdsClient:
    """Reads one brand's Meta ad accounts with the brand's own access token."""

    channel = CHANNEL

    def __init__(
        self,
        *,
        brand: str,
        access_token: Secret,
        config: MetaConfig | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ):
        self.brand = brand
        self.config = config or MetaConfig()
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
        """Campaign-hours of the UTC day for each ad account (ids with or without `act_`)
        that have ended by `as_of` (default: now)."""
        ids = [self._account_id(raw) for raw in account_ids]
        return fetch_accounts(CHANNEL, SOURCE, ids, day, self._read, as_of)

    def _read(
        self, account_id: str, day: date, stats: AccountStats
    ) -> tuple[Account, list[LocalRow]]:
        account = self._account(account_id, stats.calls)
        local_dates = local_dates_covering(day, account.time_zone)
        hourly = self._insights(account, local_dates, stats.calls, hourly=True)
        rows = [self._hourly_row(account, row) for row in hourly]
        if self.config.hourly_conversions == "daily_report_allocated":
            daily = self._insights(account, local_dates, stats.calls, hourly=False)
            rows, stats.unallocated_conversions = self._allocate(account, rows, daily)
        return account, rows

    def _account_id(self, raw: str) -> str:
        account_id = raw.removeprefix("act_")
        if not account_id.isdigit():
            raise ChannelError(
                f"ad account id {raw!r} is not act_<digits>", brand=self.brand, channel=CHANNEL
            )
        return account_id

    def _url(self, path: str) -> str:
        return f"{self.config.base_url.rstrip('/')}/{self.config.api_version}/{path}"

    def _get(self, url: str, params: dict[str, str], account: str, stats: CallStats) -> Any:
        headers = {}
        if self.config.token_placement == "query":
            params = {**params, "access_token": self._token.reveal()}
        else:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return self._http.request(
            "GET", url, account=account, stats=stats, params=params, headers=headers
        )

    def _account(self, account_id: str, stats: CallStats) -> Account:
        """Currency and time zone from the ad account object."""
        body = self._get(
            self._url(f"act_{account_id}"),
            {"fields": "account_id,currency,timezone_name"},
            account_id,
            stats,
        )
        bare = Account(self.brand, CHANNEL, account_id)
        return bare.located(
            bare.text(body, "currency"),
            bare.text(body, "timezone_name"),
            zone_field="timezone_name",
        )

    def _insights(
        self, account: Account, local_dates: list[date], stats: CallStats, *, hourly: bool
    ) -> list[dict[str, Any]]:
        """All rows of the insights edge over the local dates, following `paging.next`."""
        url = self._url(f"act_{account.account_id}/insights")
        params = {
            "level": "campaign",
            "fields": ",".join(_FIELDS),
            "time_range": json.dumps(
                {"since": local_dates[0].isoformat(), "until": local_dates[-1].isoformat()},
                separators=(",", ":"),
            ),
            "time_increment": "1",
            "filtering": json.dumps(
                [
                    {
                        "field": "campaign.effective_status",
                        "operator": "IN",
                        "value": list(self.config.effective_statuses),
                    }
                ],
                separators=(",", ":"),
            ),
            "limit": str(self.config.page_limit),
        }
        if hourly:
            params["breakdowns"] = json.dumps([HOURLY_BREAKDOWN])
        rows: list[dict[str, Any]] = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        while True:
            body = self._get(url, params, account.account_id, stats)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise account.error("insights page has no list of rows", "data")
            rows.extend(data)
            paging = body.get("paging")
            next_url = paging.get("next") if isinstance(paging, dict) else None
            if not next_url:
                return rows
            if not isinstance(next_url, str):
                raise account.error("paging.next is not a URL", "paging.next")
            # Keep the cursor and parameters of `next`, but always call our own base URL and
            # add the token ourselves: it never travels to a host named by a response.
            params = {
                k: v
                for k, v in parse_qsl(urlsplit(next_url).query, keep_blank_values=True)
                if k not in _TOKEN_PARAMS
            }
            key = tuple(sorted(params.items()))
            if key in seen:
                raise account.error("paging.next repeats a page already read", "paging.next")
            seen.add(key)

    def _conversions(self, account: Account, row: dict[str, Any], name: str) -> float:
        """The first preferred action type present in the row; never a sum of the family."""
        actions = row.get(name)
        if actions is None:
            return 0.0
        if not isinstance(actions, list):
            raise account.error("expected a list of actions", name)
        by_type = {a.get("action_type"): a for a in actions if isinstance(a, dict)}
        for action_type in self.config.conversion_action_types:
            if action_type in by_type:
                return account.number(
                    by_type[action_type].get("value"), f"{name}[{action_type}].value"
                )
        return 0.0

    def _hourly_row(self, account: Account, row: dict[str, Any]) -> LocalRow:
        bucket = account.text(row, HOURLY_BREAKDOWN)
        hour_text = bucket.split(":", 1)[0]
        if not hour_text.isdigit() or not 0 <= int(hour_text) <= 23:
            raise account.error(
                f"hour bucket {bucket[:30]!r} is not 'HH:00:00 - HH:59:59'", HOURLY_BREAKDOWN
            )
        return LocalRow(
            campaign_id=account.text(row, "campaign_id"),
            campaign_name=str(row.get("campaign_name") or ""),
            local_date=_local_date(account, row),
            local_hour=int(hour_text),
            impressions=account.count(row.get("impressions"), "impressions", missing=0),
            clicks=account.count(row.get("clicks"), "clicks", missing=0),
            spend=account.number(row.get("spend"), "spend", missing=0.0),
            conversions=self._conversions(account, row, "actions"),
            conversion_value=self._conversions(account, row, "action_values"),
            conversions_source="hourly_actions",
        )

    def _allocate(
        self, account: Account, rows: list[LocalRow], daily: list[dict[str, Any]]
    ) -> tuple[list[LocalRow], float]:
        """Spread each campaign-day's daily conversions over its hours by clicks (then
        impressions, then evenly); returns the rows and conversions no hour could carry."""
        totals: dict[tuple[str, date], tuple[float, float]] = {}
        for row in daily:
            key = (account.text(row, "campaign_id"), _local_date(account, row))
            conv = self._conversions(account, row, "actions")
            value = self._conversions(account, row, "action_values")
            old = totals.get(key, (0.0, 0.0))
            totals[key] = (old[0] + conv, old[1] + value)
        groups: dict[tuple[str, date], list[LocalRow]] = defaultdict(list)
        for local in rows:
            groups[(local.campaign_id, local.local_date)].append(local)
        out: list[LocalRow] = []
        for key, hours in groups.items():
            conv, value = totals.pop(key, (0.0, 0.0))
            weights = [float(h.clicks) for h in hours]
            if sum(weights) == 0:
                weights = [float(h.impressions) for h in hours]
            if sum(weights) == 0:
                weights = [1.0] * len(hours)
            total = sum(weights)
            for hour, weight in zip(hours, weights, strict=True):
                share = weight / total
                out.append(
                    LocalRow(
                        **{
                            **hour.__dict__,
                            "conversions": conv * share,
                            "conversion_value": value * share,
                            "conversions_source": "daily_report_allocated",
                        }
                    )
                )
        unallocated = sum(conv for conv, _ in totals.values())
        return out, unallocated


def _local_date(account: Account, row: dict[str, Any]) -> date:
    text = account.text(row, "date_start")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise account.error(f"expected YYYY-MM-DD, got {text[:20]!r}", "date_start") from None


def connect(
    brand: str, credentials: MetaAdsCredentials, settings: Mapping[str, str]
) -> MetaAdsClient:
    """The brand's client at the configured Graph API."""
    mode = settings["hourly_conversions"]
    if mode not in get_args(HourlyConversions):
        raise ValueError(
            f"meta_ads setting hourly_conversions must be one of {get_args(HourlyConversions)}, "
            f"got {mode!r}"
        )
    config = MetaConfig(
        base_url=settings["base_url"],
        api_version=settings["api_version"],
        hourly_conversions=mode,  # type: ignore[arg-type]  # checked above
    )
    return MetaAdsClient(brand=brand, access_token=credentials.access_token, config=config)


PLATFORM = Platform(
    name=CHANNEL,
    label="Meta Ads",
    # Meta freezes insights after 28 days; until then attribution keeps revising them.
    restatement_days=28,
    # Hourly insights fill in over the following hours (delivery and attribution are batched).
    settle_lag=timedelta(hours=3),
    credentials=MetaAdsCredentials,
    settings=(
        Setting("base_url", MetaConfig.base_url, "WARROOM_META_BASE_URL", "url"),
        Setting("api_version", MetaConfig.api_version, "WARROOM_META_API_VERSION", "api_version"),
        # daily_report_allocated (pixel conversions included) or hourly_actions
        Setting("hourly_conversions", MetaConfig.hourly_conversions),
    ),
    connect=connect,
    accounts=lambda credentials: credentials.ad_account_ids,
    demo=DemoFunnel(
        ctr=(0.008, 0.02),
        cpc=(0.45, 1.6),
        cvr=(0.015, 0.045),
        aov=(40, 120),
        daily_impressions=60_000.0,
    ),
)
