"""What every clustering method gives back: centroids in the latent space, and how to use them.

A :class:`ClusterModel` is the result of k-means (:mod:`.kmeans`), DEC/IDEC (:mod:`.dec`)
or DESOM (:mod:`.desom`): the centroids (the SOM's prototypes) of the clusters in the
encoder's latent space, the Student-t degrees of freedom of the soft assignments and, for
a SOM, the grid. It assigns embeddings (:meth:`ClusterModel.assign`), measures their
distance to the nearest centroid (the out-of-distribution score of
:mod:`rainscore.models.labelling`) and gives the neighbourhood weights between units that
smooth a SOM's labels. It is saved as a :class:`~rainscore.models.artefacts.ModelArtefact`
(safetensors + JSON, never pickle) by :func:`cluster_artefact`, with the fine-tuned
encoder's weights for the deep methods.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch import Tensor, nn
from torch.utils.data import DataLoader

from rainscore.models.artefacts import ModelArtefact
from rainscore.models.training import TrainResult, predict

__all__ = [
    "ARTEFACT_KIND",
    "METHODS",
    "ClusterModel",
    "DeepClusterResult",
    "cluster_artefact",
    "cluster_from_artefact",
    "embed",
    "grid_distances",
    "neighbourhood_weights",
    "split_autoencoder",
    "squared_distances",
    "student_t",
]

METHODS = ("kmeans", "dec", "desom")
"""The clustering methods (``ClusterModel.method``)."""

ARTEFACT_KIND = "clustering"
"""``ModelArtefact.kind`` of a saved clustering."""

_CENTROIDS = "centroids"
_ENCODER = "encoder."


def squared_distances(z: Tensor, centroids: Tensor) -> Tensor:
    """Squared Euclidean distances between embeddings and centroids.

    Args:
        z: Embeddings, ``(N, D)``.
        centroids: Centroids, ``(K, D)``.

    Returns:
        ``(N, K)``: ``||z_i - mu_j||²`` (exact differences, not the expanded dot-product
        form, so that it is never negative).
    """
    return (z.unsqueeze(1) - centroids.unsqueeze(0)).pow(2).sum(dim=-1)


def student_t(z: Tensor, centroids: Tensor, alpha: float = 1.0) -> Tensor:
    """DEC's soft assignment: a Student-t kernel around each centroid, normalised per row.

    ``q_ij = (1 + ||z_i - mu_j||² / alpha) ** (-(alpha + 1) / 2)``, divided by its sum over
    ``j`` (Xie, Girshick and Farhadi 2016, eq. 1; Guo et al. 2017, eq. 2).

    Args:
        z: Embeddings, ``(N, D)``.
        centroids: Centroids, ``(K, D)``.
        alpha: Degrees of freedom of the Student-t distribution (> 0).

    Returns:
        ``(N, K)`` soft assignments; each row sums to 1.
    """
    kernel = (1.0 + squared_distances(z, centroids) / alpha).pow(-(alpha + 1.0) / 2.0)
    return kernel / kernel.sum(dim=1, keepdim=True)


def grid_distances(rows: int, cols: int) -> np.ndarray:
    """Manhattan distances between the units of a ``rows × cols`` SOM grid.

    Units are numbered row by row (unit ``r * cols + c`` sits at row ``r``, column ``c``).

    Args:
        rows: Rows of the grid.
        cols: Columns of the grid.

    Returns:
        ``(K, K)`` float array, ``K = rows * cols``.
    """
    r, c = np.divmod(np.arange(rows * cols), cols)
    return (np.abs(r[:, None] - r[None, :]) + np.abs(c[:, None] - c[None, :])).astype(float)


def neighbourhood_weights(distances: ArrayLike, temperature: float) -> np.ndarray:
    """Gaussian neighbourhood kernel ``exp(-d² / T²)`` of grid distances (DESOM's ``K^T``).

    Args:
        distances: Grid distances between units.
        temperature: ``T`` (> 0); the kernel is 0.37 at a distance of ``T``.

    Returns:
        The weights, 1 on the diagonal.
    """
    d = np.asarray(distances, dtype=float)
    return np.exp(-(d**2) / temperature**2)


def _as_matrix(z: ArrayLike, latent_dim: int, what: str) -> np.ndarray:
    array = np.array(z, dtype=np.float64)  # a writable copy for torch.from_numpy
    if array.ndim != 2 or array.shape[1] != latent_dim:
        raise ValueError(
            f"{what} must be an (N, {latent_dim}) array of embeddings, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{what} has {int((~np.isfinite(array)).sum())} non-finite values")
    return array


@dataclass(frozen=True)
class ClusterModel:
    """Clusters in the latent space, whatever the method that found them.

    Attributes:
        method: ``"kmeans"``, ``"dec"`` or ``"desom"``.
        centroids: ``(K, D)`` float64 centroids (a SOM's prototypes, unit by unit, row by
            row).
        alpha: Degrees of freedom of the Student-t soft assignments (:func:`student_t`).
        grid: ``(rows, cols)`` of a SOM; ``None`` for the other methods.
        info: JSON-safe facts about the fit (inertia, iterations, changed fraction…).
    """

    method: str
    centroids: np.ndarray = field(repr=False)
    alpha: float = 1.0
    grid: tuple[int, int] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"clustering method must be one of {METHODS}, got {self.method!r}")
        centroids = np.array(self.centroids, dtype=np.float64)
        if centroids.ndim != 2 or centroids.shape[0] < 1 or centroids.shape[1] < 1:
            raise ValueError(f"{self.method} centroids must be (K, D), got {centroids.shape}")
        if not np.all(np.isfinite(centroids)):
            raise ValueError(f"{self.method} centroids are not all finite")
        centroids.setflags(write=False)
        object.__setattr__(self, "centroids", centroids)
        if not (math.isfinite(self.alpha) and self.alpha > 0):
            raise ValueError(f"{self.method} alpha must be a finite number > 0, got {self.alpha}")
        if self.grid is not None:
            rows, cols = (int(v) for v in self.grid)
            if rows < 1 or cols < 1 or rows * cols != centroids.shape[0]:
                raise ValueError(
                    f"{self.method} grid {self.grid} does not hold {centroids.shape[0]} units"
                )
            object.__setattr__(self, "grid", (rows, cols))

    @property
    def n_clusters(self) -> int:
        """``K``, the number of clusters (SOM units)."""
        return int(self.centroids.shape[0])

    @property
    def latent_dim(self) -> int:
        """``D``, the dimension of the latent space."""
        return int(self.centroids.shape[1])

    def distances(self, z: ArrayLike) -> np.ndarray:
        """Euclidean distances of embeddings to every centroid.

        Args:
            z: ``(N, D)`` embeddings.

        Returns:
            ``(N, K)`` distances.

        Raises:
            ValueError: If ``z`` is not ``(N, D)`` or not finite.
        """
        z = _as_matrix(z, self.latent_dim, f"{self.method} embeddings")
        squared = squared_distances(torch.from_numpy(z), torch.from_numpy(self.centroids.copy()))
        return np.sqrt(squared.numpy())

    def assign(self, z: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Hard and soft assignments of embeddings.

        The hard label is the nearest centroid (for a SOM, the best-matching unit; for DEC
        the argmax of ``q``, which is the same); the soft assignment is the Student-t kernel
        :func:`student_t` with this model's ``alpha``, for every method.

        Args:
            z: ``(N, D)`` embeddings.

        Returns:
            ``(labels, soft)``: ``(N,)`` int64 labels in ``[0, K)`` and ``(N, K)``
            soft assignments whose rows sum to 1.
        """
        z = _as_matrix(z, self.latent_dim, f"{self.method} embeddings")
        z_t, c_t = torch.from_numpy(z), torch.from_numpy(self.centroids.copy())
        labels = squared_distances(z_t, c_t).argmin(dim=1).numpy().astype(np.int64)
        return labels, student_t(z_t, c_t, self.alpha).numpy()

    def nearest_distance(self, z: ArrayLike) -> np.ndarray:
        """Distance of each embedding to its nearest centroid (the out-of-distribution score).

        Args:
            z: ``(N, D)`` embeddings.

        Returns:
            ``(N,)`` distances.
        """
        return self.distances(z).min(axis=1)

    def neighbourhood(self, temperature: float) -> np.ndarray:
        """Weights between units with which labels are smoothed.

        Args:
            temperature: Temperature of the Gaussian kernel on the SOM grid (ignored
                without a grid).

        Returns:
            ``(K, K)``: :func:`neighbourhood_weights` of :func:`grid_distances` for a SOM;
            the identity (no smoothing) for the other methods.
        """
        if self.grid is None:
            return np.eye(self.n_clusters)
        return neighbourhood_weights(grid_distances(*self.grid), temperature)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe part (the centroids go into :meth:`tensors`)."""
        return {
            "method": self.method,
            "n_clusters": self.n_clusters,
            "latent_dim": self.latent_dim,
            "alpha": float(self.alpha),
            "grid": list(self.grid) if self.grid is not None else None,
            "info": self.info,
        }

    def tensors(self) -> dict[str, Tensor]:
        """The centroids as a tensor for safetensors (``{"centroids": (K, D) float64}``)."""
        return {_CENTROIDS: torch.from_numpy(self.centroids.copy())}

    @classmethod
    def from_parts(cls, config: Mapping[str, Any], tensors: Mapping[str, Tensor]) -> ClusterModel:
        """Rebuild from :meth:`to_dict` and :meth:`tensors`.

        Args:
            config: What :meth:`to_dict` gave.
            tensors: Holding ``centroids``.

        Returns:
            The model.

        Raises:
            ValueError: On missing or unknown keys, or centroids of another shape than the
                config says.
        """
        expected = {"method", "n_clusters", "latent_dim", "alpha", "grid", "info"}
        if set(config) != expected:
            raise ValueError(
                f"clustering config must have keys {sorted(expected)}, got {sorted(config)}"
            )
        if _CENTROIDS not in tensors:
            raise ValueError(f"clustering tensors lack {_CENTROIDS!r}; got {sorted(tensors)}")
        centroids = tensors[_CENTROIDS].detach().cpu().double().numpy()
        if centroids.shape != (config["n_clusters"], config["latent_dim"]):
            raise ValueError(
                f"clustering centroids have shape {centroids.shape}, the config says "
                f"({config['n_clusters']}, {config['latent_dim']})"
            )
        grid = config["grid"]
        return cls(
            method=config["method"],
            centroids=centroids,
            alpha=float(config["alpha"]),
            grid=tuple(grid) if grid is not None else None,
            info=dict(config["info"]),
        )


def cluster_artefact(
    cluster: ClusterModel,
    *,
    encoder: nn.Module | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> ModelArtefact:
    """A clustering as a model artefact (save it with ``save_artefact``).

    Args:
        cluster: The clusters.
        encoder: The encoder the centroids live behind (DEC and DESOM fine-tune it): its
            weights are saved under ``encoder.``; ``None`` for k-means on fixed embeddings.
        metadata: JSON-safe extras (the autoencoder's config, the labels…).

    Returns:
        ``ModelArtefact(kind="clustering", config=cluster.to_dict(), ...)``.
    """
    state = cluster.tensors()
    if encoder is not None:
        state |= {_ENCODER + k: v.detach().cpu() for k, v in encoder.state_dict().items()}
    return ModelArtefact(
        kind=ARTEFACT_KIND, config=cluster.to_dict(), state=state, metadata=dict(metadata or {})
    )


def cluster_from_artefact(artefact: ModelArtefact) -> tuple[ClusterModel, dict[str, Tensor]]:
    """Read back :func:`cluster_artefact`.

    Args:
        artefact: A loaded artefact.

    Returns:
        The clusters and the encoder's ``state_dict`` (empty when none was saved).

    Raises:
        ValueError: If the artefact is not a clustering (its kind is named).
    """
    if artefact.kind != ARTEFACT_KIND:
        raise ValueError(f"model artefact of kind {artefact.kind!r} is not a {ARTEFACT_KIND!r}")
    encoder = {
        k.removeprefix(_ENCODER): v for k, v in artefact.state.items() if k.startswith(_ENCODER)
    }
    return ClusterModel.from_parts(artefact.config, artefact.state), encoder


@dataclass(frozen=True)
class DeepClusterResult:
    """What a joint training (DEC/IDEC, DESOM) gives back.

    Attributes:
        cluster: The final centroids (prototypes).
        encoder: The fine-tuned encoder (the clusters live behind it).
        decoder: The fine-tuned decoder, ``None`` when trained without one.
        train: The training loop's result (history per epoch).
        log: One record per refresh (DEC: ``epoch``, ``changed``) or per epoch (DESOM:
            ``epoch``, ``temperature``).
    """

    cluster: ClusterModel
    encoder: nn.Module = field(repr=False)
    decoder: nn.Module | None = field(repr=False)
    train: TrainResult = field(repr=False)
    log: list[dict[str, float]] = field(default_factory=list)


def embed(
    encoder: nn.Module, loader: DataLoader, device: torch.device | str = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings of every item of ``loader`` (``encoder(batch["x"])``), in its order.

    Args:
        encoder: Maps ``x`` to ``(N, D)`` embeddings.
        loader: Batches with ``x`` and ``index`` (not shuffled).
        device: A device or a name (``"auto"``).

    Returns:
        ``(z, index)``: ``(N, D)`` float64 embeddings and the items' ``index``.

    Raises:
        ValueError: If the batches carry no ``index`` or the encoder's output is not 2-D.
    """
    outputs = predict(encoder, loader, device)
    if "index" not in outputs:
        raise ValueError("clustering needs batches with an 'index' tensor (the item's position)")
    z = outputs["output"]
    if z.ndim != 2:
        raise ValueError(f"the encoder must give (N, latent) embeddings, got shape {z.shape}")
    return z.astype(np.float64), outputs["index"].astype(np.int64)


class _Encode(nn.Module):
    """``autoencoder.encode`` as a module (the autoencoder's parameters, shared)."""

    def __init__(self, autoencoder: nn.Module) -> None:
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, x: Tensor) -> Tensor:
        return self.autoencoder.encode(x)


class _Decode(nn.Module):
    """``autoencoder.decode`` as a module (the autoencoder's parameters, shared)."""

    def __init__(self, autoencoder: nn.Module) -> None:
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, z: Tensor) -> Tensor:
        return self.autoencoder.decode(z)


def split_autoencoder(autoencoder: nn.Module) -> tuple[nn.Module, nn.Module]:
    """An encoder and a decoder module for DEC/IDEC and DESOM from one autoencoder.

    Both wrap the same autoencoder (its ``encode`` and ``decode`` methods), so training
    them fine-tunes it in place; the optimiser sees each parameter once.

    Args:
        autoencoder: A module with ``encode(x) -> (N, D)`` and ``decode(z) -> x``.

    Returns:
        ``(encoder, decoder)``.

    Raises:
        TypeError: If the module lacks ``encode`` or ``decode``.
    """
    missing = [
        name for name in ("encode", "decode") if not callable(getattr(autoencoder, name, None))
    ]
    if missing:
        raise TypeError(f"{type(autoencoder).__name__} has no {' or '.join(missing)} method")
    return _Encode(autoencoder), _Decode(autoencoder)
