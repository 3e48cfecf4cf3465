"""Labelling clusters with the target score, and scoring new maps by their cluster.

Each cluster (SOM unit) is labelled with the distribution of the radar-based target score
over the **training** maps assigned to it: the median, the interquartile range (q25, q75)
and the count (:func:`fit_labels`). For a SOM the distribution is smoothed by the
neighbourhood: unit ``k`` weighs a map on unit ``b`` by ``exp(-d(k, b)² / T²)``
(:meth:`rainscore.models.clustering.ClusterModel.neighbourhood`), so a sparsely filled
unit borrows from its neighbours. Quantiles are weighted, by the midpoint rule (with equal
weights they are numpy's ``method="hazen"``). A cluster whose (weighted) count is below
``min_count`` falls back to the global training median and IQR (``fallback``).

A map's estimate is its cluster's median; its interval is split-conformal, calibrated on
the validation maps' estimates (:meth:`ClusterLabels.calibrate`), and the cluster's IQR
is reported beside it. A map unlike anything seen in training is flagged
(:class:`DistanceOOD`): its distance to the nearest centroid is beyond the
``quantile``-th quantile of the training maps' distances.

No radar enters the estimate: the labels are fitted on training scores, the new map only
provides its embedding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from rainscore.models.clustering.base import ClusterModel
from rainscore.models.intervals import SplitConformal
from rainscore.params import dataclass_from_params

__all__ = [
    "ClusterLabels",
    "DistanceOOD",
    "LabelConfig",
    "fit_labels",
    "score_maps",
    "weighted_quantiles",
]

_QUANTILES = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class LabelConfig:
    """Settings of the labelling.

    Attributes:
        min_count: A cluster with fewer (neighbourhood-weighted) training maps takes the
            global training median and IQR.
        temperature: Temperature of a SOM's neighbourhood smoothing, in grid cells
            (``exp(-d² / T²)``: 0.37 for the next unit at 1); ignored without a grid.
        coverage: Nominal coverage of the split-conformal interval.
        ood_quantile: Quantile of the training maps' distance to their nearest centroid
            beyond which a map is out of distribution.
    """

    min_count: int = 5
    temperature: float = 1.0
    coverage: float = 0.8
    ood_quantile: float = 0.99

    def __post_init__(self) -> None:
        if (
            isinstance(self.min_count, bool)
            or not isinstance(self.min_count, int)
            or self.min_count < 1
        ):
            raise ValueError(f"labelling.min_count must be an integer >= 1, got {self.min_count!r}")
        if isinstance(self.temperature, bool) or not (
            math.isfinite(self.temperature) and self.temperature > 0
        ):
            raise ValueError(
                f"labelling.temperature must be a finite number > 0, got {self.temperature!r}"
            )
        for name in ("coverage", "ood_quantile"):
            value = getattr(self, name)
            if isinstance(value, bool) or not 0 < value < 1:
                raise ValueError(f"labelling.{name} must be in (0, 1), got {value!r}")

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, section: str = "labelling"
    ) -> LabelConfig:
        """Build from parameters; unknown keys and bad values are errors naming them."""
        return dataclass_from_params(cls, params, section=section)


def weighted_quantiles(
    values: ArrayLike, weights: ArrayLike, quantiles: ArrayLike = _QUANTILES
) -> np.ndarray:
    """Weighted quantiles by the midpoint rule.

    The sorted values sit at the cumulative positions ``(S_k - w_k / 2) / S_n`` (``S_k``
    the cumulative weights); a quantile interpolates linearly between them and is clamped
    to the extreme values. Zero weights drop their values. With equal weights this is
    numpy's ``method="hazen"``.

    Args:
        values: Finite values.
        weights: Non-negative weights, same length, positive sum.
        quantiles: Levels in ``[0, 1]``.

    Returns:
        One value per level.

    Raises:
        ValueError: If the lengths differ, a weight is negative or not finite, or the
            weights sum to 0.
    """
    values = np.asarray(values, dtype=float).ravel()
    weights = np.asarray(weights, dtype=float).ravel()
    if values.shape != weights.shape:
        raise ValueError(f"{values.size} values but {weights.size} weights")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative")
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        raise ValueError("weighted quantiles need a positive total weight")
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    cumulative = np.cumsum(weights)
    positions = (cumulative - weights / 2) / cumulative[-1]
    return np.interp(np.asarray(quantiles, dtype=float), positions, values)


@dataclass(frozen=True)
class ClusterLabels:
    """The target score's distribution per cluster, and the interval around estimates.

    Attributes:
        method: The clustering method (``ClusterModel.method``).
        median: ``(K,)`` the estimate of each cluster (the global median where ``fallback``).
        q25: ``(K,)`` first quartile (global where ``fallback``).
        q75: ``(K,)`` third quartile (global where ``fallback``).
        count: ``(K,)`` training maps with a defined score assigned to the cluster.
        weight: ``(K,)`` neighbourhood-weighted count (``count`` without smoothing).
        fallback: ``(K,)`` whether the cluster took the global values.
        global_median: Median score of all training maps.
        global_q25: Their first quartile.
        global_q75: Their third quartile.
        conformal: The split-conformal interval, once calibrated (:meth:`calibrate`).
    """

    method: str
    median: np.ndarray = field(repr=False)
    q25: np.ndarray = field(repr=False)
    q75: np.ndarray = field(repr=False)
    count: np.ndarray = field(repr=False)
    weight: np.ndarray = field(repr=False)
    fallback: np.ndarray = field(repr=False)
    global_median: float = math.nan
    global_q25: float = math.nan
    global_q75: float = math.nan
    conformal: SplitConformal | None = None

    @property
    def n_clusters(self) -> int:
        """``K``."""
        return int(self.median.size)

    def _check(self, labels: ArrayLike) -> np.ndarray:
        labels = np.asarray(labels)
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"cluster labels must be a 1-D integer array, got {labels.dtype}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_clusters):
            raise ValueError(
                f"cluster labels must be in [0, {self.n_clusters}), got "
                f"{labels.min()}..{labels.max()}"
            )
        return labels

    def estimate(self, labels: ArrayLike) -> np.ndarray:
        """The estimated score of maps: their cluster's median.

        Args:
            labels: ``(N,)`` cluster labels.

        Returns:
            ``(N,)`` estimates.
        """
        return self.median[self._check(labels)]

    def calibrate(
        self,
        labels: ArrayLike,
        scores: ArrayLike,
        coverage: float,
        bounds: tuple[float, float] = (-math.inf, math.inf),
    ) -> ClusterLabels:
        """Calibrate the split-conformal interval on held-out (validation) maps.

        Args:
            labels: ``(N,)`` the validation maps' clusters.
            scores: ``(N,)`` their target scores (NaN where undefined: left out).
            coverage: Nominal coverage.
            bounds: The score's range: intervals are clipped to it.

        Returns:
            A copy holding ``conformal``.

        Raises:
            ValueError: If too few validation scores are defined for ``coverage``.
        """
        conformal = SplitConformal.calibrate(self.estimate(labels), scores, coverage, bounds)
        return replace(self, conformal=conformal)

    def predict(self, labels: ArrayLike) -> pd.DataFrame:
        """Estimates and intervals of maps.

        Args:
            labels: ``(N,)`` cluster labels.

        Returns:
            One row per map: ``cluster``, ``estimate``, ``lower``, ``upper`` (conformal),
            ``q25``, ``q75`` (the cluster's IQR), ``fallback``.

        Raises:
            ValueError: If the labels were not calibrated (:meth:`calibrate`).
        """
        if self.conformal is None:
            raise ValueError(
                f"{self.method} cluster labels have no conformal interval: calibrate them on "
                "the validation maps first"
            )
        labels = self._check(labels)
        estimate = self.median[labels]
        lower, upper = self.conformal.interval(estimate)
        return pd.DataFrame(
            {
                "cluster": labels.astype(np.int64),
                "estimate": estimate,
                "lower": lower,
                "upper": upper,
                "q25": self.q25[labels],
                "q75": self.q75[labels],
                "fallback": self.fallback[labels],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per cluster: ``cluster``, ``count``, ``weight``, ``median``, ``q25``,
        ``q75``, ``fallback``, ``method``."""
        return pd.DataFrame(
            {
                "cluster": np.arange(self.n_clusters, dtype=np.int64),
                "count": self.count,
                "weight": self.weight,
                "median": self.median,
                "q25": self.q25,
                "q75": self.q75,
                "fallback": self.fallback,
                "method": self.method,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe mapping (:meth:`from_dict` reads it back)."""
        return {
            "method": self.method,
            "median": self.median.tolist(),
            "q25": self.q25.tolist(),
            "q75": self.q75.tolist(),
            "count": self.count.tolist(),
            "weight": self.weight.tolist(),
            "fallback": self.fallback.tolist(),
            "global_median": self.global_median,
            "global_q25": self.global_q25,
            "global_q75": self.global_q75,
            "conformal": self.conformal.to_dict() if self.conformal is not None else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClusterLabels:
        """Read back :meth:`to_dict`.

        Raises:
            ValueError: On missing or unknown keys (named) or arrays of different lengths.
        """
        expected = set(cls.__dataclass_fields__)
        if set(data) != expected:
            raise ValueError(
                f"cluster labels need keys {sorted(expected)}; missing "
                f"{sorted(expected - set(data))}, unknown {sorted(set(data) - expected)}"
            )
        arrays = {
            "median": np.asarray(data["median"], dtype=float),
            "q25": np.asarray(data["q25"], dtype=float),
            "q75": np.asarray(data["q75"], dtype=float),
            "count": np.asarray(data["count"], dtype=np.int64),
            "weight": np.asarray(data["weight"], dtype=float),
            "fallback": np.asarray(data["fallback"], dtype=bool),
        }
        sizes = {name: a.shape for name, a in arrays.items()}
        if len(set(sizes.values())) != 1 or arrays["median"].ndim != 1:
            raise ValueError(f"cluster labels' arrays must be 1-D of one length, got {sizes}")
        conformal = data["conformal"]
        return cls(
            method=str(data["method"]),
            global_median=float(data["global_median"]),
            global_q25=float(data["global_q25"]),
            global_q75=float(data["global_q75"]),
            conformal=SplitConformal.from_dict(conformal) if conformal is not None else None,
            **arrays,
        )


def fit_labels(
    labels: ArrayLike,
    scores: ArrayLike,
    n_clusters: int,
    config: LabelConfig,
    *,
    neighbourhood: ArrayLike | None = None,
    method: str = "kmeans",
) -> ClusterLabels:
    """Label clusters with the target score of the training maps.

    Args:
        labels: ``(N,)`` the training maps' clusters.
        scores: ``(N,)`` their target scores; NaN (undefined) maps are left out.
        n_clusters: ``K`` (clusters with no map get the global values).
        config: ``min_count``.
        neighbourhood: ``(K, K)`` smoothing weights (``ClusterModel.neighbourhood``);
            ``None``: no smoothing.
        method: The clustering method, recorded.

    Returns:
        The labels (not yet calibrated).

    Raises:
        ValueError: If the lengths differ, a label is out of range, the neighbourhood is
            not ``(K, K)`` or no training score is defined.
    """
    labels = np.asarray(labels)
    scores = np.asarray(scores, dtype=float)
    if labels.shape != scores.shape or labels.ndim != 1:
        raise ValueError(f"labels {labels.shape} and scores {scores.shape} must be 1-D alike")
    if labels.size and (labels.min() < 0 or labels.max() >= n_clusters):
        raise ValueError(f"labels must be in [0, {n_clusters}), got {labels.min()}..{labels.max()}")
    defined = np.isfinite(scores)
    if not defined.any():
        raise ValueError(f"{method} labelling: no training map has a defined target score")
    labels, scores = labels[defined].astype(np.int64), scores[defined]
    weights = np.eye(n_clusters) if neighbourhood is None else np.asarray(neighbourhood, float)
    if weights.shape != (n_clusters, n_clusters):
        raise ValueError(f"neighbourhood must be ({n_clusters}, {n_clusters}), got {weights.shape}")
    global_q25, global_median, global_q75 = np.quantile(scores, _QUANTILES, method="hazen")
    count = np.bincount(labels, minlength=n_clusters).astype(np.int64)
    weight = weights @ count.astype(float)
    stats = np.tile([global_q25, global_median, global_q75], (n_clusters, 1))
    fallback = weight < config.min_count
    for k in np.flatnonzero(~fallback):
        stats[k] = weighted_quantiles(scores, weights[k, labels])
    return ClusterLabels(
        method=method,
        median=stats[:, 1],
        q25=stats[:, 0],
        q75=stats[:, 2],
        count=count,
        weight=weight,
        fallback=fallback,
        global_median=float(global_median),
        global_q25=float(global_q25),
        global_q75=float(global_q75),
    )


@dataclass(frozen=True)
class DistanceOOD:
    """Out-of-distribution rule: distance to the nearest centroid beyond the training's.

    Attributes:
        threshold: The ``quantile``-th quantile of the training maps' distances.
        quantile: Its level.
        n_train: Training maps it was computed on.
    """

    threshold: float
    quantile: float
    n_train: int

    @classmethod
    def fit(cls, distances: ArrayLike, quantile: float = 0.99) -> DistanceOOD:
        """The threshold from the training maps' distances to their nearest centroid.

        Args:
            distances: ``(N,)`` finite distances.
            quantile: Level in (0, 1).

        Returns:
            The rule.

        Raises:
            ValueError: If there is no distance or one is not finite.
        """
        distances = np.asarray(distances, dtype=float).ravel()
        if distances.size == 0 or not np.all(np.isfinite(distances)):
            raise ValueError("out-of-distribution threshold needs finite training distances")
        return cls(
            threshold=float(np.quantile(distances, quantile)),
            quantile=float(quantile),
            n_train=int(distances.size),
        )

    def flag(self, distances: ArrayLike) -> np.ndarray:
        """``True`` where a distance is beyond the threshold."""
        return np.asarray(distances, dtype=float) > self.threshold

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe mapping (:meth:`from_dict` reads it back)."""
        return {"threshold": self.threshold, "quantile": self.quantile, "n_train": self.n_train}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistanceOOD:
        """Read back :meth:`to_dict`; missing or unknown keys are a ValueError naming them."""
        expected = {"threshold", "quantile", "n_train"}
        if set(data) != expected:
            raise ValueError(
                f"out-of-distribution rule needs keys {sorted(expected)}, got {sorted(data)}"
            )
        return cls(float(data["threshold"]), float(data["quantile"]), int(data["n_train"]))


def score_maps(
    cluster: ClusterModel, labels: ClusterLabels, ood: DistanceOOD, z: ArrayLike
) -> pd.DataFrame:
    """Estimate the target score of maps from their embeddings alone.

    Args:
        cluster: The clusters.
        labels: Their calibrated labels.
        ood: The out-of-distribution rule.
        z: ``(N, D)`` embeddings of the maps.

    Returns:
        :meth:`ClusterLabels.predict`'s columns plus ``distance`` (to the nearest
        centroid) and ``ood`` (beyond the training distances).
    """
    assigned, _ = cluster.assign(z)
    table = labels.predict(assigned)
    distance = cluster.nearest_distance(z)
    table["distance"] = distance
    table["ood"] = ood.flag(distance)
    return table
