"""The U-Net: a per-pixel local error map and a map-level score from the IMERG inputs.

The encoder halves the map ``depth`` times (2 × 2 max pooling), so inputs must have a
height and a width that are multiples of ``2**depth`` (:attr:`UNet.multiple`); the data
pads the maps explicitly to that multiple (``rainscore.models.data.pad_to_multiple``) and
the loss masks the padding out (:func:`unet_loss`). The network never pads on its own: a
map of another size is an error naming its shape.

Two heads share the encoder:

- the **local error** head, a 1 × 1 convolution on the decoder's full-resolution features:
  one value per pixel, the local version of the target score (the local fraction error at
  the target's threshold and window);
- the **score** head, on the bottleneck features averaged over the whole map, then a small
  multilayer perceptron: one value per map, the target score.

The model is a plain ``torch.nn.Module`` configured by the frozen :class:`UNetConfig`; the
training loop (:mod:`rainscore.models.training`), not the model, knows about devices,
precision and checkpoints. Reference: Ronneberger, Fischer and Brox (2015), *U-Net:
Convolutional Networks for Biomedical Image Segmentation*, MICCAI, LNCS 9351, 234–241.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from rainscore.models.layers import NORMS, ConvBlock
from rainscore.params import dataclass_from_params

__all__ = ["NORMS", "UNet", "UNetConfig", "unet_loss", "unet_loss_fn"]


@dataclass(frozen=True)
class UNetConfig:
    """Architecture of a :class:`UNet`.

    Attributes:
        in_channels: Input channels (``len(rainscore.models.data.INPUT_CHANNELS)``).
        depth: Number of 2 × 2 poolings; inputs are multiples of ``2**depth`` in H and W.
        width: Channels of the first level; each level below doubles them.
        norm: ``"batch"``, ``"group"`` (see :func:`rainscore.models.layers.norm_layer`)
            or ``"none"``.
        dropout: Channel dropout (``Dropout2d``) probability after each level's block.
    """

    in_channels: int
    depth: int = 3
    width: int = 16
    norm: str = "batch"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("in_channels", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"unet.{name} must be a positive integer, got {value!r}")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(f"unet.depth must be a non-negative integer, got {self.depth!r}")
        if self.norm not in NORMS:
            raise ValueError(f"unet.norm must be one of {list(NORMS)}, got {self.norm!r}")
        dropout = self.dropout
        if isinstance(dropout, bool) or not math.isfinite(dropout) or not 0 <= dropout < 1:
            raise ValueError(f"unet.dropout must be in [0, 1), got {dropout!r}")

    @property
    def multiple(self) -> int:
        """Height and width of the inputs must be multiples of this (``2**depth``)."""
        return 2**self.depth

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a JSON-safe mapping (:meth:`from_dict` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> UNetConfig:
        """Build from a parameter mapping (unknown keys are an error naming them).

        Args:
            params: ``in_channels`` and, optionally, ``depth``, ``width``, ``norm``,
                ``dropout``.

        Returns:
            The validated configuration.

        Raises:
            ValueError: On an unknown key, a missing ``in_channels`` or an invalid value.
        """
        if params is not None and isinstance(params, Mapping) and "in_channels" not in params:
            raise ValueError(f"unet.in_channels is required, got keys {sorted(params)}")
        return dataclass_from_params(cls, params, section="unet")


class UNet(nn.Module):
    """U-Net with a per-pixel local error head and a map-level score head.

    Args:
        config: The architecture.

    Attributes:
        config: The architecture.
        output_names: Names of the two outputs of :meth:`forward`, in order (read by
            :func:`rainscore.models.training.predict`).
    """

    output_names = ("local_error", "score")

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.width * 2**level for level in range(config.depth + 1)]
        self.encoder = nn.ModuleList(
            ConvBlock(c_in, c_out, norm=config.norm, dropout=config.dropout)
            for c_in, c_out in zip([config.in_channels, *widths[:-1]], widths, strict=True)
        )
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[level + 1], widths[level], kernel_size=2, stride=2)
            for level in reversed(range(config.depth))
        )
        self.decoder = nn.ModuleList(
            ConvBlock(2 * widths[level], widths[level], norm=config.norm, dropout=config.dropout)
            for level in reversed(range(config.depth))
        )
        self.local_head = nn.Conv2d(widths[0], 1, kernel_size=1)
        self.score_head = nn.Sequential(
            nn.Linear(widths[-1], widths[-1]), nn.ReLU(inplace=True), nn.Linear(widths[-1], 1)
        )

    @property
    def multiple(self) -> int:
        """Height and width of the inputs must be multiples of this (``2**depth``)."""
        return self.config.multiple

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Estimate the local error map and the map score.

        Args:
            x: Inputs ``(N, in_channels, H, W)``, H and W multiples of :attr:`multiple`.

        Returns:
            ``(local_error, score)``: ``(N, 1, H, W)`` and ``(N,)``.

        Raises:
            ValueError: If ``x`` is not 4-D with ``in_channels`` channels, or H or W is not
                a multiple of :attr:`multiple` (the message names the shape).
        """
        skips = self._encode(x)
        x = skips[-1]
        score = self.score_head(x.mean(dim=(-2, -1))).squeeze(-1)
        for up, block, skip in zip(self.up, self.decoder, reversed(skips[:-1]), strict=True):
            x = block(torch.cat([up(x), skip], dim=1))
        return self.local_head(x), score

    def score(self, x: Tensor) -> Tensor:
        """The map score alone: the encoder and the score head, without the decoder.

        Equal to ``forward(x)[1]`` (the score head reads the bottleneck), at the cost of the
        encoder only: inference and conformal calibration need no local error map.

        Args:
            x: Inputs ``(N, in_channels, H, W)``, H and W multiples of :attr:`multiple`.

        Returns:
            ``(N,)`` scores.

        Raises:
            ValueError: As :meth:`forward`.
        """
        bottleneck = self._encode(x)[-1]
        return self.score_head(bottleneck.mean(dim=(-2, -1))).squeeze(-1)

    def _encode(self, x: Tensor) -> list[Tensor]:
        """The encoder's output at every level (the skips), the bottleneck last."""
        if x.ndim != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"UNet input must be (N, {self.config.in_channels}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        height, width = x.shape[-2:]
        if height % self.multiple or width % self.multiple:
            raise ValueError(
                f"UNet input shape {tuple(x.shape)}: H={height} and W={width} must be "
                f"multiples of {self.multiple} (2**depth, depth={self.config.depth}); "
                "pad the maps with rainscore.models.data.pad_to_multiple"
            )
        skips = []
        for level, block in enumerate(self.encoder):
            if level:
                x = F.max_pool2d(x, kernel_size=2)
            x = block(x)
            skips.append(x)
        return skips


