"""DESOM: a self-organising map in the latent space, trained jointly with the autoencoder.

Forest, Lebbah, Azzag and Lacaille (2019), *Deep embedded self-organizing map: joint
representation learning and self-organization*, ESANN. A grid of ``rows × cols``
prototypes ``m_k`` lives in the latent space; each embedding ``z_i`` has a best-matching
unit ``b_i = argmin_k ||z_i - m_k||²`` and the SOM loss pulls every prototype toward it,
weighted by the Gaussian neighbourhood of the two units on the grid:

``L_som = mean_i sum_k K_T(d(b_i, k)) ||z_i - m_k||²``, ``K_T(d) = exp(-d² / T²)``,

with ``d`` the Manhattan distance between grid cells
(:func:`~rainscore.models.clustering.base.grid_distances`). The temperature decreases
exponentially over the training iterations from ``t_max`` to ``t_min``:
``T(t) = t_max (t_min / t_max) ** (t / (t_total - 1))``, so that the map first orders
itself as a whole, then each unit specialises. The loss is ``L_r + gamma × L_som`` with
the decoder; without one (an identity encoder on fixed embeddings) it is a plain SOM
trained by gradient descent. The best-matching unit is chosen without gradient; the
gradient of ``L_som`` moves both the prototypes and the embeddings.

Training goes through :func:`rainscore.models.training.fit` (no validation loader: the
temperature changes the loss from one iteration to the next). The prototypes start on the
plane of the training embeddings' first two principal components (:func:`linear_init`,
Kohonen's linear initialisation): columns spread along the first over ±1 standard
deviation, rows along the second, so the map starts ordered. Started instead at random
training embeddings, a 1 × 6 map on points along a line ended with a twisted end unit for
half the seeds unless trained several times longer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from rainscore.models.clustering.base import (
    ClusterModel,
    DeepClusterResult,
    embed,
    grid_distances,
    squared_distances,
)
from rainscore.models.clustering.dec import ReconstructionLoss, reconstruction_mse
from rainscore.models.training import TrainConfig, fit, make_loader, pick_device
from rainscore.params import dataclass_from_params

__all__ = ["DESOM", "DESOMConfig", "fit_desom", "linear_init", "som_loss", "temperature_at"]


@dataclass(frozen=True)
class DESOMConfig:
    """Settings of :func:`fit_desom`.

    Attributes:
        rows: Rows of the SOM grid.
        cols: Columns of the SOM grid (``rows × cols`` units).
        som_weight: ``gamma``, the weight of the SOM loss beside the reconstruction.
        t_max: Neighbourhood temperature at the first iteration (grid cells).
        t_min: Temperature at the last iteration (``0 < t_min <= t_max``).
    """

    rows: int = 4
    cols: int = 4
    som_weight: float = 0.01
    t_max: float = 5.0
    t_min: float = 0.1

    def __post_init__(self) -> None:
        for name, low in (("rows", 1), ("cols", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"desom.{name} must be an integer >= {low}, got {value!r}")
        for name in ("som_weight", "t_max", "t_min"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (math.isfinite(value) and value > 0):
                raise ValueError(f"desom.{name} must be a finite number > 0, got {value!r}")
        if self.t_min > self.t_max:
            raise ValueError(
                f"desom.t_min ({self.t_min}) must not exceed desom.t_max ({self.t_max})"
            )

    @property
    def n_units(self) -> int:
        """``rows × cols``."""
        return self.rows * self.cols

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None, *, section: str = "desom") -> DESOMConfig:
        """Build from parameters; unknown keys and bad values are errors naming them."""
        return dataclass_from_params(cls, params, section=section)


def temperature_at(step: int, total_steps: int, t_max: float, t_min: float) -> float:
    """The neighbourhood temperature at iteration ``step`` of ``total_steps`` (from 0).

    Args:
        step: Iteration, 0 for the first.
        total_steps: Iterations in the run.
        t_max: Temperature at step 0.
        t_min: Temperature at the last step.

    Returns:
        ``t_max (t_min / t_max) ** (step / (total_steps - 1))``, ``t_min`` from the last step
        on (``t_max`` for a single-step run).
    """
    if total_steps <= 1:
        return float(t_max)
    fraction = min(step / (total_steps - 1), 1.0)
    return float(t_max * (t_min / t_max) ** fraction)


def linear_init(z: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Prototypes on a regular grid in the plane of the first two principal components.

    Unit ``(r, c)`` sits at ``mean + a_c s_1 v_1 + b_r s_2 v_2``, with ``a`` and ``b``
    evenly spaced in ``[-1, 1]`` (0 for a single row or column), ``v`` the principal axes
    and ``s`` the standard deviations along them.

    Args:
        z: ``(N, D)`` embeddings, ``N >= 2``.
        rows: Rows of the grid (along the second component).
        cols: Columns of the grid (along the first component).

    Returns:
        ``(rows × cols, D)`` prototypes, row by row.
    """
    mean = z.mean(axis=0)
    _, singular, axes = np.linalg.svd(z - mean, full_matrices=False)
    std = singular / np.sqrt(max(len(z) - 1, 1))
    axes = np.vstack([axes, np.zeros((2, z.shape[1]))])[:2]
    std = np.concatenate([std, np.zeros(2)])[:2]
    a = np.linspace(-1, 1, cols) if cols > 1 else np.zeros(1)
    b = np.linspace(-1, 1, rows) if rows > 1 else np.zeros(1)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return mean + np.outer(a[c] * std[0], axes[0]) + np.outer(b[r] * std[1], axes[1])


