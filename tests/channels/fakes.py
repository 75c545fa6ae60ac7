"""Local stand-ins for the three ad platforms, speaking their wire formats over real HTTP.

Each fake is installed on a pytest-httpserver `HTTPServer` and answers like the platform
does (shapes from ../shared/adapi/examples): Meta's string numbers, `paging.next` URLs
carrying the token and errors as HTTP 400 with codes; Google's OAuth token endpoint and
searchStream's array of batches; TikTok's HTTP 200 errors and trailing-slash paths. A
`failures` queue serves scripted error replies before the real answer, and every fake
records the tokens it was shown, so tests can prove which credentials reached which server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

HOURLY = "hourly_stats_aggregated_by_advertiser_time_zone"


@dataclass
class Failure:
    """A scripted reply served instead of the real answer."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    text = body if isinstance(body, str) else json.dumps(body)
    return Response(text, status=status, headers=headers or {}, content_type="application/json")


def measures_by_campaign_hour(
    frame: pd.DataFrame, hour_format: str
) -> dict[tuple[str, str], tuple[float, ...]]:
    """(campaign, formatted UTC hour) -> rounded measures, for exact comparisons."""
    columns = ["impressions", "clicks", "spend", "conversions", "conversion_value"]
    return {
        (str(campaign), pd.Timestamp(hour).strftime(hour_format)): tuple(
            round(float(v), 6) for v in values
        )
        for campaign, hour, *values in frame[["campaign_id", "hour_start", *columns]].itertuples(
            index=False
        )
    }


