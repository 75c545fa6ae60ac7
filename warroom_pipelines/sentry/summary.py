"""Anomaly rows summarised as incidents: for Dagster metadata, the CLI and the demo."""

from __future__ import annotations

import pandas as pd

from warroom_pipelines.sentry.explain import SEVERITIES


def incidents(anomalies: pd.DataFrame) -> pd.DataFrame:
    """One row per incident: where, what, when, how bad, how much money; worst first."""
    columns = [
        "brand",
        "incident_id",
        "level",
        "channel",
        "campaign_name",
        "anomaly_type",
        "severity",
        "start",
        "end",
        "hours",
        "deviation",
        "money_at_stake",
        "currency",
    ]
    if anomalies.empty:
        return pd.DataFrame(columns=columns)
    rank = anomalies["severity"].map({s: i for i, s in enumerate(SEVERITIES)})
    frame = anomalies.assign(rank=rank, size=anomalies["deviation"].abs())
    grouped = frame.groupby("incident_id", sort=False).agg(
        brand=("brand", "first"),
        level=("level", "first"),
        channel=("channel", "first"),
        campaign_name=("campaign_name", "first"),
        anomaly_type=("anomaly_type", "first"),
        rank=("rank", "max"),
        start=("incident_start", "first"),
        end=("incident_end", "first"),
        hours=("hour_start", "size"),
        deviation=("size", "max"),
        money_at_stake=("money_at_stake", "sum"),
        currency=("currency", "first"),
    )
    grouped["severity"] = [SEVERITIES[int(r)] for r in grouped["rank"]]
    grouped["money_at_stake"] = grouped["money_at_stake"].round(2)
    grouped["deviation"] = grouped["deviation"].round(1)
    ordered = grouped.sort_values(["rank", "money_at_stake"], ascending=False).reset_index()
    return ordered.loc[:, columns]


def counts(anomalies: pd.DataFrame) -> dict[str, int]:
    """Anomalous series-hours per type and per severity ("type:ctr_drop", "severity:info")."""
    out = {f"type:{k}": int(v) for k, v in anomalies["anomaly_type"].value_counts().items()}
    out.update({f"severity:{k}": int(v) for k, v in anomalies["severity"].value_counts().items()})
    return dict(sorted(out.items()))
