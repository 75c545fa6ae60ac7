"""Dagster metadata that tells the truth per brand-day.

A batch run materializes many brand-days at once, and Dagster gives every one of them the
output's metadata, overlaid with what was added for that partition. So each brand-day gets
its own figures (rows, totals per currency, its own incidents) under the plain names, and
the output keeps only figures named `batch_...`, which no brand-day mistakes for its own.
Money is summed per currency, never across currencies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import dagster as dg
import pandas as pd

from warroom_pipelines.partitions import partition_key
from warroom_pipelines.sentry.incidents import counts, summary

Summary = dict[str, dg.MetadataValue]
TOP_INCIDENTS = 10


def per_currency(frame: pd.DataFrame, column: str, prefix: str = "") -> Summary:
    """`<prefix><column>:<currency>` for each currency of the rows, rounded to cents."""
    if frame.empty:
        return {}
    totals = frame.groupby("currency")[column].sum()
    return {
        f"{prefix}{column}:{currency}": dg.MetadataValue.float(round(float(total), 2))
        for currency, total in totals.items()
    }


def rows_summary(frame: pd.DataFrame) -> Summary:
    """One brand-day's rows: count, spend and conversion value per currency, and per account."""
    if frame.empty:
        return {"rows": dg.MetadataValue.int(0)}
    per_account = (
        frame.groupby(["channel", "account_id", "currency"])
        .agg(
            rows=("campaign_id", "size"),
            campaigns=("campaign_id", "nunique"),
            spend=("spend", "sum"),
            conversions=("conversions", "sum"),
        )
        .reset_index()
    )
    per_account["spend"] = per_account["spend"].round(2)
    return {
        "rows": dg.MetadataValue.int(len(frame)),
        **per_currency(frame, "spend"),
        **per_currency(frame, "conversion_value"),
        "accounts": dg.MetadataValue.md(per_account.to_markdown(index=False)),
    }


def anomalies_summary(anomalies: pd.DataFrame) -> Summary:
    """One brand-day's anomalies: counts by type and severity, incidents, money at stake per
    currency, and its worst incidents."""
    top = summary(anomalies).head(TOP_INCIDENTS)
    return {
        "anomalies": dg.MetadataValue.int(len(anomalies)),
        "incidents": dg.MetadataValue.int(int(anomalies["incident_id"].nunique())),
        **per_currency(anomalies, "money_at_stake"),
        **{name: dg.MetadataValue.int(count) for name, count in counts(anomalies).items()},
        "top_incidents": dg.MetadataValue.md(
            top.to_markdown(index=False) if len(top) else "no anomalies"
        ),
    }


def batch_summary(frame: pd.DataFrame, brand_days: dict[str, list[date]]) -> Summary:
    """What the whole run did, labelled as the batch's, with spend per currency."""
    return {
        "batch_brand_days": dg.MetadataValue.int(sum(len(days) for days in brand_days.values())),
        "batch_rows": dg.MetadataValue.int(len(frame)),
        **(per_currency(frame, "spend", prefix="batch_") if "spend" in frame else {}),
    }


def add_brand_day_metadata(
    context: dg.AssetExecutionContext,
    frame: pd.DataFrame,
    brand_days: dict[str, list[date]],
    summarize: Callable[[pd.DataFrame], Summary] = rows_summary,
) -> None:
    """Each brand-day's own summary on its own materialization (brand-days without rows get
    the summary of no rows)."""
    days = pd.to_datetime(frame["date"])
    for brand, brand_dates in brand_days.items():
        for day in brand_dates:
            own = frame.loc[(frame["brand"] == brand) & (days == pd.Timestamp(day))]
            context.add_asset_metadata(summarize(own), partition_key=str(partition_key(brand, day)))
