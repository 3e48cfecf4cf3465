"""Nodes of the ``representation`` pipeline: thin wrappers of :mod:`rainscore.models.autoencoder`.

Each node parses ``params:representation`` with
:class:`~rainscore.param_sections.RepresentationSection` and ``params:training.split`` with
:class:`~rainscore.models.SplitConfig` (its ``gap``). The autoencoder reads the
``imerg_cube`` store alone, every map of it: the maps of ``training_split`` keep their
split, the others are ``unlabelled`` (:func:`~rainscore.models.autoencoder.autoencoder_roles`
says which train it).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.models import INPUT_CHANNELS, ModelArtefact, NormStats, SplitConfig, make_loader
from rainscore.models.autoencoder import (
    UNLABELLED,
    AutoencoderData,
    autoencoder_artefact,
    autoencoder_from_artefact,
    autoencoder_objective,
    autoencoder_roles,
    embed_maps,
    train_autoencoder,
)
from rainscore.models.experiment import imerg_cube_path
from rainscore.models.split import GAP, SPLITS
from rainscore.models.study import JOURNAL_NAME, run_study
from rainscore.param_sections import RepresentationSection
from rainscore.tracking import epoch_logger, log_epoch, tracked_objective

logger = logging.getLogger(__name__)


QUALITY_ROWS = (*SPLITS, GAP, UNLABELLED, "all")
"""The rows of ``reconstruction_quality``, in order (splits without maps are left out)."""


def _data(
    imerg_cube: xr.Dataset, training_split: pd.DataFrame, split: dict[str, Any]
) -> AutoencoderData:
    """The cube's store (radar-side variables refused), every map's role and the grid."""
    cube_path = imerg_cube_path(imerg_cube)
    gap = SplitConfig.from_dict(split).gap_length
    roles = autoencoder_roles(pd.DatetimeIndex(imerg_cube["time"].values), training_split, gap)
    return AutoencoderData(
        cube_path=cube_path,
        roles=roles,
        map_shape=(int(imerg_cube.sizes["lat"]), int(imerg_cube.sizes["lon"])),
    )


def tune_autoencoder(
    imerg_cube: xr.Dataset,
    training_split: pd.DataFrame,
    autoencoder_study: str,
    representation: dict[str, Any],
    split: dict[str, Any],
) -> dict[str, Any]:
    """Add ``representation.tuning.n_trials`` trials to the study in ``autoencoder_study``.

    Each trial trains on the ``train`` role's maps and is scored (and pruned) on the
    validation maps' reconstruction loss.

    Returns:
        The best trial of the whole study: hyper-parameters, validation loss, best epoch
        and the study's counts (:func:`rainscore.models.study.run_study`).
    """
    config = RepresentationSection.from_dict(representation)
    data = _data(imerg_cube, training_split, split)
    norm = NormStats.fit(imerg_cube, data.times("train"))
    objective = autoencoder_objective(
        data, norm, config.recipe, config.tuning.space, on_epoch=log_epoch
    )
    tracked = tracked_objective(objective, what="autoencoder")
    return run_study(Path(autoencoder_study) / JOURNAL_NAME, config.tuning, tracked)


def train_autoencoder_model(
    imerg_cube: xr.Dataset,
    training_split: pd.DataFrame,
    autoencoder_best_params: dict[str, Any],
    representation: dict[str, Any],
    split: dict[str, Any],
) -> ModelArtefact:
    """The autoencoder with the best hyper-parameters (``autoencoder_model``).

    Trained as the trials were: on the ``train`` role's maps, early-stopped on the
    validation maps (the test maps are never seen, so that the clustering evaluated on
    them is honest); normalisation statistics of the ``train`` role's maps.
    """
    config = RepresentationSection.from_dict(representation)
    data = _data(imerg_cube, training_split, split)
    norm = NormStats.fit(imerg_cube, data.times("train"))
    recipe = config.recipe.with_values(autoencoder_best_params["params"])
    model, result = train_autoencoder(data, norm, recipe, on_epoch=epoch_logger("autoencoder"))
    counts = data.roles.groupby(["role", "split"]).size()
    logger.info(
        "Autoencoder: validation loss %.5g at epoch %d (latent %d)",
        result.best_val_loss,
        result.best_epoch,
        model.latent_dim,
    )
    return autoencoder_artefact(
        model,
        norm,
        training={
            "tuning": autoencoder_best_params,
            "loop": recipe.loop.to_dict(),
            "epochs": int(result.best_epoch),
            "best_val_loss": float(result.best_val_loss),
            "stopped_early": bool(result.stopped_early),
            "maps": {f"{role}/{name}": int(n) for (role, name), n in counts.items()},
        },
    )


def embed_imerg_maps(
    autoencoder_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    training_split: pd.DataFrame,
    representation: dict[str, Any],
    split: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latent vector and the reconstruction error of every IMERG map.

    Returns:
        ``latent_embeddings``: one row per map of the cube, in time order: ``time``,
        ``split`` (``training_split``'s, ``unlabelled`` outside it), ``role`` (``train``,
        ``validation``, ``held_out`` for the autoencoder), ``reconstruction_mse`` (over
        the channels and the box) and ``z_0`` … ``z_{k-1}``; and
        ``reconstruction_quality``: per split (and ``all``), ``n_maps``, ``mse`` and
        ``mse_<channel>``, the mean over the maps of their masked MSE.

    Raises:
        ValueError: If the model was trained on another grid than the cube's (both named).
    """
    config = RepresentationSection.from_dict(representation)
    model, norm = autoencoder_from_artefact(autoencoder_model)
    data = _data(imerg_cube, training_split, split)
    if model.config.map_shape != data.map_shape:
        raise ValueError(
            f"autoencoder_model was trained on maps of {model.config.map_shape} (lat, lon); "
            f"imerg_cube has {data.map_shape}: train it again on this cube "
            "(kedro run --pipelines=representation)"
        )
    dataset = data.dataset(data.times(), norm, model.multiple)
    loader = make_loader(dataset, config.loop, shuffle=False)
    latent, errors = embed_maps(model, loader, config.loop.device)
    embeddings = data.roles.assign(reconstruction_mse=errors.mean(axis=1))
    z = pd.DataFrame(latent, columns=[f"z_{i}" for i in range(latent.shape[1])])
    embeddings = pd.concat([embeddings.reset_index(drop=True), z], axis=1)
    per_map = pd.DataFrame(errors, columns=[f"mse_{c}" for c in INPUT_CHANNELS])
    per_map.insert(0, "mse", errors.mean(axis=1))
    rows = []
    for name in QUALITY_ROWS:
        chosen = np.ones(len(per_map), bool) if name == "all" else (embeddings["split"] == name)
        if chosen.any():
            rows.append({"split": name, "n_maps": int(chosen.sum()), **per_map[chosen].mean()})
    quality = pd.DataFrame(rows)
    logger.info(
        "Reconstruction MSE (standardised channels) by split: %s",
        dict(zip(quality["split"], quality["mse"].round(4), strict=True)),
    )
    return embeddings, quality
