"""detect_series on one hourly KPI series with known anomaly windows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from warroom_pipelines.sentry.single import detect_series

START = pd.Timestamp("2026-09-01", tz="UTC")
WINDOWS = ((30 * 24 + 10, 30 * 24 + 15, 1.8), (35 * 24 + 2, 35 * 24 + 14, 1.3))


@pytest.fixture(scope="module")
def cpc() -> pd.Series:
    """40 days of an hourly CPC with a daily cycle and noise; a sharp 5-hour rise and a
    moderate 12-hour one."""
    rng = np.random.default_rng(4)
    hours = pd.date_range(START, periods=40 * 24, freq="h")
    daily = 1.0 + 0.2 * np.sin(2 * np.pi * np.asarray(hours.hour) / 24)
    values = daily * rng.lognormal(0.0, 0.05, len(hours))
    for begin, end, factor in WINDOWS:
        values[begin:end] *= factor
    return pd.Series(values, index=hours)


def test_known_anomaly_windows_are_found_and_nothing_else(cpc) -> None:
    rows = detect_series(cpc, direction=+1)
    flagged = set(np.flatnonzero(rows["anomalous"].to_numpy()))
    for begin, end, _ in WINDOWS:
        assert flagged & set(range(begin, end)), (begin, end)
    # Nothing outside the windows (and the few hours their pools take to clear).
    allowed = set().union(*(range(b, e + 12) for b, e, _ in WINDOWS))
    assert flagged <= allowed
    assert rows.loc[: 7 * 24 - 1, "anomalous"].sum() == 0  # no history yet, no verdict


def test_scores_are_past_only(cpc) -> None:
    full = detect_series(cpc)
    for cut in (30 * 24 + 12, 35 * 24 + 5, 38 * 24 + 23):
        partial = detect_series(cpc.iloc[:cut])
        pd.testing.assert_frame_equal(partial, full.iloc[:cut].reset_index(drop=True))


def test_missing_hours_are_gaps_not_zeros(cpc) -> None:
    holed = cpc.drop(cpc.index[30 * 24 + 2 : 30 * 24 + 6])
    rows = detect_series(holed)
    assert len(rows) == len(holed) and not rows["anomalous"].iloc[30 * 24 - 24 : 30 * 24 + 2].any()
