"""k-means on fixed embeddings: the baseline clustering (and DEC's initial centroids)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.cluster import KMeans

from rainscore.models.clustering.base import ClusterModel
from rainscore.params import dataclass_from_params

__all__ = ["KMeansConfig", "fit_kmeans"]


@dataclass(frozen=True)
class KMeansConfig:
    """Settings of :func:`fit_kmeans` (scikit-learn's ``KMeans``, k-means++ starts).

    Attributes:
        n_clusters: Number of clusters ``K``.
        n_init: Runs from different starts; the one of lowest inertia is kept.
        max_iter: Lloyd iterations per run.
        seed: Seed of the starts.
        alpha: Degrees of freedom of the Student-t soft assignments of the result.
    """

    n_clusters: int = 8
    n_init: int = 10
    max_iter: int = 300
    seed: int = 0
    alpha: float = 1.0

    def __post_init__(self) -> None:
        for name, low in (("n_clusters", 1), ("n_init", 1), ("max_iter", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"kmeans.{name} must be an integer >= {low}, got {value!r}")
        if isinstance(self.alpha, bool) or not self.alpha > 0:
            raise ValueError(f"kmeans.alpha must be a number > 0, got {self.alpha!r}")

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, section: str = "kmeans"
    ) -> KMeansConfig:
        """Build from parameters; unknown keys and bad values are errors naming them."""
        return dataclass_from_params(cls, params, section=section)


def fit_kmeans(z: ArrayLike, config: KMeansConfig, *, method: str = "kmeans") -> ClusterModel:
    """Cluster embeddings with k-means.

    Args:
        z: ``(N, D)`` finite embeddings, ``N >= n_clusters``.
        config: The settings.
        method: ``ClusterModel.method`` of the result (DEC uses this for its start).

    Returns:
        The clusters; ``info`` holds ``inertia`` and ``n_iter``.

    Raises:
        ValueError: If ``z`` is not a finite ``(N, D)`` array or has fewer than
            ``n_clusters`` rows.
    """
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or not np.all(np.isfinite(z)):
        raise ValueError(f"k-means needs a finite (N, D) array of embeddings, got {z.shape}")
    if z.shape[0] < config.n_clusters:
        raise ValueError(
            f"k-means with n_clusters={config.n_clusters} needs at least as many embeddings, "
            f"got {z.shape[0]}"
        )
    kmeans = KMeans(
        n_clusters=config.n_clusters,
        n_init=config.n_init,
        max_iter=config.max_iter,
        random_state=config.seed,
    ).fit(z)
    return ClusterModel(
        method=method,
        centroids=kmeans.cluster_centers_,
        alpha=float(config.alpha),
        info={"inertia": float(kmeans.inertia_), "n_iter": int(kmeans.n_iter_)},
    )
