"""Hourly series of a brand at three levels: the brand, each channel, each campaign.

Counts and amounts are summed per level and hour; ratios are always derived from those
totals (never averaged), so a brand's CTR is its clicks over its impressions. Series are
kept per currency: amounts in different currencies are never added together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS: tuple[str, ...] = ("brand", "channel", "campaign")
LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "brand": ("currency",),
    "channel": ("channel", "currency"),
    "campaign": ("channel", "campaign_id", "currency"),
}
MEASURES: tuple[str, ...] = ("impressions", "clicks", "spend", "conversions", "conversion_value")
HISTORY_COLUMNS: tuple[str, ...] = (
    "channel",
    "campaign_id",
    "campaign_name",
    "currency",
    "hour_start",
    *MEASURES,
)
HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Panel:
    """One level's series as arrays [series, hour] over a contiguous UTC hour range."""

    level: str
    keys: pd.DataFrame  # one row per series: channel, campaign_id, campaign_name, currency
    start: pd.Timestamp
    hours: int
    measures: dict[str, np.ndarray]
    reported: np.ndarray  # bool [series, hour]: the source reported a row for the hour

    @property
    def size(self) -> int:
        return len(self.keys)


def build_panel(history: pd.DataFrame, level: str, start: pd.Timestamp, end: pd.Timestamp) -> Panel:
    """Sum `history` (unified rows) per series and hour of [start, end); absent hours are 0."""
    hours = int((end - start) / HOUR)
    rows = history.loc[(history["hour_start"] >= start) & (history["hour_start"] < end)]
    keys = list(LEVEL_KEYS[level])
    if rows.empty:
        empty = np.zeros((0, hours))
        return Panel(level, _key_frame(pd.DataFrame(columns=keys)), start, hours,
                     {m: empty for m in MEASURES}, empty.astype(bool))
    grouped = rows.groupby([*keys, "hour_start"], sort=True)[list(MEASURES)].sum()
    series_index = grouped.index.droplevel("hour_start").unique()
    code = series_index.get_indexer(grouped.index.droplevel("hour_start"))
    position = ((grouped.index.get_level_values("hour_start") - start) // HOUR).to_numpy()
    measures: dict[str, np.ndarray] = {}
    for measure in MEASURES:
        values = np.zeros((len(series_index), hours))
        values[code, position] = grouped[measure].to_numpy(dtype="float64")
        measures[measure] = values
    reported = np.zeros((len(series_index), hours), dtype=bool)
    reported[code, position] = True
    key_frame = series_index.to_frame(index=False)
    if level == "campaign":
        # The latest name of each campaign (campaigns get renamed).
        names = rows.sort_values("hour_start").groupby("campaign_id")["campaign_name"].last()
        key_frame["campaign_name"] = key_frame["campaign_id"].map(names)
    return Panel(level, _key_frame(key_frame), start, hours, measures, reported)


def _key_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every level's keys in the same columns ("" where a level has no such key)."""
    out = pd.DataFrame(index=range(len(frame)))
    for column in ("channel", "campaign_id", "campaign_name", "currency"):
        values = frame[column] if column in frame.columns else pd.Series([""] * len(frame))
        out[column] = values.fillna("").astype(str).to_numpy()
    return out
