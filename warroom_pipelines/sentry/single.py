"""detect_series: any single hourly KPI series (a CPC or CPM from a warehouse query), scored
streaming and past-only, with no volumes made up for it.

Each hour is compared with the median of the same hour of day over the previous
`window_days` whole days, on a log scale for a positive series (KPIs move by factors). The
residual is pooled over the engine's horizons (POOLS: the hour, the last three, the last
twelve) and each pool is scaled by the median absolute deviation of its own residuals over
the previous window, leaving out hours already past the threshold (past incidents). An hour
is anomalous when a pool reaches `config.threshold` robust sigmas in the harmful direction.
Everything an hour's score uses lies before the hour, or is the hour itself: a series cut at
any hour gives the same scores for the hours before the cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from warroom_pipelines.sentry.detectors import DetectorConfig
from warroom_pipelines.sentry.features import MAD_TO_SIGMA, POOLS

SERIES_COLUMNS = ("hour_start", "value", "expected", "deviation", "anomalous")
MIN_DAYS = 7
DEFAULT_CONFIG = DetectorConfig()


def detect_series(
    series: pd.Series, config: DetectorConfig = DEFAULT_CONFIG, direction: int = 0
) -> pd.DataFrame:
    """One row per hour of `series` (indexed by UTC hour start; missing hours are gaps, not
    zeros): its value, expected value, deviation in robust sigmas (the strongest pool) and
    whether it is anomalous. `direction` +1 or -1 judges only rises or drops (0: both)."""
    if series.empty:
        return pd.DataFrame({c: [] for c in SERIES_COLUMNS})
    index = pd.DatetimeIndex(series.index)
    if index.tz is None:
        raise ValueError("detect_series needs a UTC hourly index (tz-aware hour starts)")
    first = index.min().floor("D")
    hours = pd.date_range(first, index.max().floor("D") + pd.Timedelta(hours=23), freq="h")
    values = series.groupby(index.floor("h")).mean().reindex(hours).to_numpy(dtype="float64")
    positive = bool(np.nanmin(values) > 0)
    y = np.log(values) if positive else values
    days = len(hours) // 24
    grid = y.reshape(days, 24)
    w = config.window_days
    base = np.full_like(grid, np.nan)
    for d in range(MIN_DAYS, days):
        past = grid[max(0, d - w) : d]
        if np.isfinite(past).sum(axis=0).min() > 0:
            base[d] = np.nanmedian(past, axis=0)
    residual = (grid - base).ravel()
    z = np.full((len(POOLS), len(residual)), np.nan)
    for p, pool in enumerate(POOLS):
        pooled = pd.Series(residual).rolling(pool, min_periods=pool).mean().to_numpy()
        for d in range(MIN_DAYS, days):
            past = pooled[max(0, d - w) * 24 : d * 24]
            past = past[np.isfinite(past)]
            if len(past) < 24:
                continue
            scale = _scale(past, config.threshold)
            z[p, d * 24 : (d + 1) * 24] = pooled[d * 24 : (d + 1) * 24] / scale
    harm = np.nan_to_num(z if direction == 0 else direction * z, nan=0.0)
    harm = np.abs(harm) if direction == 0 else harm
    pick = np.argmax(harm, axis=0)
    deviation = z[pick, np.arange(len(residual))]
    anomalous = np.max(harm, axis=0) >= config.threshold
    expected = np.exp(base.ravel()) if positive else base.ravel()
    out = pd.DataFrame(
        {
            "hour_start": hours,
            "value": values,
            "expected": expected,
            "deviation": np.round(deviation, 3),
            "anomalous": anomalous & np.isfinite(values),
        }
    )
    return out.loc[out["hour_start"].isin(index.floor("h"))].reset_index(drop=True)


def _scale(past: np.ndarray, threshold: float) -> float:
    """Robust sigma of past pooled residuals, past incidents (beyond the threshold) left out."""
    center = np.median(past)
    scale = max(MAD_TO_SIGMA * float(np.median(np.abs(past - center))), 1e-6)
    normal = past[np.abs(past - center) < threshold * scale]
    if len(normal) >= 24:
        scale = max(MAD_TO_SIGMA * float(np.median(np.abs(normal - np.median(normal)))), 1e-6)
    return scale
