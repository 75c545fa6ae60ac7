"""Outlier detectors over the feature vectors of series-hours.

Every detector is fitted on the trailing window's series-hours (strictly before the scored
day) and scores the scored day's series-hours. A series-hour is anomalous when its score is
above the detector's threshold: for PyOD models the `quantile` of the training scores, for
the robust z baseline the largest absolute deviation in robust sigmas.

Models are fitted at scoring time rather than stored per brand (a train asset), by
measurement (bench/DETECTION.md): the robust z baseline's "fit" is the per-series medians and
MADs, about 10 ms of a brand-day's 0.3 s, computed from the same 30 days of rows that scoring
reads anyway (3-hour pools, the previous day for incident continuity); ECOD or COPOD add
about 0.1 s. A stored model would save that, but it would need an extra asset per brand-day,
invalidation whenever the window's history is restated, and it would make a score depend on
when the model was last trained. Fitting at scoring time keeps every score a pure function of
the window, which is what "no leakage" and determinism need.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

DETECTORS: tuple[str, ...] = ("robust_z", "ecod", "copod", "iforest", "hbos", "knn", "lof")
SEED = 20260101


@dataclass(frozen=True)
class DetectorConfig:
    """The detector and its thresholds; the Dagster asset exposes these as run config."""

    detector: str = "robust_z"
    params: dict[str, Any] = field(default_factory=dict)  # passed to the PyOD model
    window_days: int = 28
    threshold: float = 6.0  # robust_z: anomalous from this many robust sigmas
    volume_threshold: float = 8.0  # the same for spend and impressions (budgets wander)
    min_sigma: float = 3.0  # any detector: a metric must deviate this much to be explained
    quantile: float = 0.999  # PyOD models: anomalous above this quantile of training scores
    max_train_rows: int = 4000  # subsample of the window's series-hours fed to PyOD
    campaign_factor: float = 1.5  # campaign series need a deviation this much larger


def _pyod_model(name: str, params: dict[str, Any]) -> Any:
    if name == "ecod":
        from pyod.models.ecod import ECOD

        return ECOD(**params)
    if name == "copod":
        from pyod.models.copod import COPOD

        return COPOD(**params)
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(**{"random_state": SEED, "n_estimators": 50, **params})
    if name == "hbos":
        from pyod.models.hbos import HBOS

        return HBOS(**params)
    if name == "knn":
        from pyod.models.knn import KNN

        return KNN(**params)
    if name == "lof":
        from pyod.models.lof import LOF

        return LOF(**params)
    raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")


def anomalous(
    train: np.ndarray, scored: np.ndarray, config: DetectorConfig, factor: float = 1.0
) -> np.ndarray:
    """Boolean per scored row: is this series-hour an outlier of the window?

    `factor` raises the bar for a level (campaigns are many, so they need more evidence).
    """
    if config.detector not in DETECTORS:
        raise ValueError(
            f"unknown detector {config.detector!r}; choose one of {', '.join(DETECTORS)}"
        )
    if len(scored) == 0:
        return np.zeros(0, dtype=bool)
    deviation = np.max(np.abs(scored), axis=1)
    if config.detector == "robust_z":
        return deviation >= config.threshold * factor
    strong = deviation >= config.min_sigma * factor
    if not strong.any() or len(train) < 50:
        return np.zeros(len(scored), dtype=bool)
    if len(train) > config.max_train_rows:
        pick = np.random.default_rng(SEED).choice(len(train), config.max_train_rows, replace=False)
        train = train[np.sort(pick)]
    model = _pyod_model(config.detector, config.params)
    model.fit(train)
    cut = np.quantile(model.decision_scores_, config.quantile)
    out = np.zeros(len(scored), dtype=bool)
    out[strong] = model.decision_function(scored[strong]) > cut
    return out
