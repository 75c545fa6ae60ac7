"""What the campaign table shows: each campaign's last 7 days against the 7 before, sorted by
spend, with its open incident and today's pacing against its daily budget (no HTML here).

A brand can run hundreds of campaigns: the table lists the CAMPAIGNS_SHOWN that spent most,
and every campaign with an open incident, and sums the rest into one row, so that the page
stays small and its totals still add up to the brand's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from warroom_pipelines.dashboard.model import (
    METRICS,
    BrandView,
    Incident,
    Tile,
    as_number,
    channel_order,
    status_rank,
)
from warroom_pipelines.dashboard.pacing import (
    LOOKBACK,
    CampaignPacing,
    ChannelPacing,
    campaign_pacing,
    channel_pacing,
    daily_budgets,
)
from warroom_pipelines.dashboard.queries import CommandCenterReader
from warroom_pipelines.metrics import VOLUMES
from warroom_pipelines.schema import add_derived_metrics

CAMPAIGNS_SHOWN = 20


@dataclass(frozen=True)
class CampaignRow:
    channel: str
    campaign_id: str
    campaign_name: str
    cells: list[Tile]  # spend, conversions, CPA, ROAS, CTR: the week against the week before
    pacing: CampaignPacing | None = None
    incident: Incident | None = None  # the campaign's worst open incident

    @property
    def spend(self) -> float:
        return self.cells[0].value or 0.0


@dataclass(frozen=True)
class CampaignTable:
    """One currency's campaigns (amounts in different currencies are never summed)."""

    currency: str
    rows: list[CampaignRow]
    others: CampaignRow | None  # the campaigns not listed, summed
    others_count: int
    channels: list[ChannelPacing] = field(default_factory=list)


def _cells(now: dict, before: dict, currency: str, fair: bool) -> list[Tile]:
    return [
        Tile(m, "week", currency, as_number(now.get(m.name)), as_number(before.get(m.name)), fair)
        for m in METRICS
    ]


def _summed(frame: pd.DataFrame) -> dict:
    """The totals of several campaigns, ratios from the summed totals."""
    sums = pd.DataFrame([{c: frame[c].sum() for c in VOLUMES}])
    return add_derived_metrics(sums).iloc[0].to_dict() if len(frame) else {}


def _open_incidents(incidents: list[Incident] | None) -> dict[tuple[str, str], Incident]:
    """Each campaign's worst open incident (severity, then money at stake)."""
    worst: dict[tuple[str, str], Incident] = {}
    ranked = sorted(
        (i for i in incidents or [] if i.status == "open" and i.level == "campaign"),
        key=lambda i: (status_rank(i.severity), i.money_at_stake),
    )
    for i in ranked:
        worst[(i.channel, i.campaign_id)] = i
    return worst


def campaign_tables(reader: CommandCenterReader, view: BrandView) -> list[CampaignTable]:
    """The brand's campaign tables, one per currency, from brand-scoped reads at the page's
    periods (a stale brand's end at its last data)."""
    reader = reader.at(view.periods)
    totals = reader.campaign_totals(view.brand)
    if totals.empty:
        return []
    end = view.periods.end
    spend = reader.campaign_spend_by_hour(view.brand, end - LOOKBACK)
    pacing: list[CampaignPacing] = []
    if not spend.empty:
        days = [d.date() for d in (end - LOOKBACK, end)]
        budgets = daily_budgets(
            reader.warehouse, view.brand, spend["source"].dropna().astype(str), *_span(days)
        )
        pacing = campaign_pacing(spend, budgets, end)
    paced = {(p.channel, p.campaign_id, p.currency): p for p in pacing}
    incidents = _open_incidents(view.incidents)
    fair = {t.currency: t.comparable for c in view.tiles.values() for t in c if t.period == "week"}
    out = []
    for currency in view.currencies:
        mine = totals.loc[totals["currency"] == currency]
        week = mine.loc[mine["period"] == "week"].sort_values("spend", ascending=False)
        prior = mine.loc[mine["period"] == "prior_week"]
        before = {_key(r): r for r in prior.to_dict("records")}
        comparable = fair.get(currency, True)
        rows, rest = [], set()
        for n, r in enumerate(week.to_dict("records")):
            key = _key(r)
            if n >= CAMPAIGNS_SHOWN and key not in incidents:
                rest.add(key)
                continue
            rows.append(
                CampaignRow(
                    channel=key[0],
                    campaign_id=key[1],
                    campaign_name=str(r["campaign_name"] or key[1]),
                    cells=_cells(r, before.get(key, {}), currency, comparable),
                    pacing=paced.get((*key, currency)),
                    incident=incidents.get(key),
                )
            )
        others = None
        if rest:
            now_rest, before_rest = (
                frame.loc[[_key(r) in rest for r in frame.to_dict("records")]]
                for frame in (week, prior)
            )
            cells = _cells(_summed(now_rest), _summed(before_rest), currency, comparable)
            others = CampaignRow("", "", f"{len(rest)} other campaigns", cells)
        channels = sorted(
            (c for c in channel_pacing(pacing) if c.currency == currency),
            key=lambda c: channel_order(c.channel),
        )
        out.append(CampaignTable(currency, rows, others, len(rest), channels))
    return out


def _key(row: dict) -> tuple[str, str]:
    return str(row["channel"]), str(row["campaign_id"])


def _span(days: list[date]) -> tuple[date, date]:
    """Local dates that can be "today" somewhere: a day either side of the UTC dates."""
    return min(days) - timedelta(days=1), max(days) + timedelta(days=1)
