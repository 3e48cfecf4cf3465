"""DEC / IDEC / DCEC: clustering trained jointly with the encoder.

Deep embedded clustering (Xie, Girshick and Farhadi 2016) learns centroids ``mu_j`` in the
latent space together with the encoder by making the soft assignments ``q_ij``
(:func:`~rainscore.models.clustering.base.student_t`) match a sharpened copy of
themselves, the target distribution ``p_ij = (q_ij² / f_j) / sum_j' (q_ij'² / f_j')``
with ``f_j = sum_i q_ij`` (:func:`target_distribution`), through
``KL(P || Q) = sum_i sum_j p_ij log(p_ij / q_ij)`` (averaged over the maps of a batch).
IDEC (Guo, Gao, Liu and Yin 2017, *Improved deep embedded clustering with local structure
preservation*, IJCAI) keeps the decoder so that the latent space does not collapse: the
loss is ``L_r + gamma × KL(P || Q)`` (eq. 5, ``gamma = 0.1``); with a convolutional
autoencoder this is DCEC (Guo, Liu, Zhu and Yin 2017, ICONIP). Without a decoder the loss
is ``gamma × KL`` alone (DEC).

As in those papers, the centroids start from k-means on the pretrained embeddings, the
target distribution is held fixed between refreshes (here every ``update_interval``
epochs, over the whole training set) and training stops at a refresh where fewer than
``tol`` of the maps changed cluster since the previous one. The optimisation is the
project's one loop (:func:`rainscore.models.training.fit`): the loss reads each map's row
of ``P`` by the batch's ``index``; the refresh and the stopping rule are its ``on_epoch``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

from rainscore.models.clustering.base import (
    ClusterModel,
    DeepClusterResult,
    embed,
    student_t,
)
from rainscore.models.clustering.kmeans import KMeansConfig, fit_kmeans
from rainscore.models.training import TrainConfig, fit, make_loader, pick_device, predict
from rainscore.params import dataclass_from_params

__all__ = [
    "DECConfig",
    "DeepClustering",
    "ReconstructionLoss",
    "dec_loss",
    "fit_dec",
    "kl_divergence",
    "reconstruction_mse",
    "target_distribution",
]

logger = logging.getLogger(__name__)

ReconstructionLoss = Callable[[Tensor, dict[str, Tensor]], Tensor]
"""``reconstruction_loss(reconstruction, batch) -> scalar``."""


@dataclass(frozen=True)
class DECConfig:
    """Settings of :func:`fit_dec`.

    Attributes:
        n_clusters: Number of clusters ``K``.
        alpha: Degrees of freedom of the Student-t kernel (1 in the papers).
        cluster_weight: ``gamma``, the weight of the KL term (IDEC: 0.1).
        update_interval: Epochs between refreshes of the target distribution.
        tol: Stop at a refresh where fewer than this fraction of the maps changed cluster.
        n_init: k-means starts for the initial centroids.
        seed: Seed of the k-means starts.
    """

    n_clusters: int = 8
    alpha: float = 1.0
    cluster_weight: float = 0.1
    update_interval: int = 1
    tol: float = 0.001
    n_init: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low in (("n_clusters", 1), ("update_interval", 1), ("n_init", 1), ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"dec.{name} must be an integer >= {low}, got {value!r}")
        for name in ("alpha", "cluster_weight"):
            value = getattr(self, name)
            if isinstance(value, bool) or not (math.isfinite(value) and value > 0):
                raise ValueError(f"dec.{name} must be a finite number > 0, got {value!r}")
        if isinstance(self.tol, bool) or not 0 <= self.tol < 1:
            raise ValueError(f"dec.tol must be a fraction in [0, 1), got {self.tol!r}")

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None, *, section: str = "dec") -> DECConfig:
        """Build from parameters; unknown keys and bad values are errors naming them."""
        return dataclass_from_params(cls, params, section=section)


def target_distribution(q: Tensor) -> Tensor:
    """DEC's target distribution: ``p_ij ∝ q_ij² / f_j``, ``f_j = sum_i q_ij``, rows sum to 1.

    Args:
        q: ``(N, K)`` soft assignments (over the whole set the target is computed on).

    Returns:
        ``(N, K)`` target, without gradient.
    """
    q = q.detach()
    weight = q.pow(2) / q.sum(dim=0, keepdim=True)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_divergence(p: Tensor, q: Tensor) -> Tensor:
    """``KL(P || Q)`` summed over clusters and averaged over rows (0 log 0 = 0).

    Args:
        p: ``(N, K)`` target.
        q: ``(N, K)`` soft assignments.

    Returns:
        The scalar divergence.
    """
    terms = torch.where(p > 0, p * (torch.log(p.clamp_min(1e-30)) - torch.log(q)), 0.0)
    return terms.sum(dim=1).mean()


def reconstruction_mse(reconstruction: Tensor, batch: dict[str, Tensor]) -> Tensor:
    """Mean squared error of the reconstruction of ``batch["x"]``, inside ``batch["valid"]``.

    Args:
        reconstruction: The decoder's output, shaped like ``x``.
        batch: ``x`` and, for padded maps, ``valid`` (``(N, 1, H, W)`` bool, broadcast
            over the channels); without ``valid`` every value counts.

    Returns:
        The scalar loss.
    """
    x = batch["x"]
    error = (reconstruction.float() - x.float()).pow(2)
    valid = batch.get("valid")
    if valid is None:
        return error.mean()
    mask = valid.expand_as(error)
    return (error * mask).sum() / mask.sum().clamp_min(1)


class DeepClustering(nn.Module):
    """An encoder, an optional decoder and the centroids as parameters.

    ``forward(x)`` gives ``{"z": (N, D), "q": (N, K)}`` and, with a decoder,
    ``"reconstruction"``. The soft assignments are computed in float32 even under
    mixed precision.

    Args:
        encoder: ``x -> (N, D)`` embeddings.
        decoder: ``(N, D) -> x``'s shape, or ``None`` (DEC).
        centroids: ``(K, D)`` initial centroids.
        alpha: Degrees of freedom of the Student-t kernel.
    """

    def __init__(
        self, encoder: nn.Module, decoder: nn.Module | None, centroids: Tensor, alpha: float
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.centroids = nn.Parameter(torch.as_tensor(centroids, dtype=torch.float32).clone())
        self.alpha = float(alpha)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        """Embeddings, soft assignments and (with a decoder) the reconstruction."""
        z = self.encoder(x)
        with torch.autocast(device_type=z.device.type, enabled=False):
            q = student_t(z.float(), self.centroids.float(), self.alpha)
        outputs = {"z": z, "q": q}
        if self.decoder is not None:
            outputs["reconstruction"] = self.decoder(z)
        return outputs


def dec_loss(
    outputs: Mapping[str, Tensor],
    target: Tensor,
    batch: dict[str, Tensor],
    cluster_weight: float,
    reconstruction_loss: ReconstructionLoss = reconstruction_mse,
) -> Tensor:
    """IDEC's loss ``L_r + gamma × KL(P || Q)`` (``gamma × KL`` without a reconstruction).

    Args:
        outputs: :class:`DeepClustering`'s outputs for the batch.
        target: ``(N, K)`` rows of the target distribution for the batch's maps.
        batch: The batch (for the reconstruction loss).
        cluster_weight: ``gamma``.
        reconstruction_loss: ``reconstruction_loss(reconstruction, batch)``.

    Returns:
        The scalar loss.
    """
    with torch.autocast(device_type=target.device.type, enabled=False):
        loss = cluster_weight * kl_divergence(target.float(), outputs["q"].float())
    if "reconstruction" in outputs:
        loss = loss + reconstruction_loss(outputs["reconstruction"], batch)
    return loss


def fit_dec(
    encoder: nn.Module,
    train_loader: DataLoader,
    config: DECConfig,
    loop: TrainConfig,
    *,
    decoder: nn.Module | None = None,
    reconstruction_loss: ReconstructionLoss = reconstruction_mse,
) -> DeepClusterResult:
    """Train DEC (no decoder) or IDEC/DCEC (with the autoencoder's decoder).

    The encoder (and decoder) should be pretrained: the initial centroids are k-means
    (``config.n_init`` starts, ``config.seed``) on its embeddings of the training maps.
    Training runs at most ``loop.epochs`` epochs through
    :func:`~rainscore.models.training.fit` without a validation loader (the target moves,
    so validation losses of different epochs do not compare); it stops early at a refresh
    where fewer than ``config.tol`` of the maps changed cluster.

    Args:
        encoder: Pretrained encoder, ``x -> (N, D)``; fine-tuned in place.
        train_loader: Training batches with ``x`` and ``index`` (the item's position in
            the dataset, which the target distribution is indexed by), shuffled.
        config: The clustering settings.
        loop: The training loop's settings (device, learning rate, epochs, seed…).
        decoder: The autoencoder's decoder (IDEC/DCEC), fine-tuned in place; ``None``: DEC.
        reconstruction_loss: ``reconstruction_loss(reconstruction, batch)``.

    Returns:
        The clusters (``method="dec"``; ``info``: ``epochs``, ``stopped_early``,
        ``changed``, the last refresh's fraction of changed assignments), the fine-tuned
        modules, the loop's result, and one log record per refresh.

    Raises:
        ValueError: If the batches carry no ``index``, or there are fewer maps than
            clusters.
    """
    device = pick_device(loop.device)
    ordered = make_loader(train_loader.dataset, loop, shuffle=False, device=device)
    z, _ = embed(encoder, ordered, device)
    start = fit_kmeans(
        z,
        KMeansConfig(
            n_clusters=config.n_clusters, n_init=config.n_init, seed=config.seed, alpha=config.alpha
        ),
        method="dec",
    )
    model = DeepClustering(encoder, decoder, torch.from_numpy(start.centroids.copy()), config.alpha)
    n_items = len(train_loader.dataset)
    state: dict[str, Any] = {"target": None, "labels": None}
    log: list[dict[str, float]] = []

    def refresh(epoch: int) -> float:
        outputs = predict(model, ordered, device, keep=("q",))
        q = torch.zeros(n_items, config.n_clusters)
        q[torch.from_numpy(outputs["index"])] = torch.from_numpy(outputs["q"])
        state["target"] = target_distribution(q).to(device)
        labels = q.argmax(dim=1)
        previous = state["labels"]
        changed = math.nan if previous is None else float((labels != previous).float().mean())
        state["labels"] = labels
        log.append({"epoch": epoch, "changed": changed})
        return changed

    def loss_fn(module: nn.Module, batch: dict[str, Tensor]) -> Tensor:
        outputs = module(batch["x"])
        target = state["target"][batch["index"].long()]
        return dec_loss(outputs, target, batch, config.cluster_weight, reconstruction_loss)

    def on_epoch(epoch: int, metrics: dict[str, float]) -> bool:
        if epoch % config.update_interval:
            return False
        changed = refresh(epoch)
        logger.info("DEC epoch %d: %.4f of the maps changed cluster", epoch, changed)
        return changed < config.tol

    refresh(0)
    result = fit(model, train_loader, None, loss_fn, loop, on_epoch=on_epoch)
    cluster = ClusterModel(
        method="dec",
        centroids=model.centroids.detach().cpu().double().numpy(),
        alpha=config.alpha,
        info={
            "epochs": len(result.history),
            "stopped_early": result.stopped_early,
            "changed": log[-1]["changed"] if len(log) > 1 else None,
            "kmeans_inertia": start.info["inertia"],
        },
    )
    model.to("cpu")
    return DeepClusterResult(
        cluster=cluster, encoder=encoder, decoder=decoder, train=result, log=log
    )