def som_loss(z: Tensor, prototypes: Tensor, grid: Tensor, temperature: float) -> Tensor:
    """``mean_i sum_k exp(-d(b_i, k)² / T²) ||z_i - m_k||²`` (best-matching units ``b_i``).

    Args:
        z: ``(N, D)`` embeddings.
        prototypes: ``(K, D)`` prototypes.
        grid: ``(K, K)`` grid distances between units.
        temperature: ``T`` (> 0).

    Returns:
        The scalar loss.
    """
    squared = squared_distances(z, prototypes)
    bmu = squared.detach().argmin(dim=1)
    weights = torch.exp(-grid[bmu].pow(2) / temperature**2)
    return (weights * squared).sum(dim=1).mean()


class DESOM(nn.Module):
    """An encoder, an optional decoder and the SOM's prototypes as parameters.

    ``forward(x)`` gives ``{"z": (N, D)}`` and, with a decoder, ``"reconstruction"``.

    Args:
        encoder: ``x -> (N, D)`` embeddings.
        decoder: ``(N, D) -> x``'s shape, or ``None``.
        prototypes: ``(rows × cols, D)`` initial prototypes, row by row.
        rows: Rows of the grid.
        cols: Columns of the grid.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder: nn.Module | None,
        prototypes: Tensor,
        rows: int,
        cols: int,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.prototypes = nn.Parameter(torch.as_tensor(prototypes, dtype=torch.float32).clone())
        self.grid_shape = (rows, cols)
        self.register_buffer(
            "grid", torch.from_numpy(grid_distances(rows, cols)).float(), persistent=False
        )

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Embeddings and (with a decoder) the reconstruction."""
        z = self.encoder(x)
        outputs = {"z": z}
        if self.decoder is not None:
            outputs["reconstruction"] = self.decoder(z)
        return outputs

    def loss(
        self,
        outputs: Mapping[str, Tensor],
        batch: dict[str, Tensor],
        temperature: float,
        som_weight: float,
        reconstruction_loss: ReconstructionLoss = reconstruction_mse,
    ) -> Tensor:
        """``L_r + gamma × L_som`` (``gamma × L_som`` without a reconstruction)."""
        z = outputs["z"]
        with torch.autocast(device_type=z.device.type, enabled=False):
            loss = som_weight * som_loss(z.float(), self.prototypes.float(), self.grid, temperature)
        if "reconstruction" in outputs:
            loss = loss + reconstruction_loss(outputs["reconstruction"], batch)
        return loss


def fit_desom(
    encoder: nn.Module,
    train_loader: DataLoader,
    config: DESOMConfig,
    loop: TrainConfig,
    *,
    decoder: nn.Module | None = None,
    reconstruction_loss: ReconstructionLoss = reconstruction_mse,
) -> DeepClusterResult:
    """Train DESOM for ``loop.epochs`` epochs.

    Args:
        encoder: Pretrained encoder, ``x -> (N, D)``, fine-tuned in place
            (``nn.Identity()`` on fixed embeddings: a SOM alone).
        train_loader: Training batches with ``x`` and ``index``, shuffled.
        config: The SOM's settings.
        loop: The training loop's settings.
        decoder: The autoencoder's decoder, fine-tuned in place; ``None``: SOM loss alone.
        reconstruction_loss: ``reconstruction_loss(reconstruction, batch)``.

    Returns:
        The map (``method="desom"``, ``grid=(rows, cols)``; ``info``: ``epochs``,
        ``t_final``), the fine-tuned modules, the loop's result, and one log record per
        epoch (``epoch``, ``temperature`` at its last iteration).

    Raises:
        ValueError: If there are fewer training maps than units, or the batches carry no
            ``index``.
    """
    device = pick_device(loop.device)
    ordered = make_loader(train_loader.dataset, loop, shuffle=False, device=device)
    z, _ = embed(encoder, ordered, device)
    if len(z) < max(config.n_units, 2):
        raise ValueError(
            f"desom grid {config.rows}×{config.cols} needs at least {max(config.n_units, 2)} "
            f"training maps, got {len(z)}"
        )
    start = linear_init(z, config.rows, config.cols)
    model = DESOM(encoder, decoder, torch.from_numpy(start), config.rows, config.cols)
    total_steps = loop.epochs * len(train_loader)
    state = {"step": 0, "temperature": config.t_max}
    log: list[dict[str, float]] = []

    def loss_fn(module: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        temperature = temperature_at(state["step"], total_steps, config.t_max, config.t_min)
        if module.training:
            state["step"] += 1
            state["temperature"] = temperature
        outputs = module(batch["x"])
        return module.loss(outputs, batch, temperature, config.som_weight, reconstruction_loss)

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        log.append({"epoch": epoch, "temperature": state["temperature"]})

    result = fit(model, train_loader, None, loss_fn, loop, on_epoch=on_epoch)
    cluster = ClusterModel(
        method="desom",
        centroids=model.prototypes.detach().cpu().double().numpy(),
        grid=(config.rows, config.cols),
        info={"epochs": len(result.history), "t_final": state["temperature"]},
    )
    model.to("cpu")
    return DeepClusterResult(
        cluster=cluster, encoder=encoder, decoder=decoder, train=result, log=log
    )
