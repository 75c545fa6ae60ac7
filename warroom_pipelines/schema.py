"""The unified performance table: one row per brand x channel x account x campaign x UTC hour.

Every channel client and the demo source produce the *raw* columns; `finalize` adds the
derived ratios and `ingested_at` and fixes column order and types, so the table has one
shape wherever it is stored (DuckDB locally, BigQuery in production: lower-case names).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from warroom_pipelines.days import utc_dates
from warroom_pipelines.metrics import RATIOS

DEMO_SOURCE = "demo"  # the `source` of the demo source's rows, whatever their channel

KEY_COLUMNS: tuple[str, ...] = ("brand", "channel", "account_id", "campaign_id", "hour_start")

# Column -> pandas dtype, in table order. Raw columns first, then derived, then lineage.
RAW_COLUMNS: dict[str, str] = {
    "brand": "string",
    "channel": "string",
    "account_id": "string",
    "campaign_id": "string",
    "campaign_name": "string",
    "hour_start": "datetime64[us, UTC]",
    "date": "datetime64[us]",
    "currency": "string",
    "account_timezone": "string",
    "impressions": "int64",
    "clicks": "int64",
    "spend": "float64",
    "conversions": "float64",
    "conversion_value": "float64",
    "source": "string",
    "conversions_source": "string",
}
# The derived ratios of the metric catalogue, each a DOUBLE.
DERIVED_COLUMNS: dict[str, str] = {name: "float64" for name in RATIOS}
COLUMNS: dict[str, str] = {**RAW_COLUMNS, **DERIVED_COLUMNS, "ingested_at": "datetime64[us, UTC]"}

COUNT_COLUMNS = ("impressions", "clicks")
AMOUNT_COLUMNS = ("spend", "conversions", "conversion_value")


class SchemaError(ValueError):
    """Rows that do not fit the unified table; names brand, channel and field at fault."""

    def __init__(self, message: str, *, brand: str | None, channel: str | None, field: str):
        self.brand, self.channel, self.field = brand, channel, field
        where = f"brand={brand!r} channel={channel!r} field={field!r}"
        super().__init__(f"{message} ({where})")


def safe_ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """numerator / denominator, NaN (null in the warehouse) where the denominator is 0."""
    num = numerator.astype("float64").to_numpy()
    den = denominator.astype("float64").to_numpy()
    out = np.full(len(num), np.nan)
    np.divide(num * scale, den, out=out, where=den != 0)
    return pd.Series(out, index=numerator.index, dtype="float64")


def add_derived_metrics(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the catalogue's ratios (ctr, cpc, cpm, cpa, cvr, roas) from the row's own totals."""
    out = frame.copy()
    for name, ratio in RATIOS.items():
        out[name] = safe_ratio(out[ratio.numerator], out[ratio.denominator], ratio.scale)
    return out


