"""Who drives an alarm, and at which level it happened.

A brand or channel anomaly names the campaigns that drive it: each member campaign's money
at stake in the same hour for the same type (spend above its usual level for a spike, spend
not delivered for a drop, the share of its spend the broken ratio wasted otherwise), the
top ones first. One event is alerted once, at the level where it happened: when one row of
the same type and hour one level down (a brand's channels, a channel's campaigns) holds
ROOT_SHARE of the money at stake (a campaign: and the others far less than their spend's
share, `drives_alone`), the parent's row is shown but not pushed (info) and that
child's row carries the worse severity; when several share it, the event is the parent's,
and the children's rows are info.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from warroom_pipelines.metrics import CATALOGUE
from warroom_pipelines.sentry.explain import SEVERITIES, Rule
from warroom_pipelines.sentry.features import Features

ROOT_SHARE = 0.8
DRIVER_SIGMA = 3.0  # a campaign drives an alarm when it deviates that way this much itself
TOP = 3
KEY = ["hour_start", "anomaly_type"]


def campaign_money(
    rule: Rule, campaigns: Features, deviations: dict[str, np.ndarray], day: int, hour: int
) -> np.ndarray:
    """[campaign] each campaign's money at stake in the hour for the rule's type, counted
    only where the campaign itself deviates that way (DRIVER_SIGMA on the rule's first
    test; `deviations` as `explain.strongest` gives them): noise drives nothing."""
    metric, direction = rule.tests[0]
    moved = deviations[metric][:, hour] * direction >= DRIVER_SIGMA
    return np.where(moved, _money(rule, campaigns, day, hour), 0.0)


def _money(rule: Rule, campaigns: Features, day: int, hour: int) -> np.ndarray:
    spend = campaigns.spend[:, day, hour]
    usual = np.nan_to_num(campaigns.expected_spend[:, day, hour])
    if rule.anomaly_type == "spend_spike":
        return np.maximum(spend - usual, 0.0)
    if rule.anomaly_type in ("spend_drop", "impressions_drop"):
        return np.maximum(usual - spend, 0.0)
    observed = campaigns.observed[rule.metric][:, day, hour]
    expected = campaigns.expected[rule.metric][:, day, hour]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = expected / observed if CATALOGUE[rule.metric].harmful > 0 else observed / expected
    return spend * np.clip(np.nan_to_num(1.0 - ratio, nan=0.0), 0.0, 1.0)


def contributors(
    members: np.ndarray, keys: pd.DataFrame, money: np.ndarray, weight: np.ndarray
) -> tuple[str, dict[str, tuple[float, float]]]:
    """The row's top campaigns by money at stake ("name (id): amount; ..."), and per campaign
    its share of that money and its share of the row's `weight` (its spend), for `one_root`."""
    money = np.where(members, money, 0.0)
    weight = np.where(members, np.nan_to_num(weight), 0.0)
    order = np.argsort(-money, kind="stable")[:TOP]
    text = "; ".join(
        f"{keys['campaign_name'].iloc[c] or keys['campaign_id'].iloc[c]} "
        f"({keys['campaign_id'].iloc[c]}): {money[c]:.2f}"
        for c in order
        if money[c] > 0
    )
    total, size = money.sum(), max(weight.sum(), 1e-9)
    if total <= 0:
        return text, {}
    ids = keys["campaign_id"].to_numpy()
    return text, {
        str(ids[c]): (float(money[c] / total), float(weight[c] / size))
        for c in np.flatnonzero(money > 0)
    }


def drives_alone(money_share: float, weight_share: float) -> bool:
    """A campaign is the event, not its channel, when it holds ROOT_SHARE of the money and
    the other campaigns less than half of what their spend would give them (a channel-wide
    drop weighs every campaign by its spend, however big one of them is)."""
    return money_share >= ROOT_SHARE and 1.0 - money_share <= 0.5 * (1.0 - weight_share)


def one_root(rows: pd.DataFrame) -> pd.DataFrame:
    """Severity moved to the level where each event happened (see the module docstring)."""
    if rows.empty:
        return rows
    rows = rows.reset_index(drop=True)
    rank = rows["severity"].map({s: i for i, s in enumerate(SEVERITIES)}).to_numpy()
    money = rows["money_at_stake"].fillna(0.0).to_numpy()
    records = rows[["level", "channel", "campaign_id", *KEY]].to_dict("records")
    share_of: list[dict[str, tuple[float, float]]] = list(rows["_shares"])
    absorbed: set[int] = set()
    for parent, child in (("brand", "channel"), ("channel", "campaign")):
        under_of: dict[tuple[object, ...], list[int]] = {}
        for j, r in enumerate(records):
            if r["level"] == child:
                scope = "" if parent == "brand" else r["channel"]
                under_of.setdefault((scope, r["hour_start"], r["anomaly_type"]), []).append(j)
        for i, r in enumerate(records):
            if r["level"] != parent:
                continue
            scope = "" if parent == "brand" else r["channel"]
            under = under_of.get((scope, r["hour_start"], r["anomaly_type"]), [])
            if not under:
                continue
            # A channel's campaigns: the one that drives its money (campaign rows are too
            # sparse to weigh: a campaign may drive it without a row of its own). A brand's
            # channels, or no driver: the child row with the most money of its own.
            shares = share_of[i] if parent == "channel" else {}
            if shares:
                top = max(
                    under, key=lambda j: shares.get(str(records[j]["campaign_id"]), (0.0, 0.0))
                )
                root = drives_alone(*shares.get(str(records[top]["campaign_id"]), (0.0, 0.0)))
            else:
                top = max(under, key=lambda j: money[j])
                root = money[top] >= ROOT_SHARE * money[under].sum()
            if i in absorbed:  # part of its parent's event: so are its children
                absorbed.update(under)
                rank[under] = 0
            elif root:
                rank[top], rank[i] = max(rank[top], rank[i]), 0
            elif rank[i] > 0:
                rank[i] = max(rank[i], *rank[under])
                rank[under] = 0
                absorbed.update(under)
    rows["severity"] = [SEVERITIES[int(x)] for x in rank]
    return rows
