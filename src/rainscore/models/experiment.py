"""Training a U-Net from the stores: the recipe that tuning and the final fit share.

:class:`UNetData` names where the maps are (the IMERG cube store for the inputs, the local
error store and a score column for the targets) and the training split. From it,
:func:`train_unet` builds the datasets, the model and the loss and runs the one training
loop (:func:`rainscore.models.training.fit`); :func:`unet_objective` is the Optuna
objective (hyper-parameters drawn from the search space, pruned on the validation loss);
:func:`unet_artefact` and :func:`unet_from_artefact` turn a trained model into a
:class:`~rainscore.models.artefacts.ModelArtefact` and back; :func:`predict_unet_scores` and
:func:`predict_unet_maps` run it over a list of times.

Inputs come from the IMERG cube alone (:data:`rainscore.models.data.INPUT_CHANNELS`): the
radar enters only through the targets and the loss masks.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import xarray as xr

from rainscore.analysis.sources import RadarSideInputError
from rainscore.atomic import replace_folder, temporary_path
from rainscore.models.artefacts import JSON_NAME, ModelArtefact, load_artefact, save_artefact
from rainscore.models.data import CUBE_VARIABLES, INPUT_CHANNELS, MapDataset, NormStats
from rainscore.models.intervals import SplitConformal
from rainscore.models.split import split_times
from rainscore.models.study import loss_objective
from rainscore.models.training import (
    TrainConfig,
    TrainResult,
    fit,
    make_loader,
    pick_device,
    predict,
    seed_everything,
)
from rainscore.models.tuning import Dimension
from rainscore.models.unet import UNet, UNetConfig, unet_loss_fn

__all__ = [
    "RADAR_VARIABLES",
    "TUNABLE",
    "UNetData",
    "UNetRecipe",
    "best_trial_model",
    "imerg_cube_path",
    "predict_unet_maps",
    "predict_unet_scores",
    "store_path",
    "train_unet",
    "unet_artefact",
    "unet_from_artefact",
    "unet_objective",
]

logger = logging.getLogger(__name__)

_UNET_FIELDS = ("depth", "width", "norm", "dropout")
_LOOP_FIELDS = ("batch_size", "learning_rate", "weight_decay", "grad_clip")
TUNABLE: tuple[str, ...] = (*_UNET_FIELDS, *_LOOP_FIELDS, "score_weight")
"""The hyper-parameters a search space may name: the U-Net's architecture, the loop's
optimisation settings and the weight of the score term of the loss."""


def store_path(ds: xr.Dataset, name: str) -> Path:
    """The folder of the Zarr store that ``ds`` was opened from.

    Args:
        ds: A dataset opened lazily from a store (``imerg_cube``, ``local_error_maps``).
        name: Its catalog name, for the message.

    Returns:
        The store's folder.

    Raises:
        ValueError: If ``ds`` was not opened from a store on disk.
    """
    source = ds.encoding.get("source")
    if not source or not (Path(source) / "zarr.json").is_file():
        raise ValueError(
            f"{name} must be a Zarr store opened from disk (the models read it map by map), "
            f"got a dataset without a store (encoding source {source!r})"
        )
    return Path(source)


RADAR_VARIABLES: tuple[str, ...] = ("radar", "mask", "valid_fraction", "n_frames", "n_valid_frames")
"""Variables of the radar side's gridded products (colocated pairs, radar on the IMERG
grid): a dataset holding one of them is not an IMERG cube."""


def imerg_cube_path(imerg_cube: xr.Dataset) -> Path:
    """The store of the IMERG cube the U-Net reads its inputs from, checked.

    Args:
        imerg_cube: The ``imerg_cube`` store, opened lazily.

    Returns:
        Its folder.

    Raises:
        RadarSideInputError: If it holds radar-side variables (named).
        KeyError: If a variable of the input channels is missing (named).
        ValueError: If it was not opened from a store on disk.
    """
    radar = [str(v) for v in imerg_cube.data_vars if str(v) in RADAR_VARIABLES]
    if radar:
        raise RadarSideInputError(
            f"imerg_cube: the U-Net's inputs must come from the IMERG side only; this "
            f"dataset holds radar-side variables {radar} (colocated pairs?)"
        )
    missing = [v for v in CUBE_VARIABLES if v not in imerg_cube.data_vars]
    if missing:
        raise KeyError(f"imerg_cube has no {missing}, needed for the channels {INPUT_CHANNELS}")
    return store_path(imerg_cube, "imerg_cube")


@dataclass(frozen=True)
class UNetRecipe:
    """What a U-Net training run needs besides the data: architecture, loop and loss.

    Attributes:
        unet: The architecture (``in_channels`` = ``len(INPUT_CHANNELS)``).
        loop: The training loop's settings.
        score_weight: Weight of the map-score term of the loss (the pixel term has 1).
    """

    unet: UNetConfig
    loop: TrainConfig
    score_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.unet.in_channels != len(INPUT_CHANNELS):
            raise ValueError(
                f"unet.in_channels is {self.unet.in_channels}; the inputs are the "
                f"{len(INPUT_CHANNELS)} channels {list(INPUT_CHANNELS)}"
            )
        weight = self.score_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ValueError(f"training.score_weight must be a number >= 0, got {weight!r}")

    def with_values(self, values: Mapping[str, Any]) -> UNetRecipe:
        """The recipe with some hyper-parameters replaced (names of :data:`TUNABLE`).

        Raises:
            ValueError: A name outside :data:`TUNABLE`, or an invalid value (named).
        """
        unknown = sorted(set(values) - set(TUNABLE))
        if unknown:
            raise ValueError(f"hyper-parameters {unknown} cannot be tuned; known: {list(TUNABLE)}")
        unet = {k: v for k, v in values.items() if k in _UNET_FIELDS}
        loop = {k: v for k, v in values.items() if k in _LOOP_FIELDS}
        return UNetRecipe(
            unet=dataclasses.replace(self.unet, **unet),
            loop=dataclasses.replace(self.loop, **loop),
            score_weight=float(values.get("score_weight", self.score_weight)),
        )

    def for_epochs(self, epochs: int) -> UNetRecipe:
        """The recipe training exactly ``epochs`` epochs (a final fit without validation)."""
        return dataclasses.replace(self, loop=dataclasses.replace(self.loop, epochs=epochs))


@dataclass(frozen=True)
class UNetData:
    """Where the maps and targets are, and the split.

    Attributes:
        cube_path: The IMERG cube store (inputs).
        local_error_path: The local error store (pixel targets and their mask).
        scores: The target score by time (a ``map_scores`` column; NaN: undefined).
        split: The training split (``time``, ``block``, ``split``).
    """

    cube_path: Path
    local_error_path: Path
    scores: pd.Series
    split: pd.DataFrame

    def times(self, *splits: str) -> pd.DatetimeIndex:
        """The times of the given splits, in time order."""
        found = [split_times(self.split, name) for name in splits]
        return pd.DatetimeIndex(np.concatenate([t.values for t in found])).sort_values()

    def dataset(self, times: pd.DatetimeIndex, norm: NormStats, multiple: int) -> MapDataset:
        """The maps of ``times`` with both targets."""
        return MapDataset(
            self.cube_path,
            times,
            norm,
            multiple,
            local_error_path=self.local_error_path,
            scores=self.scores,
        )


def train_unet(
    data: UNetData,
    norm: NormStats,
    recipe: UNetRecipe,
    *,
    train_splits: Iterable[str] = ("train",),
    validation: str | None = "validation",
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> tuple[UNet, TrainResult]:
    """Build a U-Net from ``recipe`` and train it on the maps of ``train_splits``.

    Args:
        data: The stores and the split.
        norm: Channel statistics (of the training split).
        recipe: Architecture, loop and loss weight.
        train_splits: Splits to train on (``("train", "validation")`` for a final fit).
        validation: Split for early stopping, or ``None``: train ``recipe.loop.epochs``
            epochs and keep the last weights.
        on_epoch: Called after each epoch (Optuna's pruning).
        checkpoint_dir: Where the loop checkpoints and resumes (``None``: nowhere).

    Returns:
        The model (holding the best weights) and the loop's result.
    """
    seed_everything(recipe.loop.seed)
    model = UNet(recipe.unet)
    device = pick_device(recipe.loop.device)
    train_set = data.dataset(data.times(*train_splits), norm, model.multiple)
    logger.info(
        "U-Net training maps: %d (%d with an undefined target score, left out of its loss)",
        len(train_set),
        train_set.n_undefined,
    )
    train_loader = make_loader(train_set, recipe.loop, shuffle=True, device=device)
    val_loader = None
    if validation is not None:
        val_set = data.dataset(data.times(validation), norm, model.multiple)
        val_loader = make_loader(val_set, recipe.loop, shuffle=False, device=device)
    result = fit(
        model,
        train_loader,
        val_loader,
        unet_loss_fn(recipe.score_weight),
        recipe.loop,
        checkpoint_dir=checkpoint_dir,
        on_epoch=on_epoch,
    )
    return model, result


def unet_objective(
    data: UNetData,
    norm: NormStats,
    recipe: UNetRecipe,
    space: Mapping[str, Dimension],
    *,
    best_model_dir: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Callable[[optuna.Trial], float]:
    """The Optuna objective: the best validation loss of a U-Net trained on ``train``.

    Each trial draws the hyper-parameters of ``space`` (names of :data:`TUNABLE`) over
    ``recipe``, trains with early stopping on the validation split, reports each epoch's
    validation loss for pruning, and records its best epoch as the trial's user attribute
    ``best_epoch`` (the final fit trains that many epochs). With ``best_model_dir``, a
    trial better than every complete trial of its study writes its model there
    (:func:`unet_artefact`, replacing the previous one atomically), so that the best
    trial's model need not be trained again.

    Args:
        data: The stores and the split.
        norm: Channel statistics of the training split.
        recipe: The values of every hyper-parameter the space does not name.
        space: The search space.
        best_model_dir: Folder of the study's best model so far (``None``: not kept).
        on_epoch: Also called after each epoch of every trial (the run tracking).

    Returns:
        ``objective(trial) -> best validation loss``.

    Raises:
        ValueError: If ``space`` names a hyper-parameter outside :data:`TUNABLE`.
    """
    unknown = sorted(set(space) - set(TUNABLE))
    if unknown:
        raise ValueError(
            f"training.tuning.space: {unknown} cannot be tuned; known: {list(TUNABLE)}"
        )

    def train(values: Mapping[str, Any], on_epoch: Callable[[int, dict], None]) -> TrainResult:
        return train_unet(data, norm, recipe.with_values(values), on_epoch=on_epoch)[1]

    def keep_best(trial: optuna.Trial, values: Mapping[str, Any], result: TrainResult) -> None:
        if best_model_dir is None or not _best_so_far(trial, result.best_val_loss):
            return
        model = UNet(recipe.with_values(values).unet)
        model.load_state_dict(result.state_dict)
        info = {"trial": trial.number, "study_name": trial.study.study_name}
        info |= {"params": dict(values), "epochs": int(result.best_epoch), "splits": ["train"]}
        _replace_artefact(unet_artefact(model, norm, training=info), Path(best_model_dir))

    return loss_objective(space, train, what="U-Net", on_trial=keep_best, on_epoch=on_epoch)


def _best_so_far(trial: optuna.Trial, value: float) -> bool:
    """Whether ``value`` is below every complete trial's of ``trial``'s study."""
    complete = trial.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return all(value < t.value for t in complete)


def _replace_artefact(artefact: ModelArtefact, folder: Path) -> None:
    """Write ``artefact`` into a temporary folder and rename it to ``folder``."""
    tmp = temporary_path(folder)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        save_artefact(artefact, tmp)
        replace_folder(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def best_trial_model(folder: str | Path, study_name: str, trial: int) -> ModelArtefact | None:
    """The model :func:`unet_objective` kept for ``trial`` of ``study_name``, if it did.

    Args:
        folder: Its ``best_model_dir``.
        study_name: The study.
        trial: The study's best trial number.

    Returns:
        The artefact, or ``None`` when the folder holds none or another trial's model
        (a best trial of an earlier run whose model was replaced or never kept).
    """
    folder = Path(folder)
    if not (folder / JSON_NAME).is_file():
        return None
    artefact = load_artefact(folder)
    info = artefact.metadata.get("training", {})
    if info.get("study_name") != study_name or info.get("trial") != trial:
        return None
    return artefact


def unet_artefact(
    model: UNet,
    norm: NormStats,
    *,
    conformal: SplitConformal | None = None,
    training: Mapping[str, Any] | None = None,
) -> ModelArtefact:
    """A trained U-Net as an artefact: weights, config and JSON metadata.

    Args:
        model: The trained model.
        norm: Its input statistics.
        conformal: Its split-conformal interval, once calibrated.
        training: What the training was (JSON-safe: parameters, epochs, split counts).

    Returns:
        The artefact (``kind`` ``"unet"``).
    """
    return ModelArtefact(
        kind="unet",
        config=model.config.to_dict(),
        state={k: v.detach().cpu() for k, v in model.state_dict().items()},
        metadata={
            "input_channels": list(INPUT_CHANNELS),
            "norm": norm.to_dict(),
            "conformal": None if conformal is None else conformal.to_dict(),
            "training": dict(training or {}),
        },
    )


def unet_from_artefact(
    artefact: ModelArtefact,
) -> tuple[UNet, NormStats, SplitConformal | None]:
    """The model, its input statistics and its interval, from an artefact.

    Raises:
        ValueError: If the artefact is not a U-Net, or was trained on other channels.
    """
    if artefact.kind != "unet":
        raise ValueError(f"expected a unet artefact, got kind {artefact.kind!r}")
    channels = artefact.metadata.get("input_channels")
    if channels != list(INPUT_CHANNELS):
        raise ValueError(
            f"the U-Net artefact was trained on channels {channels}, "
            f"this version reads {list(INPUT_CHANNELS)}"
        )
    model = UNet(UNetConfig.from_dict(artefact.config))
    model.load_state_dict(artefact.state)
    conformal = artefact.metadata.get("conformal")
    return (
        model,
        NormStats.from_dict(artefact.metadata["norm"]),
        None if conformal is None else SplitConformal.from_dict(conformal),
    )


def predict_unet_scores(
    model: UNet, data: UNetData, times: pd.DatetimeIndex, norm: NormStats, loop: TrainConfig
) -> np.ndarray:
    """The predicted map score of each of ``times`` (their order), without the decoder."""
    dataset = data.dataset(times, norm, model.multiple)
    loader = make_loader(dataset, loop, shuffle=False)
    out = predict(model, loader, loop.device, forward=lambda x: {"score": model.score(x)})
    return out["score"][np.argsort(out["index"])].astype(np.float64)


def predict_unet_maps(
    model: UNet, data: UNetData, times: pd.DatetimeIndex, norm: NormStats, loop: TrainConfig
) -> np.ndarray:
    """The predicted local error maps ``(n, H, W)`` of ``times``, padding cropped."""
    dataset = data.dataset(times, norm, model.multiple)
    loader = make_loader(dataset, loop, shuffle=False)
    out = predict(model, loader, loop.device, keep=("local_error",))
    maps = out["local_error"][np.argsort(out["index"]), 0]
    valid = dataset[0]["valid"][0].numpy() if len(dataset) else np.zeros((0, 0), bool)
    height, width = int(valid.any(axis=1).sum()), int(valid.any(axis=0).sum())
    return maps[:, :height, :width].astype(np.float64)