def empty_frame() -> pd.DataFrame:
    """A zero-row frame with the unified columns and dtypes."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COLUMNS.items()})


def empty_raw_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in RAW_COLUMNS.items()})


def validate_raw(frame: pd.DataFrame, *, brand: str, channel: str | None = None) -> None:
    """Refuse rows that would corrupt the table; errors name the brand, channel and field."""
    for column in RAW_COLUMNS:
        if column not in frame.columns:
            raise SchemaError("missing column", brand=brand, channel=channel, field=column)
    if frame.empty:
        return
    wrong_brand = frame["brand"] != brand
    if wrong_brand.any():
        bad = frame.loc[wrong_brand]
        raise SchemaError(
            "row belongs to another brand",
            brand=brand,
            channel=str(bad["channel"].iloc[0]),
            field="brand",
        )
    for column in (*COUNT_COLUMNS, *AMOUNT_COLUMNS):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad_mask = values.isna() | (values < 0) | ~np.isfinite(values.astype("float64"))
        if bad_mask.any():
            row = frame.loc[bad_mask].iloc[0]
            raise SchemaError(
                f"must be a finite non-negative number, got {row[column]!r}",
                brand=brand,
                channel=str(row["channel"]),
                field=column,
            )
    over = frame["clicks"].astype("int64") > frame["impressions"].astype("int64")
    if over.any():
        row = frame.loc[over].iloc[0]
        raise SchemaError(
            "clicks exceed impressions", brand=brand, channel=str(row["channel"]), field="clicks"
        )
    for column in (
        "channel",
        "account_id",
        "campaign_id",
        "currency",
        "account_timezone",
        "hour_start",
    ):
        if frame[column].isna().any():
            row = frame.loc[frame[column].isna()].iloc[0]
            raise SchemaError(
                "must not be null", brand=brand, channel=str(row["channel"]), field=column
            )
    dupes = frame.duplicated(list(KEY_COLUMNS))
    if dupes.any():
        row = frame.loc[dupes].iloc[0]
        raise SchemaError(
            f"duplicate row for campaign {row['campaign_id']} at {row['hour_start']}",
            brand=brand,
            channel=str(row["channel"]),
            field="hour_start",
        )


def finalize(frame: pd.DataFrame, *, brand: str, ingested_at: datetime) -> pd.DataFrame:
    """Validate raw rows and return them in the unified table's exact shape and order."""
    if frame.empty:
        return empty_frame()
    validate_raw(frame, brand=brand)
    out = frame.loc[:, list(RAW_COLUMNS)].copy()
    out["hour_start"] = pd.to_datetime(out["hour_start"], utc=True)
    out["date"] = utc_dates(out["hour_start"])
    out = add_derived_metrics(out)
    out["ingested_at"] = pd.Timestamp(ingested_at).tz_convert("UTC")
    out = out.astype(COLUMNS)
    return out.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one data-quality rule over a partition of the unified table."""

    passed: bool
    failures: int
    detail: str


def quality_checks(frame: pd.DataFrame, *, reported: Mapping[str, int]) -> dict[str, CheckOutcome]:
    """The unified table's rules, run against what was actually stored.

    `reported` is, per source of the brand-day (`demo` or a platform's channel), how many
    account-hours its last good read held. Platforms leave out the hours in which an account
    delivered nothing, so a day is complete when every hour the source reported is stored,
    not when it has every hour of the clock.
    """
    if frame.empty and not any(reported.values()):
        ok = CheckOutcome(True, 0, "no rows")
        return {
            name: ok
            for name in (
                "unique_key",
                "non_negative",
                "clicks_within_impressions",
                "hours_complete",
            )
        }
    dupes = int(frame.duplicated(list(KEY_COLUMNS)).sum())
    negatives = int(
        (frame[list(COUNT_COLUMNS + AMOUNT_COLUMNS)].astype("float64") < 0).any(axis=1).sum()
    )
    over = int((frame["clicks"] > frame["impressions"]).sum())
    gaps: list[str] = []
    for source, hours in sorted(reported.items()):
        stored = account_hours(frame.loc[_of_source(frame, source)])
        if stored != hours:
            gaps.append(f"{source}: {stored}/{hours} reported account-hours stored")
    gap_text = ", ".join(gaps)
    return {
        "unique_key": CheckOutcome(dupes == 0, dupes, f"{dupes} duplicate keys"),
        "non_negative": CheckOutcome(
            negatives == 0, negatives, f"{negatives} rows with a negative measure"
        ),
        "clicks_within_impressions": CheckOutcome(
            over == 0, over, f"{over} rows with clicks > impressions"
        ),
        "hours_complete": CheckOutcome(
            not gaps, len(gaps), gap_text or "every hour the sources reported is stored"
        ),
    }


def _of_source(frame: pd.DataFrame, source: str) -> pd.Series:
    """The rows one ingestion source wrote: the demo source's carry the platforms' channel
    names, so they are told apart by their `source` column."""
    if source == DEMO_SOURCE:
        return frame["source"] == DEMO_SOURCE
    return (frame["channel"] == source) & (frame["source"] != DEMO_SOURCE)


def account_hours(frame: pd.DataFrame) -> int:
    """How many account-hours rows cover: what a source reported for a day (platforms leave
    out hours with no delivery, so this, not 24, is a complete day of an account)."""
    if frame.empty:
        return 0
    return int(frame[["account_id", "hour_start"]].drop_duplicates().shape[0])
