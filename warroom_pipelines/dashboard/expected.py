"""What an hour usually looks like, drawn behind the observed line of a brand page's charts.

The expected range of an hour is the spread of the same hour of day on the previous 7 days
(its 10th to 90th percentile, and the median): the Sentry's baseline is the same hour of day
too, so a reader sees on the chart the comparison an alert makes, without hovering. Only
earlier hours count, so the band of an incident hour is what was expected before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DAYS = 7
LOOKBACK_HOURS = DAYS * 24
MIN_DAYS = 4  # fewer same hours than this is no baseline: no band rather than a guess
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class Expected:
    """Per hour of a chart: low and high of the usual range and its median; None where the
    previous days give no baseline."""

    low: list[float | None]
    mid: list[float | None]
    high: list[float | None]


def same_hour_range(series: Sequence[float | None], hours: int) -> Expected:
    """The expected range of each of the last `hours` hours of `series`, which holds the
    `LOOKBACK_HOURS` before them first (None: no value, e.g. before a series had any row)."""
    values = np.array([np.nan if v is None else v for v in series], dtype="float64")
    if len(values) != LOOKBACK_HOURS + hours:
        raise ValueError(f"same_hour_range needs {LOOKBACK_HOURS} + {hours} hours of values")
    same_hours = np.stack(
        [
            values[LOOKBACK_HOURS - 24 * k : LOOKBACK_HOURS - 24 * k + hours]
            for k in range(1, DAYS + 1)
        ]
    )
    # Quantiles by hand (linear, as numpy's default): nanquantile loops over the 168 columns.
    count = np.isfinite(same_hours).sum(axis=0)
    enough = count >= MIN_DAYS
    ordered = np.sort(same_hours, axis=0)  # values first, NaN last
    last = np.maximum(count, 1) - 1
    columns = np.arange(hours)
    rows: list[list[float | None]] = []
    for q in QUANTILES:
        position = q * last
        below = np.floor(position).astype(int)
        above = np.minimum(below + 1, last)
        low, high = ordered[below, columns], ordered[above, columns]
        found = np.where(enough, low + (high - low) * (position - below), np.nan)
        rows.append([None if np.isnan(v) else float(v) for v in found])
    return Expected(*rows)