def _masked_mse(predicted: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over the ``mask`` elements (0 where none; NaN targets outside).

    Computed in float32 whatever the precision of ``predicted`` (mixed precision).
    """
    predicted, mask = predicted.float(), mask.to(torch.bool)
    target = torch.where(mask, target.to(predicted.dtype), torch.zeros_like(predicted))
    squared = torch.where(mask, (predicted - target) ** 2, torch.zeros_like(predicted))
    return squared.sum() / mask.sum().clamp(min=1)


def unet_loss(
    outputs: tuple[Tensor, Tensor], batch: Mapping[str, Tensor], score_weight: float = 1.0
) -> Tensor:
    """Masked loss of the two heads: pixel MSE + ``score_weight`` × score MSE.

    The pixel term averages over the pixels of ``pixel_mask`` (radar coverage inside the
    box: padding and pixels without radar never count); the score term over the maps of
    ``score_mask`` (maps where the target is defined: a map too dry for the target score
    trains the local error head only). A term with no masked element is 0. Targets outside
    their mask may be NaN.

    Args:
        outputs: ``(local_error (N, 1, H, W), score (N,))`` from :meth:`UNet.forward`.
        batch: ``pixel_target`` and ``pixel_mask`` ``(N, 1, H, W)``, ``score`` and
            ``score_mask`` ``(N,)``.
        score_weight: Weight of the score term.

    Returns:
        The scalar loss.

    Raises:
        ValueError: If a target's shape differs from its output's (both named).
    """
    local_error, score = outputs
    for name, output in (("pixel_target", local_error), ("pixel_mask", local_error)):
        if tuple(batch[name].shape) != tuple(output.shape):
            raise ValueError(
                f"unet_loss: batch[{name!r}] has shape {tuple(batch[name].shape)}, "
                f"the local error map {tuple(output.shape)}"
            )
    for name in ("score", "score_mask"):
        if tuple(batch[name].shape) != tuple(score.shape):
            raise ValueError(
                f"unet_loss: batch[{name!r}] has shape {tuple(batch[name].shape)}, "
                f"the score {tuple(score.shape)}"
            )
    pixel = _masked_mse(local_error, batch["pixel_target"], batch["pixel_mask"])
    return pixel + score_weight * _masked_mse(score, batch["score"], batch["score_mask"])


def unet_loss_fn(score_weight: float = 1.0) -> Callable[[nn.Module, Mapping[str, Tensor]], Tensor]:
    """The training loss of a U-Net for :func:`rainscore.models.training.fit`.

    Args:
        score_weight: Weight of the score term of :func:`unet_loss`.

    Returns:
        ``loss(model, batch)``: runs the model on ``batch["x"]`` and applies
        :func:`unet_loss`.
    """

    def loss(model: nn.Module, batch: Mapping[str, Tensor]) -> Tensor:
        return unet_loss(model(batch["x"]), batch, score_weight)

    return loss