class FakeTime:
    """Injected clock and sleep: waiting advances the clock instead of the test's wall time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


# --------------------------------------------------------------------------- Meta


def meta_row(
    campaign_id: str,
    local_date: str,
    hour: int | None,
    *,
    impressions: int,
    clicks: int | None,
    spend: float,
    actions: dict[str, float] | None = None,
    action_values: dict[str, float] | None = None,
    name: str = "Spring Sale | Advantage+ Shopping | US",
) -> dict[str, Any]:
    """An insights row as Meta sends it: strings everywhere, zero fields left out."""
    row: dict[str, Any] = {
        "account_id": "104598762233591",
        "account_currency": "USD",
        "campaign_id": campaign_id,
        "campaign_name": name,
        "impressions": str(impressions),
        "spend": f"{spend:.2f}",
        "date_start": local_date,
        "date_stop": local_date,
    }
    if clicks is not None:
        row["clicks"] = str(clicks)
    if actions:
        row["actions"] = [
            {"action_type": k, "value": _num(v), "7d_click": _num(v)} for k, v in actions.items()
        ]
    if action_values:
        row["action_values"] = [
            {"action_type": k, "value": f"{v:.2f}"} for k, v in action_values.items()
        ]
    if hour is not None:
        row[HOURLY] = f"{hour:02d}:00:00 - {hour:02d}:59:59"
    return row


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


class FakeMeta:
    """graph.facebook.com for one ad account: account object and the insights edge."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        token: str,
        account_id: str = "104598762233591",
        currency: str = "USD",
        time_zone: str = "America/Los_Angeles",
        version: str = "v25.0",
        page_size: int = 2,
    ):
        self.server, self.token, self.account_id = server, token, account_id
        self.currency, self.time_zone, self.page_size = currency, time_zone, page_size
        self.hourly: list[dict[str, Any]] = []
        self.daily: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.tokens_seen: list[str] = []
        self.insights_calls: list[dict[str, str]] = []
        prefix = f"/{version}/act_{account_id}"
        server.expect_request(re.compile(f"^{prefix}$")).respond_with_handler(self._account)
        self.insights_path = f"{prefix}/insights"
        server.expect_request(self.insights_path).respond_with_handler(self._insights)
        # Campaign settings (budgets in minor units as strings), served on their edges.
        self.campaigns: list[dict[str, Any]] = []
        self.adsets: list[dict[str, Any]] = []
        for edge in ("campaigns", "adsets"):
            server.expect_request(f"{prefix}/{edge}").respond_with_handler(self._settings(edge))

    def _token_error(self, request: Request) -> Response | None:
        token = request.args.get("access_token") or request.headers.get(
            "Authorization", ""
        ).removeprefix("Bearer ")
        self.tokens_seen.append(token)
        if token != self.token:
            return reply(
                400,
                {
                    "error": {
                        "message": "Error validating access token: Session has expired on "
                        "Friday, 01-May-26 14:00:00 PDT.",
                        "type": "OAuthException",
                        "code": 190,
                        "error_subcode": 463,
                        "fbtrace_id": "AZs1k9TqLm3Xp0vB7nCwD2e",
                    }
                },
                {"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token"'},
            )
        return None

    def _account(self, request: Request) -> Response:
        return self._token_error(request) or reply(
            200,
            {
                "account_id": self.account_id,
                "name": "Acme Outdoor - US",
                "currency": self.currency,
                "timezone_name": self.time_zone,
                "account_status": 1,
                "id": f"act_{self.account_id}",
            },
        )

    def _insights(self, request: Request) -> Response:
        denied = self._token_error(request)
        if denied:
            return denied
        self.insights_calls.append(dict(request.args))
        if self.failures:
            failure = self.failures.pop(0)
            return reply(failure.status, failure.body, failure.headers)
        span = json.loads(request.args["time_range"])
        hourly = HOURLY in json.loads(request.args.get("breakdowns", "[]"))
        rows = [
            r
            for r in (self.hourly if hourly else self.daily)
            if span["since"] <= r["date_start"] <= span["until"]
        ]
        return self._page(request, rows, self.insights_path)

    def _settings(self, edge: str) -> Any:
        def handler(request: Request) -> Response:
            denied = self._token_error(request)
            if denied:
                return denied
            fields = request.args["fields"].split(",")
            rows = [{k: v for k, v in r.items() if k in fields} for r in getattr(self, edge)]
            return self._page(request, rows, f"{self.insights_path.rsplit('/', 1)[0]}/{edge}")

        return handler

    def _page(self, request: Request, rows: list[dict[str, Any]], path: str) -> Response:
        offset = int(request.args.get("after", "0"))
        limit = min(int(request.args.get("limit", "25")), self.page_size)
        page = rows[offset : offset + limit]
        paging: dict[str, Any] = {
            "cursors": {"before": str(offset), "after": str(offset + len(page))}
        }
        if offset + len(page) < len(rows):
            args = {k: v for k, v in request.args.items() if k != "after"}
            args["after"] = str(offset + len(page))
            # Like Meta: the next URL names graph.facebook.com and carries the token.
            paging["next"] = f"https://graph.facebook.com{path}?{urlencode(args)}"
        return reply(200, {"data": page, "paging": paging})


# --------------------------------------------------------------------------- Google Ads


def google_row(
    campaign_id: str,
    local_date: str,
    hour: int,
    *,
    impressions: int,
    clicks: int,
    cost: float,
    conversions: float = 0.0,
    value: float = 0.0,
    customer_id: str = "5839201945",
    name: str = "Brand | Search | US",
) -> dict[str, Any]:
    """A GoogleAdsRow in REST JSON: int64 as strings, doubles and the hour as numbers."""
    return {
        "campaign": {
            "resourceName": f"customers/{customer_id}/campaigns/{campaign_id}",
            "name": name,
            "id": campaign_id,
        },
        "metrics": {
            "clicks": str(clicks),
            "conversionsValue": value,
            "conversions": conversions,
            "costMicros": str(round(cost * 1_000_000)),
            "impressions": str(impressions),
        },
        "segments": {"date": local_date, "hour": hour},
    }


class FakeGoogleAds:
    """oauth2.googleapis.com/token plus googleads searchStream for one customer."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        refresh_token: str,
        client_id: str = "1234-client.apps.googleusercontent.com",
        client_secret: str = "GOCSPX-client-secret-value",
        customer_id: str = "5839201945",
        currency: str = "USD",
        time_zone: str = "America/New_York",
        version: str = "v23",
        batch_size: int = 2,
    ):
        self.server, self.refresh_token = server, refresh_token
        self.client_id, self.client_secret = client_id, client_secret
        self.customer_id, self.currency, self.time_zone = customer_id, currency, time_zone
        self.batch_size = batch_size
        self.rows: list[dict[str, Any]] = []
        self.budget_rows: list[dict[str, Any]] = []  # campaign + campaignBudget results
        self.failures: list[Failure] = []
        self.valid_access: set[str] = set()
        self.accept_access = True  # False: every access token is refused (account unlinked)
        self.issued = 0
        self.refresh_tokens_seen: list[str] = []
        self.access_tokens_seen: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        server.expect_request("/token", method="POST").respond_with_handler(self._token)
        self.stream_path = f"/{version}/customers/{customer_id}/googleAds:searchStream"
        server.expect_request(self.stream_path, method="POST").respond_with_handler(self._stream)

    def expire_access_tokens(self) -> None:
        self.valid_access.clear()

    def _token(self, request: Request) -> Response:
        form = request.form
        self.refresh_tokens_seen.append(form.get("refresh_token", ""))
        if form.get("grant_type") != "refresh_token" or form.get("client_id") != self.client_id:
            return reply(401, {"error": "invalid_client", "error_description": "Unauthorized"})
        if form.get("refresh_token") != self.refresh_token:
            return reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        self.issued += 1
        access = f"ya29.a0AeXRPp5FAKE-{self.refresh_token[-6:]}-{self.issued}"
        self.valid_access.add(access)
        return reply(
            200,
            {
                "access_token": access,
                "expires_in": 3599,
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            },
        )

    def _stream(self, request: Request) -> Response:
        access = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.access_tokens_seen.append(access)
        self.headers_seen.append(dict(request.headers))
        if not self.accept_access or access not in self.valid_access:
            return reply(
                401,
                [
                    {
                        "error": {
                            "code": 401,
                            "message": "Request had invalid authentication credentials.",
                            "status": "UNAUTHENTICATED",
                            "details": [
                                {
                                    "@type": "type.googleapis.com/google.ads.googleads.v23."
                                    "errors.GoogleAdsFailure",
                                    "errors": [
                                        {
                                            "errorCode": {
                                                "authenticationError": "OAUTH_TOKEN_EXPIRED"
                                            },
                                            "message": "OAuth token in the header has expired.",
                                        }
                                    ],
                                }
                            ],
                        }
                    }
                ],
            )
        if self.failures:
            failure = self.failures.pop(0)
            return reply(failure.status, failure.body, failure.headers)
        query = request.get_json()["query"]
        if "FROM customer" in query:
            return reply(
                200,
                [
                    {
                        "results": [
                            {
                                "customer": {
                                    "resourceName": f"customers/{self.customer_id}",
                                    "id": self.customer_id,
                                    "currencyCode": self.currency,
                                    "timeZone": self.time_zone,
                                }
                            }
                        ],
                        "fieldMask": "customer.id,customer.currencyCode,customer.timeZone",
                        "requestId": "Pp1oO2iI3uU4yY5tT6rR7e",
                    }
                ],
            )
        if "campaign_budget.amount_micros" in query:
            rows = self.budget_rows
        else:
            since, until = re.search(r"BETWEEN '([\d-]+)' AND '([\d-]+)'", query).groups()  # type: ignore[union-attr]
            rows = [r for r in self.rows if since <= r["segments"]["date"] <= until]
        batches: list[dict[str, Any]] = [
            {"results": rows[i : i + self.batch_size], "requestId": "Qw8eR7tY6uI5oP4aS3dF2g"}
            for i in range(0, len(rows), self.batch_size)
        ] or [{"requestId": "Zx1cV2bN3mQ4wE5rT6yU7i"}]
        batches[-1]["queryResourceConsumption"] = "377"
        return reply(200, batches)


# --------------------------------------------------------------------------- TikTok


def tiktok_record(
    campaign_id: str,
    local_hour: str,
    *,
    impressions: int | str,
    clicks: int | str,
    spend: str,
    purchases: str = "0",
    value: str = "0.00",
    name: str = "Spring Sale | Web Conversions | US",
) -> dict[str, Any]:
    """An integrated-report record: local hour label, metrics as strings, '-' for n/a."""
    return {
        "dimensions": {"campaign_id": campaign_id, "stat_time_hour": local_hour},
        "metrics": {
            "campaign_name": name,
            "spend": spend,
            "impressions": str(impressions),
            "clicks": str(clicks),
            "complete_payment": purchases,
            "total_purchase_value": value,
        },
    }


class FakeTikTok:
    """business-api.tiktok.com for one advertiser: advertiser info and the hourly report."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        token: str,
        advertiser_id: str = "7123456789012345678",
        currency: str = "USD",
        time_zone: str = "America/Los_Angeles",
        page_size: int = 2,
    ):
        self.server, self.token, self.advertiser_id = server, token, advertiser_id
        self.currency, self.time_zone, self.page_size = currency, time_zone, page_size
        self.records: list[dict[str, Any]] = []
        self.failures: list[Failure] = []
        self.tokens_seen: list[str] = []
        self.report_calls: list[dict[str, str]] = []
        server.expect_request("/open_api/v1.3/advertiser/info/").respond_with_handler(self._info)
        server.expect_request("/open_api/v1.3/report/integrated/get/").respond_with_handler(
            self._report
        )
        # Campaign settings: `budget` a float in currency units, by `budget_mode`.
        self.campaigns: list[dict[str, Any]] = []
        self.adgroups: list[dict[str, Any]] = []
        self.settings_calls: list[dict[str, str]] = []
        server.expect_request("/open_api/v1.3/campaign/get/").respond_with_handler(
            self._settings("campaigns")
        )
        server.expect_request("/open_api/v1.3/adgroup/get/").respond_with_handler(
            self._settings("adgroups")
        )

    def _envelope(self, data: Any, code: int = 0, message: str = "OK") -> Response:
        return reply(
            200, {"code": code, "message": message, "request_id": "2026050203", "data": data}
        )

    def _token_error(self, request: Request) -> Response | None:
        token = request.headers.get("Access-Token", "")
        self.tokens_seen.append(token)
        if not token:
            return self._envelope(
                {},
                40104,
                "Access token is null, you should set it in http header with key Access-Token.",
            )
        if token != self.token:
            return self._envelope({}, 40105, "Access token is incorrect or has been revoked.")
        return None

    def _info(self, request: Request) -> Response:
        denied = self._token_error(request)
        if denied:
            return denied
        assert json.loads(request.args["advertiser_ids"]) == [self.advertiser_id]
        return self._envelope(
            {
                "list": [
                    {
                        "advertiser_id": self.advertiser_id,
                        "name": "Acme Outdoor US",
                        "currency": self.currency,
                        "timezone": self.time_zone,
                        "status": "STATUS_ENABLE",
                    }
                ]
            }
        )

    def _report(self, request: Request) -> Response:
        denied = self._token_error(request)
        if denied:
            return denied
        self.report_calls.append(dict(request.args))
        if self.failures:
            failure = self.failures.pop(0)
            return reply(failure.status, failure.body, failure.headers)
        day = request.args["start_date"]
        assert request.args["end_date"] == day
        assert json.loads(request.args["dimensions"]) == ["campaign_id", "stat_time_hour"]
        rows = [r for r in self.records if r["dimensions"]["stat_time_hour"].startswith(day)]
        return self._page(request, rows)

    def _settings(self, kind: str) -> Any:
        def handler(request: Request) -> Response:
            denied = self._token_error(request)
            if denied:
                return denied
            self.settings_calls.append(dict(request.args))
            assert request.args["advertiser_id"] == self.advertiser_id
            wanted = json.loads(request.args.get("filtering", "{}")).get("campaign_ids")
            rows = [r for r in getattr(self, kind) if wanted is None or r["campaign_id"] in wanted]
            return self._page(request, rows)

        return handler

    def _page(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        size = min(int(request.args.get("page_size", "10")), self.page_size)
        page = int(request.args.get("page", "1"))
        total_pages = (len(rows) + size - 1) // size
        return self._envelope(
            {
                "list": rows[(page - 1) * size : page * size],
                "page_info": {
                    "page": page,
                    "page_size": size,
                    "total_number": len(rows),
                    "total_page": total_pages,
                },
            }
        )
