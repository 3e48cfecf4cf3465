"""A 2-D view of the latent space: the maps' embeddings on their first two principal axes.

The principal axes are those of every map's embedding (``latent_embeddings``' ``z_*``
columns), found by an SVD of the centred embeddings (numpy only). Points are coloured by
the map's radar-based target score and shaped by split; the k-means centroids, which live
in the same (not fine-tuned) latent space, are projected on the same axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike

from rainscore.models.artefacts import ModelArtefact
from rainscore.models.clustering import cluster_from_artefact
from rainscore.reporting.figure import ReportFigure
from rainscore.reporting.panels import message_figure

__all__ = ["LatentPCA", "fit_pca", "latent_columns", "latent_figure", "latent_report_figure"]

_MARKERS = {"train": "o", "validation": "s", "test": "^", "gap": "D", "unlabelled": "v"}
_SCORE_CMAP = "viridis"
_UNDEFINED = "#9e9e9e"


@dataclass(frozen=True)
class LatentPCA:
    """The first principal axes of a set of embeddings.

    Attributes:
        mean: ``(D,)`` mean embedding.
        components: ``(2, D)`` unit principal axes (the sign makes each axis' largest
            loading positive); a zero row when the embeddings span fewer dimensions.
        explained: ``(2,)`` share of the total variance along each axis.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray

    def project(self, z: ArrayLike) -> np.ndarray:
        """``(N, 2)`` coordinates of embeddings ``(N, D)`` on the axes."""
        return (np.asarray(z, dtype=float) - self.mean) @ self.components.T


