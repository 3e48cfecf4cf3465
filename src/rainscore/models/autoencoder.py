"""A convolutional autoencoder of IMERG maps: a small latent vector per map.

The model (:class:`Autoencoder`) reads the same IMERG-side inputs as the U-Net
(:data:`rainscore.models.data.INPUT_CHANNELS`, standardised by
:class:`~rainscore.models.data.NormStats` and padded at the bottom and right to the
stride multiple ``2**depth`` by :class:`~rainscore.models.data.MapDataset`):

- the **encoder** is the U-Net's contracting path (a :class:`~rainscore.models.layers.ConvBlock`
  per level, 2 × 2 max pooling between levels, ``width`` channels doubled at each level),
  then a linear layer from the flattened bottleneck to the ``latent_dim`` latent vector;
- the **decoder** mirrors it: a linear layer back to the bottleneck's shape, then per level
  a 2 × 2 transposed convolution and a block, and a 1 × 1 convolution to the channels.

The linear layers fix the map's shape: a model is built for the padded shape of the maps it
is trained on (``AutoencoderConfig.map_shape``, the box's grid), and a map of another shape
is an error naming both (larger regions are scored by tiles of the training shape). This is
the architecture of Guo et al. (2017), *Deep Clustering with Convolutional Autoencoders*,
ICONIP, LNCS 10635, 373–382, whose encoder the deep clustering methods fine-tune
(:meth:`Autoencoder.encode`, :meth:`Autoencoder.decode`).

The loss (:func:`reconstruction_loss`) is the MSE over the channels of the pixels inside the
box (``valid``): the padding is never counted. It runs in the one training loop
(:func:`rainscore.models.training.fit`) through :func:`autoencoder_loss_fn`.

The autoencoder needs no radar, so it learns from **every IMERG map**, the maps without a
radar-based score included; the evaluation stays honest through :func:`autoencoder_roles`:
the maps of ``training_split``'s ``train`` blocks and the unlabelled maps more than the
split's ``gap`` away from every validation and test map train it, the ``validation`` maps
early-stop and tune it, and the ``test`` and ``gap`` maps (and the unlabelled maps near
validation or test maps) are held out. :class:`AutoencoderRecipe`, :func:`train_autoencoder`
and :func:`autoencoder_objective` are the recipe that tuning and the final fit share (as
:mod:`rainscore.models.experiment` is for the U-Net); :func:`embed` gives the latent vectors.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import torch
from torch import Tensor, nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from rainscore.models.artefacts import ModelArtefact
from rainscore.models.data import INPUT_CHANNELS, MapDataset, NormStats
from rainscore.models.layers import NORMS, ConvBlock
from rainscore.models.study import loss_objective
from rainscore.models.training import (
    LossFn,
    TrainConfig,
    TrainResult,
    fit,
    make_loader,
    pick_device,
    predict,
    seed_everything,
)
from rainscore.models.tuning import Dimension
from rainscore.params import dataclass_from_params

__all__ = [
    "KIND",
    "ROLES",
    "TUNABLE",
    "UNLABELLED",
    "Autoencoder",
    "AutoencoderConfig",
    "AutoencoderData",
    "AutoencoderRecipe",
    "autoencoder_artefact",
    "autoencoder_from_artefact",
    "autoencoder_loss_fn",
    "autoencoder_objective",
    "autoencoder_roles",
    "embed",
    "embed_maps",
    "reconstruction_loss",
    "train_autoencoder",
]

logger = logging.getLogger(__name__)

KIND = "autoencoder"
"""The artefact kind of an autoencoder (:class:`~rainscore.models.artefacts.ModelArtefact`)."""

UNLABELLED = "unlabelled"
"""The ``split`` of a map outside ``training_split`` (no radar-based score)."""

ROLES = ("train", "validation", "held_out")
"""What a map does for the autoencoder: trains it, early-stops and tunes it, or neither."""

_ARCH_FIELDS = ("depth", "width", "latent_dim", "norm", "dropout")
_LOOP_FIELDS = ("batch_size", "learning_rate", "weight_decay", "grad_clip")
TUNABLE: tuple[str, ...] = (*_ARCH_FIELDS, *_LOOP_FIELDS)
"""The hyper-parameters a search space may name: the architecture and the loop's
optimisation settings."""


def _positive_int(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value >= 1


@dataclass(frozen=True)
class AutoencoderConfig:
    """Architecture of an :class:`Autoencoder`.

    Attributes:
        in_channels: Input channels (``len(rainscore.models.data.INPUT_CHANNELS)``).
        map_shape: ``(H, W)`` of the maps before padding (the box's grid); ``None`` until
            the data are known (:meth:`for_maps`); a model needs it.
        depth: Number of 2 × 2 poolings; the maps are padded to multiples of ``2**depth``.
        width: Channels of the first level; each level below doubles them.
        latent_dim: Length of the latent vector (about 10 to 32).
        norm: ``"batch"``, ``"group"`` or ``"none"`` (:data:`rainscore.models.layers.NORMS`).
        dropout: Channel dropout probability after each block.
    """

    in_channels: int
    map_shape: tuple[int, int] | None = None
    depth: int = 3
    width: int = 16
    latent_dim: int = 16
    norm: str = "batch"
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("in_channels", "width", "latent_dim"):
            value = getattr(self, name)
            if not _positive_int(value):
                raise ValueError(f"autoencoder.{name} must be a positive integer, got {value!r}")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ValueError(
                f"autoencoder.depth must be a non-negative integer, got {self.depth!r}"
            )
        if self.map_shape is not None:
            shape = tuple(self.map_shape)
            if len(shape) != 2 or not all(_positive_int(v) for v in shape):
                raise ValueError(
                    f"autoencoder.map_shape must be two positive integers (H, W), "
                    f"got {self.map_shape!r}"
                )
            object.__setattr__(self, "map_shape", shape)
        if self.norm not in NORMS:
            raise ValueError(f"autoencoder.norm must be one of {list(NORMS)}, got {self.norm!r}")
        dropout = self.dropout
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, int | float)
            or not math.isfinite(dropout)
            or not 0 <= dropout < 1
        ):
            raise ValueError(f"autoencoder.dropout must be in [0, 1), got {dropout!r}")

    @property
    def multiple(self) -> int:
        """The maps are padded to multiples of this (``2**depth``)."""
        return 2**self.depth

    @property
    def padded_shape(self) -> tuple[int, int]:
        """``map_shape`` padded to :attr:`multiple` (the model's input height and width).

        Raises:
            ValueError: If ``map_shape`` is not set.
        """
        if self.map_shape is None:
            raise ValueError(
                "autoencoder.map_shape is not set: the model is built for the maps' grid "
                "(AutoencoderConfig.for_maps)"
            )
        return tuple(n + -n % self.multiple for n in self.map_shape)  # type: ignore[return-value]

    def for_maps(self, map_shape: tuple[int, int]) -> AutoencoderConfig:
        """The configuration for maps of ``map_shape`` ``(H, W)`` (before padding)."""
        return dataclasses.replace(self, map_shape=tuple(map_shape))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a JSON-safe mapping (:meth:`from_dict` reads it back)."""
        out = dataclasses.asdict(self)
        out["map_shape"] = None if self.map_shape is None else list(self.map_shape)
        return out

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, section: str = "autoencoder"
    ) -> AutoencoderConfig:
        """Build from a parameter mapping (unknown keys are an error naming them).

        Args:
            params: ``in_channels`` and, optionally, ``map_shape``, ``depth``, ``width``,
                ``latent_dim``, ``norm``, ``dropout``.
            section: The mapping's place in the parameters, for the messages.

        Returns:
            The validated configuration.

        Raises:
            ValueError: On an unknown key, a missing ``in_channels`` or an invalid value
                (named ``<section>.<key>``).
        """
        if isinstance(params, Mapping) and "in_channels" not in params:
            raise ValueError(f"{section}.in_channels is required, got keys {sorted(params)}")
        try:
            return dataclass_from_params(cls, params, section=section)
        except ValueError as err:
            raise ValueError(str(err).replace("autoencoder.", f"{section}.")) from None


class Autoencoder(nn.Module):
    """Convolutional autoencoder: maps ``(N, C, H', W')`` ↔ latent vectors ``(N, latent_dim)``.

    Args:
        config: The architecture, with ``map_shape`` set.

    Attributes:
        config: The architecture.
        output_names: Names of the outputs of :meth:`forward`, in order (read by
            :func:`rainscore.models.training.predict`).

    Raises:
        ValueError: If ``config.map_shape`` is not set.
    """

    output_names = ("reconstruction", "latent")

    def __init__(self, config: AutoencoderConfig) -> None:
        super().__init__()
        self.config = config
        height, width = config.padded_shape
        widths = [config.width * 2**level for level in range(config.depth + 1)]
        self._bottleneck = (widths[-1], height // config.multiple, width // config.multiple)
        features = math.prod(self._bottleneck)
        blocks = dict(norm=config.norm, dropout=config.dropout)
        self.encoder = nn.ModuleList(
            ConvBlock(c_in, c_out, **blocks)
            for c_in, c_out in zip([config.in_channels, *widths[:-1]], widths, strict=True)
        )
        self.to_latent = nn.Linear(features, config.latent_dim)
        self.from_latent = nn.Linear(config.latent_dim, features)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[level + 1], widths[level], kernel_size=2, stride=2)
            for level in reversed(range(config.depth))
        )
        self.decoder = nn.ModuleList(
            ConvBlock(widths[level], widths[level], **blocks)
            for level in reversed(range(config.depth))
        )
        self.head = nn.Conv2d(widths[0], config.in_channels, kernel_size=1)

    @property
    def multiple(self) -> int:
        """Height and width of the inputs are multiples of this (``2**depth``)."""
        return self.config.multiple

    @property
    def latent_dim(self) -> int:
        """Length of the latent vector."""
        return self.config.latent_dim

    def _check(self, x: Tensor) -> None:
        expected = (self.config.in_channels, *self.config.padded_shape)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"Autoencoder input must be (N, {', '.join(map(str, expected))}) (maps of "
                f"{self.config.map_shape[0]} x {self.config.map_shape[1]} padded to multiples "
                f"of {self.multiple}), got shape {tuple(x.shape)}"
            )

    def encode(self, x: Tensor) -> Tensor:
        """The latent vectors of a batch of maps.

        Args:
            x: ``(N, in_channels, H', W')``, ``(H', W')`` = ``config.padded_shape``.

        Returns:
            ``(N, latent_dim)``.

        Raises:
            ValueError: If ``x`` has another shape (the message names both).
        """
        self._check(x)
        for level, block in enumerate(self.encoder):
            if level:
                x = F.max_pool2d(x, kernel_size=2)
            x = block(x)
        return self.to_latent(x.flatten(start_dim=1))

    def decode(self, z: Tensor) -> Tensor:
        """The reconstructed maps of latent vectors.

        Args:
            z: ``(N, latent_dim)``.

        Returns:
            ``(N, in_channels, H', W')`` (standardised channels, padding included).

        Raises:
            ValueError: If ``z`` is not ``(N, latent_dim)``.
        """
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Autoencoder.decode needs (N, {self.latent_dim}), got shape {tuple(z.shape)}"
            )
        x = F.relu(self.from_latent(z)).view(-1, *self._bottleneck)
        for up, block in zip(self.up, self.decoder, strict=True):
            x = block(up(x))
        return self.head(x)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Encode and decode.

        Args:
            x: ``(N, in_channels, H', W')``.

        Returns:
            ``(reconstruction (N, in_channels, H', W'), latent (N, latent_dim))``.
        """
        z = self.encode(x)
        return self.decode(z), z


def _squared_errors(reconstruction: Tensor, x: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
    """Per-map, per-channel sums of squared errors over ``valid`` and the valid counts."""
    if tuple(reconstruction.shape) != tuple(x.shape):
        raise ValueError(
            f"reconstruction_loss: the reconstruction has shape {tuple(reconstruction.shape)}, "
            f"the inputs {tuple(x.shape)}"
        )
    expected = (x.shape[0], 1, *x.shape[2:])
    if tuple(valid.shape) != expected:
        raise ValueError(f"reconstruction_loss: valid must be {expected}, got {tuple(valid.shape)}")
    valid = valid.to(torch.bool)
    diff = reconstruction.float() - x.float()
    squared = torch.where(valid, diff * diff, torch.zeros_like(diff))
    return squared.sum(dim=(-2, -1)), valid.sum(dim=(-2, -1)).to(squared.dtype)


def reconstruction_loss(reconstruction: Tensor, x: Tensor, valid: Tensor) -> Tensor:
    """Mean squared error over every channel of the pixels inside the box.

    Computed in float32 whatever the precision of ``reconstruction`` (mixed precision).
    The padding (``valid`` False) never counts, whatever the values there.

    Args:
        reconstruction: ``(N, C, H', W')``.
        x: The inputs ``(N, C, H', W')``.
        valid: ``(N, 1, H', W')`` bool, True inside the box.

    Returns:
        The scalar loss (0 when no pixel is valid).

    Raises:
        ValueError: If the shapes do not match (named).
    """
    sums, counts = _squared_errors(reconstruction, x, valid)
    return sums.sum() / (counts.sum() * x.shape[1]).clamp(min=1)


def autoencoder_loss_fn() -> LossFn:
    """The training loss of an autoencoder for :func:`rainscore.models.training.fit`.

    Returns:
        ``loss(model, batch)``: :func:`reconstruction_loss` of the model's reconstruction
        of ``batch["x"]`` over ``batch["valid"]``.
    """

    def loss(model: nn.Module, batch: Mapping[str, Tensor]) -> Tensor:
        reconstruction, _ = model(batch["x"])
        return reconstruction_loss(reconstruction, batch["x"], batch["valid"])

    return loss


def embed(
    model: Autoencoder, loader: DataLoader, device: str | torch.device = "auto"
) -> np.ndarray:
    """The latent vector of every map of ``loader``'s dataset, in the dataset's order.

    Args:
        model: The autoencoder (put in evaluation mode).
        loader: Batches with ``x`` and ``index`` (:class:`~rainscore.models.data.MapDataset`).
        device: A device or a name for :func:`~rainscore.models.training.pick_device`.

    Returns:
        ``(n, latent_dim)`` float32.
    """
    out = predict(model, loader, device, keep=("latent",))
    if "latent" not in out:
        return np.zeros((0, model.latent_dim), dtype=np.float32)
    return out["latent"][np.argsort(out["index"], kind="stable")]


def embed_maps(
    model: Autoencoder, loader: DataLoader, device: str | torch.device = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """The latent vectors and the reconstruction errors of every map, in one pass.

    Args:
        model: The autoencoder (put in evaluation mode).
        loader: Batches with ``x``, ``valid`` and ``index``.
        device: A device or a name.

    Returns:
        ``latent`` ``(n, latent_dim)`` float32 and ``errors`` ``(n, C)`` float64: each
        map's MSE per channel over the pixels inside the box, in the dataset's order.
    """
    device = device if isinstance(device, torch.device) else pick_device(device)
    model.to(device).eval()
    latents, errors, indices = [], [], []
    with torch.no_grad():
        for batch in loader:
            x, valid = batch["x"].to(device), batch["valid"].to(device)
            reconstruction, z = model(x)
            sums, counts = _squared_errors(reconstruction, x, valid)
            latents.append(z.float().cpu().numpy())
            errors.append((sums / counts.clamp(min=1)).double().cpu().numpy())
            indices.append(batch["index"].numpy())
    if not indices:
        return (
            np.zeros((0, model.latent_dim), np.float32),
            np.zeros((0, model.config.in_channels)),
        )
    order = np.argsort(np.concatenate(indices), kind="stable")
    return np.concatenate(latents)[order], np.concatenate(errors)[order]


def autoencoder_roles(
    times: pd.DatetimeIndex, training_split: pd.DataFrame, gap: pd.Timedelta | str
) -> pd.DataFrame:
    """What each IMERG map does for the autoencoder, from the training split.

    A map of ``training_split`` keeps its ``split``; its role is ``train`` (train blocks),
    ``validation`` (validation blocks: early stopping and tuning) or ``held_out`` (test
    blocks and gaps). A map outside it (no radar-based score) has the split
    ``unlabelled`` and trains the autoencoder when every validation and test map is more
    than ``gap`` away from it (the split's own distance between a training map and an
    evaluation map), and is ``held_out`` otherwise.

    Args:
        times: Every map's time (the IMERG cube's).
        training_split: ``time``, ``split`` (:func:`rainscore.models.split.make_split`); its
            times must all be in ``times``.
        gap: The split's gap (``training.split.gap``).

    Returns:
        One row per time, in time order: ``time``, ``split``, ``role``.

    Raises:
        ValueError: If ``times`` repeat, or no map trains the autoencoder or none
            validates it.
        KeyError: If a time of ``training_split`` is not in ``times`` (the first few named).
    """
    times = pd.DatetimeIndex(times).sort_values().as_unit("ns")
    if times.has_duplicates:
        raise ValueError(f"autoencoder_roles: repeated times, e.g. {times[times.duplicated()][:3]}")
    labelled = pd.Series(
        training_split["split"].to_numpy(),
        index=pd.DatetimeIndex(training_split["time"]).as_unit("ns"),
    )
    absent = labelled.index.difference(times)
    if len(absent):
        raise KeyError(
            f"autoencoder_roles: {len(absent)} times of training_split are not IMERG maps, "
            f"e.g. {absent[:3].tolist()}"
        )
    split = labelled.reindex(times).fillna(UNLABELLED).to_numpy(dtype=object)
    role = np.full(len(times), "held_out", dtype=object)
    role[split == "train"] = "train"
    role[split == "validation"] = "validation"
    evaluation = np.sort(labelled.index[labelled.isin(["validation", "test"]).to_numpy()].asi8)
    unlabelled = np.flatnonzero(split == UNLABELLED)
    if len(unlabelled):
        t = times.asi8[unlabelled]
        distance = np.full(len(t), np.iinfo(np.int64).max)
        if len(evaluation):
            position = np.searchsorted(evaluation, t)
            after = evaluation[np.minimum(position, len(evaluation) - 1)]
            before = evaluation[np.maximum(position - 1, 0)]
            distance = np.minimum(np.abs(after - t), np.abs(t - before))
        role[unlabelled[distance > pd.Timedelta(gap).as_unit("ns").value]] = "train"
    table = pd.DataFrame(
        {
            "time": times.values.astype("datetime64[ns]"),
            "split": split.astype(str),
            "role": role.astype(str),
        }
    )
    for needed in ("train", "validation"):
        if not (table["role"] == needed).any():
            raise ValueError(
                f"autoencoder_roles: no map to {needed} the autoencoder "
                f"(splits {table['split'].value_counts().to_dict()})"
            )
    return table


@dataclass(frozen=True)
class AutoencoderData:
    """Where the maps are and what each one does.

    Attributes:
        cube_path: The IMERG cube store (the inputs).
        roles: :func:`autoencoder_roles` of the cube's times.
        map_shape: ``(H, W)`` of the cube's maps.
    """

    cube_path: Path
    roles: pd.DataFrame
    map_shape: tuple[int, int]

    def times(self, *roles: str) -> pd.DatetimeIndex:
        """The times of the maps of the given roles, in time order (every map without)."""
        chosen = self.roles["role"].isin(roles) if roles else np.ones(len(self.roles), bool)
        return pd.DatetimeIndex(np.sort(self.roles.loc[chosen, "time"].to_numpy()), name="time")

    def dataset(self, times: pd.DatetimeIndex, norm: NormStats, multiple: int) -> MapDataset:
        """The maps of ``times`` (inputs only: no target)."""
        return MapDataset(self.cube_path, times, norm, multiple)


@dataclass(frozen=True)
class AutoencoderRecipe:
    """What an autoencoder training run needs besides the data: architecture and loop.

    Attributes:
        autoencoder: The architecture (``in_channels`` = ``len(INPUT_CHANNELS)``; its
            ``map_shape`` is set from the data when training).
        loop: The training loop's settings.
    """

    autoencoder: AutoencoderConfig
    loop: TrainConfig

    def __post_init__(self) -> None:
        if self.autoencoder.in_channels != len(INPUT_CHANNELS):
            raise ValueError(
                f"autoencoder.in_channels is {self.autoencoder.in_channels}; the inputs are "
                f"the {len(INPUT_CHANNELS)} channels {list(INPUT_CHANNELS)}"
            )

    def with_values(self, values: Mapping[str, Any]) -> AutoencoderRecipe:
        """The recipe with some hyper-parameters replaced (names of :data:`TUNABLE`).

        Raises:
            ValueError: A name outside :data:`TUNABLE`, or an invalid value (named).
        """
        unknown = sorted(set(values) - set(TUNABLE))
        if unknown:
            raise ValueError(f"hyper-parameters {unknown} cannot be tuned; known: {list(TUNABLE)}")
        return AutoencoderRecipe(
            autoencoder=dataclasses.replace(
                self.autoencoder, **{k: v for k, v in values.items() if k in _ARCH_FIELDS}
            ),
            loop=dataclasses.replace(
                self.loop, **{k: v for k, v in values.items() if k in _LOOP_FIELDS}
            ),
        )


def train_autoencoder(
    data: AutoencoderData,
    norm: NormStats,
    recipe: AutoencoderRecipe,
    *,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> tuple[Autoencoder, TrainResult]:
    """Build an autoencoder for the data's maps and train it on the ``train`` role.

    Early stopping on the maps of the ``validation`` role (``recipe.loop.patience``).

    Args:
        data: The cube and the roles.
        norm: Channel statistics (of the ``train`` role's maps).
        recipe: Architecture and loop.
        on_epoch: Called after each epoch (Optuna's pruning).
        checkpoint_dir: Where the loop checkpoints and resumes (``None``: nowhere).

    Returns:
        The model (holding the best weights) and the loop's result.
    """
    seed_everything(recipe.loop.seed)
    model = Autoencoder(recipe.autoencoder.for_maps(data.map_shape))
    device = pick_device(recipe.loop.device)
    train_set = data.dataset(data.times("train"), norm, model.multiple)
    val_set = data.dataset(data.times("validation"), norm, model.multiple)
    logger.info(
        "Autoencoder maps: %d train (%d of them unlabelled), %d validation",
        len(train_set),
        int(((data.roles["role"] == "train") & (data.roles["split"] == UNLABELLED)).sum()),
        len(val_set),
    )
    result = fit(
        model,
        make_loader(train_set, recipe.loop, shuffle=True, device=device),
        make_loader(val_set, recipe.loop, shuffle=False, device=device),
        autoencoder_loss_fn(),
        recipe.loop,
        checkpoint_dir=checkpoint_dir,
        on_epoch=on_epoch,
    )
    return model, result


def autoencoder_objective(
    data: AutoencoderData,
    norm: NormStats,
    recipe: AutoencoderRecipe,
    space: Mapping[str, Dimension],
    *,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Callable[[optuna.Trial], float]:
    """The Optuna objective: the best validation reconstruction loss.

    Each trial draws the hyper-parameters of ``space`` (names of :data:`TUNABLE`) over
    ``recipe``, trains with early stopping and pruning on the validation loss, and records
    its best epoch (user attribute ``best_epoch``). ``on_epoch`` is also called after each
    epoch of every trial (the run tracking).

    Raises:
        ValueError: If ``space`` names a hyper-parameter outside :data:`TUNABLE`.
    """
    unknown = sorted(set(space) - set(TUNABLE))
    if unknown:
        raise ValueError(
            f"representation.tuning.space: {unknown} cannot be tuned; known: {list(TUNABLE)}"
        )

    def train(values: Mapping[str, Any], on_epoch: Callable[[int, dict], None]) -> TrainResult:
        return train_autoencoder(data, norm, recipe.with_values(values), on_epoch=on_epoch)[1]

    return loss_objective(space, train, what="autoencoder", on_epoch=on_epoch)


def autoencoder_artefact(
    model: Autoencoder, norm: NormStats, *, training: Mapping[str, Any] | None = None
) -> ModelArtefact:
    """A trained autoencoder as an artefact: weights, config and JSON metadata.

    Args:
        model: The trained model.
        norm: Its input statistics.
        training: What the training was (JSON-safe).

    Returns:
        The artefact (``kind`` :data:`KIND`; metadata ``input_channels``, ``norm``,
        ``training``).
    """
    return ModelArtefact(
        kind=KIND,
        config=model.config.to_dict(),
        state={k: v.detach().cpu() for k, v in model.state_dict().items()},
        metadata={
            "input_channels": list(INPUT_CHANNELS),
            "norm": norm.to_dict(),
            "training": dict(training or {}),
        },
    )


def autoencoder_from_artefact(artefact: ModelArtefact) -> tuple[Autoencoder, NormStats]:
    """The model (in evaluation mode) and its input statistics, from an artefact.

    Raises:
        ValueError: If the artefact is not an autoencoder, or was trained on other
            input channels (both lists named).
    """
    if artefact.kind != KIND:
        raise ValueError(f"expected an {KIND} artefact, got kind {artefact.kind!r}")
    channels = artefact.metadata.get("input_channels")
    if channels != list(INPUT_CHANNELS):
        raise ValueError(
            f"the autoencoder artefact was trained on channels {channels}, "
            f"this version reads {list(INPUT_CHANNELS)}"
        )
    model = Autoencoder(AutoencoderConfig.from_dict(artefact.config))
    model.load_state_dict(artefact.state)
    return model.eval(), NormStats.from_dict(artefact.metadata["norm"])
