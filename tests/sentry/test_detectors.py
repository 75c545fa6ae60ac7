"""Per-metric PyOD models: each metric judged against its own window, in its harmful direction."""

from __future__ import annotations

import numpy as np
import pytest

from warroom_pipelines.sentry.detectors import DetectorConfig, per_metric

PYOD = ("ecod", "copod", "hbos", "iforest", "knn")
ROWS = 2000


def _window(seed: int = 1) -> dict[str, np.ndarray]:
    """A window of [hour, 3-hour] deviations: CTR steady (normal), CPC heavy-tailed."""
    rng = np.random.default_rng(seed)
    ctr = rng.normal(size=(ROWS, 2))
    cpc = rng.standard_t(2, size=(ROWS, 2)) * 2.0
    return {"ctr": ctr, "cpc": cpc}


def _verdict(detector: str, scored: dict[str, np.ndarray], window: dict[str, np.ndarray]):
    config = DetectorConfig(detector=detector, contamination=0.002)
    n = len(next(iter(scored.values())))
    return per_metric(window, scored, config, np.ones(ROWS), np.full(n, config.min_sigma))


@pytest.mark.parametrize("detector", PYOD)
def test_each_metric_is_judged_against_its_own_distribution(detector: str) -> None:
    # 4.5 sigma is far out for the steady CTR, ordinary for the heavy-tailed CPC.
    scored = {"ctr": np.array([[-4.5, -4.5], [0.1, 0.0]]), "cpc": np.array([[3.5, 3.5]] * 2)}
    verdict = _verdict(detector, scored, _window())
    assert verdict.flags["ctr"].tolist() == [True, False]
    assert not verdict.flags["cpc"].any()
    assert np.isfinite(verdict.scores["ctr"][0]) and np.isnan(verdict.scores["ctr"][1])


@pytest.mark.parametrize("detector", PYOD)
def test_only_the_harmful_direction_counts(detector: str) -> None:
    # A CTR that rises 8 sigma is good news; one that falls 8 sigma is a broken ad.
    verdict = _verdict(detector, {"ctr": np.array([[8.0, 8.0], [-8.0, -8.0]])}, _window())
    assert verdict.flags["ctr"].tolist() == [False, True]


def test_past_incidents_in_the_window_do_not_raise_the_bar() -> None:
    window = _window()
    window["ctr"][:40] = -30.0  # last week's tracking break sits in the window
    verdict = _verdict("ecod", {"ctr": np.array([[-12.0, -12.0]])}, window)
    assert verdict.flags["ctr"].tolist() == [True]


@pytest.mark.parametrize("detector", ("ecod", "copod"))
def test_a_rows_verdict_does_not_depend_on_the_other_scored_rows(detector: str) -> None:
    """ECOD and COPOD fold a scored batch into their ECDFs: rows are scored one at a time,
    so an hour's score is the same whether later hours of the day exist or not."""
    day = np.array([[-5.2, -4.9], [-9.0, -9.0], [-9.5, -8.0], [-3.5, -4.8]])
    alone = _verdict(detector, {"ctr": day[:1]}, _window())
    together = _verdict(detector, {"ctr": day}, _window())
    assert np.isfinite(alone.scores["ctr"][0])
    assert alone.scores["ctr"][0] == together.scores["ctr"][0]
    assert alone.flags["ctr"][0] == together.flags["ctr"][0]


def test_too_short_a_window_raises_nothing() -> None:
    window = {"ctr": np.random.default_rng(3).normal(size=(20, 2))}
    config = DetectorConfig(detector="ecod")
    verdict = per_metric(
        window, {"ctr": np.array([[-20.0, -20.0]])}, config, np.ones(20), np.array([3.0])
    )
    assert not verdict.flags["ctr"].any()
