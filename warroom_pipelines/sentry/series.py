"""Hourly series of a brand at three levels: the brand, each channel, each campaign.

Counts and amounts are summed per level and hour; ratios are always derived from those
totals (never averaged), so a brand's CTR is its clicks over its impressions. Series are
kept per currency: amounts in different currencies are never added together. Higher levels
are sums of campaign series, so that their expectations can be sums of campaign ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from warroom_pipelines.metrics import VOLUMES

LEVELS: tuple[str, ...] = ("brand", "channel", "campaign")
LEVEL_KEYS: dict[str, tuple[str, ...]] = {
    "brand": ("currency",),
    "channel": ("channel", "currency"),
    "campaign": ("channel", "campaign_id", "currency"),
}
HISTORY_COLUMNS: tuple[str, ...] = (
    "channel",
    "campaign_id",
    "campaign_name",
    "currency",
    "hour_start",
    *VOLUMES,
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


def build_panel(history: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> Panel:
    """Campaign series: `history` (unified rows) summed per campaign and hour of [start, end);
    hours without a row are 0."""
    hours = int((end - start) / HOUR)
    rows = history.loc[(history["hour_start"] >= start) & (history["hour_start"] < end)]
    keys = list(LEVEL_KEYS["campaign"])
    if rows.empty:
        empty = np.zeros((0, hours))
        return Panel(
            "campaign",
            _key_frame(pd.DataFrame(columns=keys)),
            start,
            hours,
            {m: empty for m in VOLUMES},
            empty.astype(bool),
        )
    grouped = rows.groupby([*keys, "hour_start"], sort=True)[list(VOLUMES)].sum()
    series = grouped.index.droplevel(["hour_start"])  # type: ignore[list-item]
    series_index = series.unique()
    code = series_index.get_indexer(series)
    hours_of = pd.DatetimeIndex(grouped.index.get_level_values("hour_start"))
    position = np.asarray((hours_of - start) // HOUR)
    measures: dict[str, np.ndarray] = {}
    for measure in VOLUMES:
        values = np.zeros((len(series_index), hours))
        values[code, position] = grouped[measure].to_numpy(dtype="float64")
        measures[measure] = values
    reported = np.zeros((len(series_index), hours), dtype=bool)
    reported[code, position] = True
    key_frame = series_index.to_frame(index=False)
    # The latest name of each campaign (campaigns get renamed).
    names = rows.sort_values("hour_start").groupby("campaign_id")["campaign_name"].last()
    key_frame["campaign_name"] = key_frame["campaign_id"].map(names)
    return Panel("campaign", _key_frame(key_frame), start, hours, measures, reported)


def membership(campaigns: Panel, level: str) -> tuple[pd.DataFrame, np.ndarray]:
    """The level's series keys and the 0/1 matrix [series, campaign] that sums campaigns
    into them (the identity at campaign level)."""
    if level == "campaign":
        return campaigns.keys, np.eye(campaigns.size)
    keys = [k for k in LEVEL_KEYS[level]]
    parents = campaigns.keys.groupby(keys, sort=True).ngroup().to_numpy()
    matrix = np.zeros((int(parents.max()) + 1 if len(parents) else 0, campaigns.size))
    matrix[parents, np.arange(campaigns.size)] = 1.0
    frame = campaigns.keys.drop_duplicates(keys).sort_values(keys)[keys].reset_index(drop=True)
    return _key_frame(frame), matrix


def roll_up(campaigns: Panel, level: str) -> tuple[Panel, np.ndarray]:
    """The level's panel (sums of its campaigns) and its membership matrix."""
    keys, matrix = membership(campaigns, level)
    if level == "campaign":
        return campaigns, matrix
    measures = {m: matrix @ v for m, v in campaigns.measures.items()}
    reported = (matrix @ campaigns.reported.astype(float)) > 0
    return Panel(level, keys, campaigns.start, campaigns.hours, measures, reported), matrix


def _key_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every level's keys in the same columns ("" where a level has no such key)."""
    out = pd.DataFrame(index=range(len(frame)))
    for column in ("channel", "campaign_id", "campaign_name", "currency"):
        values = frame[column] if column in frame.columns else pd.Series([""] * len(frame))
        out[column] = values.fillna("").astype(str).to_numpy()
    return out
