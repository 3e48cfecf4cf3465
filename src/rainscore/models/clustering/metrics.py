"""How good a clustering is: silhouette in the latent space, NMI and ARI against known labels."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, silhouette_score

__all__ = ["clustering_metrics"]


def clustering_metrics(
    z: ArrayLike,
    labels: ArrayLike,
    *,
    true_labels: ArrayLike | None = None,
    reconstruction_mse: float | None = None,
    sample_size: int = 5000,
    seed: int = 0,
) -> dict[str, float]:
    """Silhouette, NMI, ARI and the reconstruction error of a clustering.

    Args:
        z: ``(N, D)`` embeddings.
        labels: ``(N,)`` cluster labels.
        true_labels: ``(N,)`` known classes (the synthetic world's regimes), or ``None``.
        reconstruction_mse: The autoencoder's reconstruction error, passed through.
        sample_size: Silhouette on at most this many embeddings, drawn with ``seed``
            (its cost is quadratic in ``N``).
        seed: Seed of that draw.

    Returns:
        ``silhouette`` (Euclidean, in ``[-1, 1]``; NaN with fewer than 2 clusters used or
        as many clusters as maps), ``nmi`` and ``ari`` (NaN without ``true_labels``),
        ``n_clusters_used``, ``n`` and ``reconstruction_mse`` (NaN when not given).

    Raises:
        ValueError: If the lengths differ.
    """
    z = np.asarray(z, dtype=float)
    labels = np.asarray(labels)
    if z.ndim != 2 or len(z) != len(labels):
        raise ValueError(
            f"clustering metrics need (N, D) embeddings and N labels, got {z.shape} and "
            f"{labels.shape}"
        )
    used = int(np.unique(labels).size)
    silhouette = math.nan
    if 2 <= used < len(labels):
        silhouette = float(
            silhouette_score(
                z,
                labels,
                sample_size=sample_size if len(labels) > sample_size else None,
                random_state=seed,
            )
        )
    nmi = ari = math.nan
    if true_labels is not None:
        truth = np.asarray(true_labels)
        if truth.shape != labels.shape:
            raise ValueError(f"true_labels has shape {truth.shape}, the labels have {labels.shape}")
        nmi = float(normalized_mutual_info_score(truth, labels))
        ari = float(adjusted_rand_score(truth, labels))
    return {
        "silhouette": silhouette,
        "nmi": nmi,
        "ari": ari,
        "n_clusters_used": used,
        "n": len(labels),
        "reconstruction_mse": math.nan if reconstruction_mse is None else float(reconstruction_mse),
    }
