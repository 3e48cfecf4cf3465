"""Convolutional building blocks shared by the networks (the U-Net, the autoencoder).

- :data:`NORMS` and :func:`norm_layer`: the normalisation after each convolution;
- :class:`ConvBlock`: two 3 × 3 convolutions, each followed by the normalisation and a ReLU,
  then channel dropout.

The blocks keep the map's height and width (padding 1); the networks halve and double them
between blocks.
"""

from __future__ import annotations

from torch import nn

__all__ = ["NORMS", "ConvBlock", "norm_layer"]

NORMS = ("batch", "group", "none")
"""Normalisation layers after each convolution: batch norm, group norm or none."""

MAX_GROUPS = 8
"""Group norm uses the largest number of groups up to this that divides the channels."""


def norm_layer(norm: str, channels: int) -> nn.Module:
    """The normalisation layer ``norm`` (one of :data:`NORMS`) for ``channels`` channels.

    Group norm uses the largest number of groups up to :data:`MAX_GROUPS` that divides
    ``channels``; ``"none"`` is the identity.

    Raises:
        ValueError: If ``norm`` is not one of :data:`NORMS`.
    """
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "group":
        groups = max(g for g in range(1, MAX_GROUPS + 1) if channels % g == 0)
        return nn.GroupNorm(groups, channels)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {list(NORMS)}, got {norm!r}")


class ConvBlock(nn.Sequential):
    """Two 3 × 3 convolutions, each followed by the normalisation and a ReLU, then dropout.

    The convolutions have a bias only without normalisation (a norm layer has its own
    shift). The layers are numbered as in an ``nn.Sequential`` (``0`` the first
    convolution…), which is how their weights are named in a ``state_dict``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels (of both convolutions).
        norm: One of :data:`NORMS`.
        dropout: ``Dropout2d`` probability after the block (none when 0).
    """

    def __init__(self, in_channels: int, out_channels: int, *, norm: str, dropout: float) -> None:
        bias = norm == "none"
        layers: list[nn.Module] = []
        for channels in (in_channels, out_channels):
            layers += [
                nn.Conv2d(channels, out_channels, kernel_size=3, padding=1, bias=bias),
                norm_layer(norm, out_channels),
                nn.ReLU(inplace=True),
            ]
        if dropout > 0:
            layers.append(nn.Dropout2d(dropout))
        super().__init__(*layers)
