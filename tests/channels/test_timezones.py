"""Account-local hours land on the right UTC hours, daylight-saving change days included.

Each platform reports hours in the account's zone (here America/New_York). A UTC day spans
two local days, so every client must fetch both and keep exactly the UTC day's hours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from tests.channels.fakes import (
    FakeGoogleAds,
    FakeMeta,
    FakeTikTok,
    FakeTime,
    google_row,
    meta_row,
    tiktok_record,
)
from tests.support import AFTER_THE_FIXTURES
from warroom_pipelines.channels.google_ads import (
    GoogleAdsClient,
    GoogleAdsConfig,
    GoogleAdsCredentials,
)
from warroom_pipelines.channels.meta import MetaAdsClient, MetaConfig
from warroom_pipelines.channels.report import ChannelFetch
from warroom_pipelines.channels.tiktok import TikTokAdsClient, TikTokConfig
from warroom_pipelines.vault.secret import Secret

# Local HTTP servers started by the tests; fixtures dated in 2026.
pytestmark = [pytest.mark.integration, AFTER_THE_FIXTURES]

NY = "America/New_York"
LocalHours = list[tuple[str, int]]

# (local date, local hour) -> UTC hour of the partition day, written out by hand.
SPRING_FORWARD = {  # UTC 2026-03-08: EST (-5) until local 02:00, then EDT (-4)
    **{("2026-03-07", h): h - 19 for h in range(19, 24)},
    ("2026-03-08", 0): 5,
    ("2026-03-08", 1): 6,
    **{("2026-03-08", h): h + 4 for h in range(3, 20)},
}
FALL_BACK = {  # UTC 2026-11-01: EDT (-4) until local 02:00, then EST (-5)
    **{("2026-10-31", h): h - 20 for h in range(20, 24)},
    ("2026-11-01", 0): 4,
    ("2026-11-01", 1): 5,  # the repeated hour, reported once: its first occurrence
    **{("2026-11-01", h): h + 5 for h in range(2, 19)},
}
CASES = {
    "spring": (date(2026, 3, 8), ("2026-03-07", "2026-03-08"), SPRING_FORWARD),
    "autumn": (date(2026, 11, 1), ("2026-10-31", "2026-11-01"), FALL_BACK),
}


def local_hours(local_days: tuple[str, ...]) -> LocalHours:
    """Every hour of both local days that exists on the clock (no 02:00 on spring-forward)."""
    return [(d, h) for d in local_days for h in range(24) if (d, h) != ("2026-03-08", 2)]


def marker(local_date: str, hour: int) -> int:
    """Impressions that identify the local hour they were reported for."""
    return int(local_date[-2:]) * 100 + hour + 1


def meta(server: HTTPServer, hours: LocalHours, day: date, fake_time: FakeTime) -> ChannelFetch:
    fake = FakeMeta(server, token="EAAGtz", time_zone=NY, page_size=25)
    fake.hourly = [
        meta_row("C", d, h, impressions=marker(d, h), clicks=0, spend=1) for d, h in hours
    ]
    client = MetaAdsClient(
        brand="acme",
        access_token=Secret("EAAGtz"),
        config=MetaConfig(base_url=server.url_for("/")),
        sleep=fake_time.sleep,
    )
    return client.fetch_day(["104598762233591"], day)


def google(server: HTTPServer, hours: LocalHours, day: date, fake_time: FakeTime) -> ChannelFetch:
    fake = FakeGoogleAds(server, refresh_token="1//tz", time_zone=NY, batch_size=10)
    fake.rows = [
        google_row("C", d, h, impressions=marker(d, h), clicks=0, cost=1) for d, h in hours
    ]
    client = GoogleAdsClient(
        brand="acme",
        credentials=GoogleAdsCredentials(
            client_id=fake.client_id,
            client_secret=Secret(fake.client_secret),
            refresh_token=Secret("1//tz"),
        ),
        config=GoogleAdsConfig(base_url=server.url_for("/"), token_url=server.url_for("/token")),
        sleep=fake_time.sleep,
    )
    return client.fetch_day(["5839201945"], day)


def tiktok(server: HTTPServer, hours: LocalHours, day: date, fake_time: FakeTime) -> ChannelFetch:
    fake = FakeTikTok(server, token="act.tz", time_zone=NY, page_size=1000)
    fake.records = [
        tiktok_record("C", f"{d} {h:02d}:00:00", impressions=marker(d, h), clicks=0, spend="1")
        for d, h in hours
    ]
    client = TikTokAdsClient(
        brand="acme",
        access_token=Secret("act.tz"),
        config=TikTokConfig(base_url=server.url_for("/open_api")),
        sleep=fake_time.sleep,
    )
    return client.fetch_day(["7123456789012345678"], day)


PLATFORMS: dict[str, Callable[[HTTPServer, LocalHours, date, FakeTime], ChannelFetch]] = {
    "meta": meta,
    "google": google,
    "tiktok": tiktok,
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("platform", PLATFORMS)
def test_local_hours_land_on_their_utc_hour(
    platform: str, case: str, httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    day, local_days, expected = CASES[case]
    frame = PLATFORMS[platform](httpserver, local_hours(local_days), day, fake_time).frame

    got = dict(zip(frame["hour_start"], frame["impressions"], strict=True))
    want = {
        pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=utc_hour): marker(d, h)
        for (d, h), utc_hour in expected.items()
    }
    assert got == want
    assert len(frame) == (24 if case == "spring" else 23)
    assert (frame["date"] == pd.Timestamp(day)).all()
    assert frame["hour_start"].is_unique


def test_an_hour_the_clock_skipped_is_merged_not_duplicated(
    httpserver: HTTPServer, fake_time: FakeTime
) -> None:
    """Should a platform label the non-existent 02:00 of spring-forward, its numbers join 01:00."""
    day, local_days, _ = CASES["spring"]
    hours = [*local_hours(local_days), ("2026-03-08", 2)]
    frame = tiktok(httpserver, hours, day, fake_time).frame

    at_six = frame.loc[frame["hour_start"] == pd.Timestamp("2026-03-08T06:00Z")]
    assert len(at_six) == 1
    assert at_six["impressions"].iloc[0] == marker("2026-03-08", 1) + marker("2026-03-08", 2)
    assert at_six["spend"].iloc[0] == 2.0
    assert frame["hour_start"].is_unique and len(frame) == 24
