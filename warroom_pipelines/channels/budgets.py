"""Campaign budgets: one row per campaign and account-local day, in the account's currency.

The Sentry reads them to tell pacing from an outage (a campaign that has spent its daily
budget stops delivering; that is no incident) and overspend from a normal day, and the
dashboard shows them beside spend. Every source fills the same table,
`main.campaign_budgets`: the demo source from its own plans, the platforms from their
campaign settings (../shared/adapi/budgets.md), normalized here to a daily amount in
currency units. Lifetime budgets (Meta `lifetime_budget`, Google `CUSTOM_PERIOD`, TikTok
`BUDGET_MODE_TOTAL`) and unlimited ones say nothing about a day: they are left out, and the
Sentry infers such a campaign's cap from its own history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable

import pandas as pd

from warroom_pipelines.warehouse import Warehouse
from warroom_pipelines.warehouse.tables import BUDGETS

BUDGET_COLUMNS: tuple[str, ...] = (
    "brand", "channel", "campaign_id", "date", "daily_budget", "currency",
)  # fmt: skip


@dataclass(frozen=True)
class CampaignBudget:
    """A campaign's daily budget as its platform states it, in currency units."""

    campaign_id: str
    daily_budget: float
    currency: str


@runtime_checkable
class BudgetReader(Protocol):
    """A platform client that reads its campaigns' budgets (Meta, Google Ads and TikTok do;
    a platform registered without it has its caps inferred)."""

    def fetch_budgets(self, account_ids: Sequence[str]) -> list[CampaignBudget]: ...


def budget_frame(
    brand: str, channel: str, day: date, budgets: Sequence[CampaignBudget]
) -> pd.DataFrame:
    """The table's rows for one source's budgets of the account-local `day`."""
    frame = pd.DataFrame(
        {
            "brand": brand,
            "channel": channel,
            "campaign_id": [b.campaign_id for b in budgets],
            "date": pd.Timestamp(day),
            "daily_budget": [b.daily_budget for b in budgets],
            "currency": [b.currency for b in budgets],
        },
        columns=list(BUDGET_COLUMNS),
    )
    return typed_budgets(frame)


def typed_budgets(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's columns and types (a Google budget shared by campaigns is one row each)."""
    out = frame.loc[:, list(BUDGET_COLUMNS)].copy()
    for column in ("brand", "channel", "campaign_id", "currency"):
        out[column] = out[column].astype("string")
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[us]")
    out["daily_budget"] = out["daily_budget"].astype("float64")
    return out.reset_index(drop=True)


def read_budgets(warehouse: Warehouse, brand: str, start: date, end: date) -> pd.DataFrame:
    """The brand's campaign budgets of the local days start..end (inclusive), as stored,
    ordered by day, channel and campaign."""
    frame = warehouse.read_slice(BUDGETS, brand=brand, start=start, end=end, columns=BUDGET_COLUMNS)
    if frame.empty:
        return typed_budgets(pd.DataFrame(columns=list(BUDGET_COLUMNS)))
    return typed_budgets(frame.sort_values(["date", "channel", "campaign_id"]))