def fit_pca(z: ArrayLike) -> LatentPCA:
    """The first two principal axes of ``z``.

    Args:
        z: ``(N, D)`` embeddings, finite, ``N >= 2``.

    Returns:
        The axes.

    Raises:
        ValueError: ``z`` is not a finite ``(N, D)`` array of at least two rows.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 1 or not np.isfinite(z).all():
        raise ValueError(f"fit_pca: need finite (N >= 2, D >= 1) embeddings, got {z.shape}")
    mean = z.mean(axis=0)
    _, singular, vt = np.linalg.svd(z - mean, full_matrices=False)
    components = np.zeros((2, z.shape[1]))
    explained = np.zeros(2)
    k = min(2, vt.shape[0])
    components[:k] = vt[:k]
    signs = np.sign(components[np.arange(2), np.abs(components).argmax(axis=1)])
    components *= np.where(signs == 0, 1.0, signs)[:, None]
    total = float(np.sum(singular**2))
    if total > 0:
        explained[:k] = singular[:k] ** 2 / total
    return LatentPCA(mean=mean, components=components, explained=explained)


def latent_columns(latent_embeddings: pd.DataFrame) -> list[str]:
    """The ``z_*`` columns in their numeric order (``z_2`` before ``z_10``)."""
    columns = [c for c in latent_embeddings.columns if c.startswith("z_") and c[2:].isdigit()]
    return sorted(columns, key=lambda c: int(c[2:]))


def latent_figure(
    z: np.ndarray,
    split: np.ndarray,
    actual: np.ndarray,
    *,
    target: str,
    centroids: np.ndarray | None = None,
) -> Figure:
    """The embeddings on their first two principal axes.

    Args:
        z: ``(N, D)`` embeddings.
        split: ``(N,)`` each map's split (marker).
        actual: ``(N,)`` each map's target score (colour; NaN: hollow grey).
        target: The target score's name.
        centroids: ``(K, D)`` k-means centroids to project, or None.

    Returns:
        The figure.
    """
    pca = fit_pca(z)
    xy = pca.project(z)
    actual = np.asarray(actual, dtype=float)
    defined = np.isfinite(actual)
    fig = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = fig.add_subplot()
    norm = Normalize(*(np.nanmin(actual), np.nanmax(actual)) if defined.any() else (0, 1))
    cmap = colormaps[_SCORE_CMAP]
    handles = []
    names = list(dict.fromkeys(str(name) for name in split))
    for name in sorted(names, key=lambda n: list(_MARKERS).index(n) if n in _MARKERS else 99):
        marker = _MARKERS.get(name, "o")
        rows = np.asarray(split).astype(str) == name
        ax.scatter(
            *xy[rows & defined].T,
            c=actual[rows & defined],
            cmap=cmap,
            norm=norm,
            marker=marker,
            s=14,
            alpha=0.8,
            linewidths=0,
        )
        ax.scatter(
            *xy[rows & ~defined].T,
            marker=marker,
            s=14,
            facecolors="none",
            edgecolors=_UNDEFINED,
            linewidths=0.6,
        )
        handles.append(
            Line2D([], [], ls="", marker=marker, color="#424242", label=f"{name} ({rows.sum()})")
        )
    if (~defined).any():
        handles.append(
            Line2D([], [], ls="", marker="o", mfc="none", mec=_UNDEFINED, label="target undefined")
        )
    if centroids is not None:
        points = pca.project(centroids)
        ax.scatter(*points.T, marker="X", s=80, color="black", edgecolors="white", zorder=3)
        for k, (x, y) in enumerate(points):
            ax.annotate(str(k), (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
        handles.append(
            Line2D([], [], ls="", marker="X", color="black", ms=8, label="k-means centroid")
        )
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.set_label(f"actual {target} (radar)")
    for axis, share in enumerate(pca.explained):
        label = f"principal axis {axis + 1} of the latent space ({share:.0%} of variance)"
        (ax.set_xlabel if axis == 0 else ax.set_ylabel)(label)
    ax.legend(handles=handles, loc="best", fontsize=7)
    ax.set_title(f"Latent space of {z.shape[0]} maps ({z.shape[1]} dimensions)", fontsize=9)
    return fig


def latent_report_figure(
    latent_embeddings: pd.DataFrame | None,
    map_scores: pd.DataFrame | None,
    kmeans_model: ModelArtefact | None,
    *,
    target: str,
) -> ReportFigure:
    """The ``latent`` section's figure (``latent_pca``).

    Args:
        latent_embeddings: ``time``, ``split``, ``z_*`` of every map (a ``target`` column,
            when it has one, gives the actual score), or None.
        map_scores: The map scores, indexed by time (the actual target score), or None.
        kmeans_model: The k-means artefact (its centroids are projected), or None.
        target: The target score's name.

    Returns:
        The figure, or one that says what is missing.
    """
    caption = (
        "Every map's autoencoder embedding on the first two principal axes of the "
        f"embeddings (PCA), coloured by the map's radar-based {target} (hollow grey: "
        "undefined, too dry), shaped by split; black crosses: the k-means centroids, "
        "numbered as in the cluster prototypes."
    )
    columns = [] if latent_embeddings is None else latent_columns(latent_embeddings)
    if latent_embeddings is None or len(latent_embeddings) < 2 or not columns:
        figure = message_figure("no latent embeddings (run the representation pipeline)")
        return ReportFigure("latent_pca", "latent", "Latent space", caption, figure)
    z = latent_embeddings[columns].to_numpy(dtype=float)
    if target in latent_embeddings.columns:
        actual = latent_embeddings[target].to_numpy(dtype=float)
    elif map_scores is not None and target in map_scores.columns:
        times = pd.DatetimeIndex(latent_embeddings["time"])
        actual = map_scores[target].reindex(times).to_numpy(dtype=float)
    else:
        actual = np.full(len(z), np.nan)
    centroids = None
    if kmeans_model is not None:
        cluster, _ = cluster_from_artefact(kmeans_model)
        if cluster.latent_dim == z.shape[1]:
            centroids = cluster.centroids
    figure = latent_figure(
        z, latent_embeddings["split"].to_numpy(), actual, target=target, centroids=centroids
    )
    return ReportFigure("latent_pca", "latent", "Latent space (PCA)", caption, figure)
