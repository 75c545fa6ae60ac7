"""Today's spend against the daily budget, per campaign and per channel.

A daily budget is a budget of the ad account's own day, so each campaign's "today" is its
account's local date (at 14:00 UTC a New York account is 9 hours into its day, a Sydney one
already on the next). A campaign has reached its budget, or overspent it, by the thresholds
the Sentry judges pacing with (`sentry.pacing`), so the page and the alerts agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import pandas as pd

from warroom_pipelines.channels.budgets import read_budgets
from warroom_pipelines.channels.demo import demo_budgets
from warroom_pipelines.schema import DEMO_SOURCE
from warroom_pipelines.sentry.pacing import REACHED, overdelivery
from warroom_pipelines.warehouse import Warehouse

HOUR = pd.Timedelta(hours=1)
# The local day that holds the last complete hour is at most 25 hours long (a DST change):
# in every time zone it started at most 26 hours before the page's end.
LOOKBACK = pd.Timedelta(hours=26)
PaceState = Literal["over", "reached", "pacing", "no budget"]


def daily_budgets(
    warehouse: Warehouse, brand: str, sources: Iterable[str], start: date, end: date
) -> pd.DataFrame:
    """The daily budgets the page paces against (columns `BUDGET_COLUMNS`), for local dates
    `start` to `end`: those the `campaign_budgets` asset stored, which the Sentry scores with.

    A demo warehouse written before that asset existed has no budgets stored; its rows still
    pace against the demo's campaign settings, which are what the asset would have stored.
    """
    stored = read_budgets(warehouse, brand, start, end)
    if stored.empty and DEMO_SOURCE in set(sources):
        return demo_budgets(brand, start, end)
    return stored


@dataclass(frozen=True)
class CampaignPacing:
    channel: str
    campaign_id: str
    currency: str
    local_day: date
    spend_today: float
    daily_budget: float | None  # None: no budget known for the local day
    day_elapsed: float  # the share of the account's local day that is over

    @property
    def spent_share(self) -> float | None:
        if self.daily_budget is None or self.daily_budget <= 0:
            return None
        return self.spend_today / self.daily_budget

    @property
    def state(self) -> PaceState:
        share = self.spent_share
        if share is None:
            return "no budget"
        if share > overdelivery(self.channel):
            return "over"
        return "reached" if share >= REACHED else "pacing"


@dataclass(frozen=True)
class ChannelPacing:
    """A channel's campaigns with a known budget: their spend today against their budgets."""

    channel: str
    currency: str
    spend_today: float
    daily_budget: float
    campaigns: int
    reached: int  # of which at or over their budget
    without_budget: int  # campaigns that spent today with no known budget

    @property
    def spent_share(self) -> float | None:
        return self.spend_today / self.daily_budget if self.daily_budget > 0 else None


def campaign_pacing(
    spend: pd.DataFrame, budgets: pd.DataFrame, end: pd.Timestamp
) -> list[CampaignPacing]:
    """Each campaign's spend so far in its account's local day (the day of the last complete
    hour before `end`) and that day's budget in the same currency."""
    if spend.empty:
        return []
    known = {
        (str(r["channel"]), str(r["campaign_id"]), pd.Timestamp(r["date"]).date(), r["currency"]): (
            float(r["daily_budget"])
        )
        for r in budgets.to_dict("records")
    }
    keys = ["channel", "campaign_id", "account_timezone", "currency"]
    days, starts, lengths = {}, {}, {}
    for zone in map(str, spend["account_timezone"].unique()):
        day = (end - HOUR).tz_convert(zone).date()
        days[zone], starts[zone] = day, pd.Timestamp(day, tz=zone).tz_convert("UTC")
        # A local day is 23 to 25 hours long.
        lengths[zone] = (
            pd.Timestamp(day + timedelta(days=1), tz=zone).tz_convert("UTC") - starts[zone]
        )
    zones = spend["account_timezone"].astype(str)
    today = spend.loc[pd.to_datetime(spend["hour_start"], utc=True) >= zones.map(starts)]
    spent = today.groupby(keys)["spend"].sum()
    out = []
    for channel, campaign, zone, currency in spend[keys].drop_duplicates().itertuples(index=False):
        day = days[str(zone)]
        out.append(
            CampaignPacing(
                channel=str(channel),
                campaign_id=str(campaign),
                currency=str(currency),
                local_day=day,
                spend_today=float(spent.get((channel, campaign, zone, currency), 0.0)),
                daily_budget=known.get((str(channel), str(campaign), day, currency)),
                day_elapsed=min(1.0, (end - starts[str(zone)]) / lengths[str(zone)]),
            )
        )
    return sorted(out, key=lambda c: (c.channel, c.campaign_id))


def channel_pacing(campaigns: Iterable[CampaignPacing]) -> list[ChannelPacing]:
    groups: dict[tuple[str, str], list[CampaignPacing]] = {}
    for c in campaigns:
        groups.setdefault((c.channel, c.currency), []).append(c)
    out = []
    for (channel, currency), members in groups.items():
        budgeted = [c for c in members if c.daily_budget is not None]
        out.append(
            ChannelPacing(
                channel=channel,
                currency=currency,
                spend_today=sum(c.spend_today for c in budgeted),
                daily_budget=sum(c.daily_budget or 0.0 for c in budgeted),
                campaigns=len(budgeted),
                reached=sum(c.state in ("reached", "over") for c in budgeted),
                without_budget=sum(c.daily_budget is None and c.spend_today > 0 for c in members),
            )
        )
    return out
