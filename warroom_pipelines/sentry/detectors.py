"""Outlier detectors over the deviations of series-hours.

A PyOD detector is fitted per metric: one model per metric on that metric's [hour, last three
hours] deviations, fitted on the trailing window's series-hours of the level (strictly before
the scored day). One metric's deviation is judged against that metric's own learned
distribution, not diluted among the other metrics' benign dimensions, and a benign joint move
(a paused campaign moves spend, impressions and orders together) is not unusual for any one
metric's model. A metric-hour is anomalous when its PyOD score is above the model's
`threshold_`, the (1 - contamination) quantile of its `decision_scores_` on the window, and it
deviates in the metric's harmful direction (a CTR drop, not a CTR rise) by at least
`min_sigma`, so that it can be explained. The robust z baseline instead flags a series-hour
whose largest absolute deviation reaches a fixed number of robust sigmas.

Models are fitted at scoring time rather than stored per brand (a train asset), by
measurement (bench/DETECTION.md): a fit is the window's deviations, computed from the same 30
days of rows that scoring reads anyway (3-hour pools, the previous day for incident
continuity), and ECOD fits in milliseconds. A stored model would need an extra asset per
brand-day, invalidation whenever the window's history is restated, and it would make a score
depend on when the model was last trained. Fitting at scoring time keeps every score a pure
function of the window, which is what "no leakage" and determinism need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from warroom_pipelines.metrics import CATALOGUE

DETECTORS: tuple[str, ...] = ("robust_z", "ecod", "copod", "iforest", "hbos", "knn", "lof")
SEED = 20260101
# ECOD and COPOD score a batch jointly (its rows join the training ECDF), so a scored hour
# would depend on the other hours of its day, later ones included: score them one at a time.
JOINT_SCORING: frozenset[str] = frozenset({"ecod", "copod"})
MIN_TRAIN_ROWS = 50


@dataclass(frozen=True)
class DetectorConfig:
    """The detector and its thresholds; the Dagster asset exposes these as run config."""

    detector: str = "ecod"
    params: dict[str, Any] = field(default_factory=dict)  # passed to the PyOD model
    window_days: int = 28
    threshold: float = 6.0  # robust_z alerts from here; PyOD fits leave out hours past it
    volume_threshold: float = 8.0  # the same for spend and impressions (budgets wander)
    min_sigma: float = 4.5  # any detector: a metric must deviate this much to be explained
    contamination: float = 0.0003  # PyOD: share of the window's metric-hours above threshold_
    max_train_rows: int = 4000  # subsample of the window's series-hours fed to PyOD
    campaign_factor: float = 1.5  # campaign series need a deviation this much larger


@dataclass(frozen=True)
class Verdict:
    """Per metric, per scored row: flagged by the metric's model, and the model's score
    (NaN where the row was not scored: no harmful deviation to explain)."""

    flags: dict[str, np.ndarray]
    scores: dict[str, np.ndarray]


def check(config: DetectorConfig) -> None:
    if config.detector not in DETECTORS:
        raise ValueError(
            f"unknown detector {config.detector!r}; choose one of {', '.join(DETECTORS)}"
        )
    if not 0.0 < config.contamination <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5], got {config.contamination}")


def _pyod_model(name: str, contamination: float, params: dict[str, Any]) -> Any:
    kwargs = {"contamination": contamination, **params}
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD(**kwargs)
    if name == "copod":
        from pyod.models.copod import COPOD

        return COPOD(**kwargs)
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(**{"random_state": SEED, "n_estimators": 50, **kwargs})
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return HBOS(**kwargs)
    if name == "knn":
        from pyod.models.knn import KNN

        return KNN(**kwargs)
    if name == "lof":
        from pyod.models.lof import LOF

        return LOF(**kwargs)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")


def robust_z(scored: np.ndarray, limits: np.ndarray, factor: float) -> np.ndarray:
    """Baseline, per scored row [rows, columns]: some |deviation| reaches its column's limit."""
    if len(scored) == 0:
        return np.zeros(0, dtype=bool)
    return np.any(np.abs(scored) >= limits * factor, axis=1)


def harmful(metric: str, z: np.ndarray) -> np.ndarray:
    """[rows, pools] deviations -> the same in the metric's harmful direction, clipped at 0
    (NaN stays NaN): the model learns the tail that matters, not the benign one."""
    return np.maximum(CATALOGUE[metric].harmful * z, 0.0)


def limit(metric: str, config: DetectorConfig) -> float:
    """The alert threshold of a metric, in robust sigmas (volumes wander more)."""
    return config.volume_threshold if metric in ("spend", "impressions") else config.threshold


def per_metric(
    train: dict[str, np.ndarray],
    scored: dict[str, np.ndarray],
    config: DetectorConfig,
    train_factor: np.ndarray,
    minimum: np.ndarray,
) -> Verdict:
    """One PyOD model per metric: `train[m]` [window rows, pools] and `scored[m]` [rows, pools]
    are the metric's deviations (NaN: not eligible); `minimum` [rows] is each scored row's
    explanation floor (campaigns are many, so they need more evidence).

    The window holds past incidents (about one a week per metric): a model fitted on them
    learns that a runaway budget is normal and sets its threshold above the next one. So the
    fit leaves out window hours past the metric's alert `limit` (times `train_factor`, the
    level's factor per training row), as the median and MAD leave out outliers; the model
    learns the tail of normal hours, and its contamination says how far into it to alert."""
    flags, scores = {}, {}
    for metric, z in scored.items():
        flags[metric] = np.zeros(len(z), dtype=bool)
        scores[metric] = np.full(len(z), np.nan)
        z = harmful(metric, z)
        candidates = np.flatnonzero(np.nanmax(np.nan_to_num(z, nan=0.0), axis=1) >= minimum)
        if len(candidates) == 0:
            continue
        window = harmful(metric, train[metric])
        ceiling = limit(metric, config) * train_factor
        window = window[np.all(np.nan_to_num(window, nan=0.0) < ceiling[:, None], axis=1)]
        usable = np.any(np.isfinite(window), axis=0)  # ROAS is judged on 3 hours only
        window = window[np.any(np.isfinite(window), axis=1)][:, usable]
        if len(window) < MIN_TRAIN_ROWS:
            continue
        if len(window) > config.max_train_rows:
            pick = np.random.default_rng(SEED).choice(len(window), config.max_train_rows, False)
            window = window[np.sort(pick)]
        model = _pyod_model(config.detector, config.contamination, config.params)
        model.fit(np.nan_to_num(window, nan=0.0))
        rows = np.nan_to_num(z[candidates][:, usable], nan=0.0)
        if config.detector in JOINT_SCORING:
            score = np.array([model.decision_function(row[None, :])[0] for row in rows])
        else:
            score = model.decision_function(rows)
        scores[metric][candidates] = score
        flags[metric][candidates] = score > model.threshold_
    return Verdict(flags, scores)
