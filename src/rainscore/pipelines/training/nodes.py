"""Nodes of the ``training`` pipeline: thin wrappers of :mod:`rainscore.models`.

Each node parses ``params:training`` with :class:`~rainscore.param_sections.TrainingSection`
and ``params:target`` with :class:`~rainscore.scores.TargetConfig`. Inputs come from the
IMERG side only: the ``imerg_cube`` store (the U-Net's channels) and the IMERG-side
features computed from it over the whole box (the baselines); the radar enters through the
targets (the target column of ``map_scores``, ``local_error_maps``) and the loss masks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from rainscore.analysis.sources import imerg_features
from rainscore.models import (
    ModelArtefact,
    NormStats,
    SplitConformal,
    UNetData,
    best_trial_model,
    evaluate_baselines,
    evaluation_table,
    fit_baselines,
    imerg_cube_path,
    make_split,
    pixel_skill,
    predict_unet_maps,
    predict_unet_scores,
    regression_metrics,
    store_path,
    train_unet,
    unet_artefact,
    unet_from_artefact,
    unet_objective,
)
from rainscore.models.evaluation import predict_baselines
from rainscore.models.study import JOURNAL_NAME, run_study
from rainscore.param_sections import ScoringSection, TrainingSection
from rainscore.reporting import predicted_vs_actual_figure
from rainscore.scores import TargetConfig, score_info
from rainscore.tracking import epoch_logger, log_epoch, tracked_objective

logger = logging.getLogger(__name__)


def _best_model_dir(unet_study: str, study_name: str) -> Path:
    """The folder of the study's best trial's model, beside its journal."""
    return Path(unet_study) / f"{study_name}-best"


def _data(
    imerg_cube: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    target: dict[str, Any],
) -> UNetData:
    score = TargetConfig.from_dict(target).score
    if score not in map_scores.columns:
        raise KeyError(f"map_scores has no column for the target {score!r} (params:target)")
    return UNetData(
        cube_path=imerg_cube_path(imerg_cube),
        local_error_path=store_path(local_error_maps, "local_error_maps"),
        scores=map_scores[score],
        split=training_split,
    )


def make_training_split(map_scores: pd.DataFrame, training: dict[str, Any]) -> pd.DataFrame:
    """The split of every scored map into chronological train / validation / test blocks."""
    config = TrainingSection.from_dict(training).split
    split = make_split(pd.DatetimeIndex(map_scores.index), config)
    logger.info("training_split: %s maps", split["split"].value_counts().to_dict())
    return split


def tune_unet(
    imerg_cube: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    unet_study: str,
    training: dict[str, Any],
    target: dict[str, Any],
) -> dict[str, Any]:
    """Add ``training.tuning.n_trials`` trials to the Optuna study in ``unet_study``.

    Returns:
        The best trial of the whole study (this run's and earlier runs'): its
        hyper-parameters, validation loss and best epoch, and the study's counts.
    """
    config = TrainingSection.from_dict(training)
    data = _data(imerg_cube, local_error_maps, map_scores, training_split, target)
    norm = NormStats.fit(imerg_cube, data.times("train"))
    tuning = config.tuning
    objective = unet_objective(
        data,
        norm,
        config.recipe,
        tuning.space,
        best_model_dir=_best_model_dir(unet_study, tuning.study_name),
        on_epoch=log_epoch,
    )
    tracked = tracked_objective(objective, what="unet")
    return run_study(Path(unet_study) / JOURNAL_NAME, tuning, tracked)


def train_unet_models(
    imerg_cube: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    unet_study: str,
    unet_best_params: dict[str, Any],
    training: dict[str, Any],
    target: dict[str, Any],
) -> tuple[ModelArtefact, ModelArtefact]:
    """The U-Net with the best hyper-parameters, twice.

    - the **holdout** model: trained on ``train``, early-stopped on ``validation``: the
      best trial's model, kept by ``tune_unet`` in the ``unet_study`` folder (trained again
      only if it is not there), whose validation residuals calibrate the intervals;
    - the **final** model: retrained on ``train`` + ``validation`` for the best trial's
      best epoch count (no validation split is left for early stopping).

    Both use the normalisation statistics of the ``train`` split.

    Returns:
        The holdout and the final model, as artefacts.
    """
    config = TrainingSection.from_dict(training)
    data = _data(imerg_cube, local_error_maps, map_scores, training_split, target)
    norm = NormStats.fit(imerg_cube, data.times("train"))
    recipe = config.recipe.with_values(unet_best_params["params"])
    info = {"tuning": unet_best_params}
    name, trial = unet_best_params["study_name"], unet_best_params["best_trial"]
    holdout = best_trial_model(_best_model_dir(unet_study, name), name, trial)
    if holdout is None:
        logger.info(
            "The model of trial %d of study %r was not kept: training it again", trial, name
        )
        model, result = train_unet(data, norm, recipe, on_epoch=epoch_logger("unet_holdout"))
        holdout = unet_artefact(
            model, norm, training={**info, "splits": ["train"], "epochs": result.best_epoch}
        )
    epochs = int(unet_best_params["best_epoch"])
    final, _ = train_unet(
        data,
        norm,
        recipe.for_epochs(epochs),
        train_splits=("train", "validation"),
        validation=None,
        on_epoch=epoch_logger("unet"),
    )
    return holdout, unet_artefact(
        final, norm, training={**info, "splits": ["train", "validation"], "epochs": epochs}
    )


def calibrate_unet(
    unet_holdout_model: ModelArtefact,
    unet_final_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    training: dict[str, Any],
    target: dict[str, Any],
) -> ModelArtefact:
    """The final model with its split-conformal interval (``unet_model``).

    The interval's half-width is the finite-sample quantile of the holdout model's absolute
    residuals on the validation maps whose target is defined: the final model has seen
    those maps, so its own residuals there would be too small. Applied to the final model,
    whose error on new maps is at most the holdout model's if more data helps, the
    interval is if anything conservative; its coverage is measured on the test maps.
    """
    config = TrainingSection.from_dict(training)
    data = _data(imerg_cube, local_error_maps, map_scores, training_split, target)
    model, norm, _ = unet_from_artefact(unet_holdout_model)
    times = data.times("validation")
    predicted = predict_unet_scores(model, data, times, norm, config.loop)
    actual = data.scores.reindex(times).to_numpy(dtype=np.float64)
    conformal = SplitConformal.calibrate(
        predicted,
        actual,
        coverage=config.coverage,
        bounds=score_info(TargetConfig.from_dict(target).score).range,
    )
    logger.info(
        "U-Net interval: ± %.4g for %.0f %% nominal coverage (%d validation maps)",
        conformal.quantile,
        100 * conformal.coverage,
        conformal.n_calibration,
    )
    final, final_norm, _ = unet_from_artefact(unet_final_model)
    training_info = {**unet_final_model.metadata["training"], "calibration": "validation"}
    return unet_artefact(final, final_norm, conformal=conformal, training=training_info)


def predict_unet(
    unet_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    training: dict[str, Any],
    target: dict[str, Any],
) -> tuple[pd.DataFrame, float]:
    """The U-Net's estimate of every map's score, and its local error maps' test skill.

    Returns:
        ``unet_predictions`` (one row per map: ``time``, ``split``, ``actual`` (NaN where
        the target is undefined), ``predicted``, ``lower``, ``upper``) and the pixel skill
        of the local error maps on the test maps against the training mean map.
    """
    config = TrainingSection.from_dict(training)
    data = _data(imerg_cube, local_error_maps, map_scores, training_split, target)
    model, norm, conformal = unet_from_artefact(unet_model)
    if conformal is None:
        raise ValueError("unet_model has no conformal interval (calibrate_unet sets it)")
    times = pd.DatetimeIndex(training_split["time"])
    predicted = conformal.clip(predict_unet_scores(model, data, times, norm, config.loop))
    lower, upper = conformal.interval(predicted)
    predictions = pd.DataFrame(
        {
            "time": times,
            "split": training_split["split"].to_numpy(),
            "actual": data.scores.reindex(times).to_numpy(dtype=np.float64),
            "predicted": predicted,
            "lower": lower,
            "upper": upper,
        }
    )
    test = data.times("test")
    errors = local_error_maps[["local_fraction_error", "mask"]]
    train_errors = errors.sel(time=data.times("train"))
    reference = (
        train_errors["local_fraction_error"].where(train_errors["mask"].astype(bool)).mean("time")
    ).to_numpy()
    reference = np.where(np.isfinite(reference), reference, np.nanmean(reference))
    actual_maps = errors.sel(time=test).load()
    skill = pixel_skill(
        predict_unet_maps(model, data, test, norm, config.loop),
        actual_maps["local_fraction_error"].to_numpy(),
        actual_maps["mask"].to_numpy().astype(bool),
        reference,
    )
    logger.info("U-Net local error maps: pixel skill %.3f on %d test maps", skill, len(test))
    return predictions, float(skill)


def evaluate_models(
    unet_predictions: pd.DataFrame,
    unet_pixel_skill: float,
    imerg_cube: xr.Dataset,
    map_scores: pd.DataFrame,
    training_split: pd.DataFrame,
    training: dict[str, Any],
    target: dict[str, Any],
    scoring: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The U-Net beside every baseline on the test maps: one row per model.

    The baselines read the IMERG-side features of the whole box
    (:func:`rainscore.analysis.sources.imerg_features`), not ``map_scores``' (averaged over
    the radar's scoring mask); ``rank`` orders the models by Spearman ρ (1 = best) and
    ``beats_best_baseline`` says whether a model's ρ is above every baseline's.

    Returns:
        ``model_evaluation`` and ``baseline_predictions`` (every baseline's estimate and
        interval for every map: :func:`rainscore.models.evaluation.predict_baselines`).
    """
    config = TrainingSection.from_dict(training)
    score = TargetConfig.from_dict(target).score
    features = imerg_features(imerg_cube, config=ScoringSection.from_dict(scoring).features)
    table = features.join(map_scores[[score]], how="inner")
    baselines = fit_baselines(
        table,
        score,
        training_split,
        seed=config.loop.seed,
        coverage=config.coverage,
        covariates=config.baselines.covariates,
        features=config.baselines.features,
        bounds=score_info(score).range,
    )
    rows = evaluate_baselines(baselines, table, score, training_split)
    test = unet_predictions[unet_predictions["split"] == "test"]
    metrics = regression_metrics(
        test["predicted"].to_numpy(),
        test["actual"].to_numpy(),
        test["lower"].to_numpy(),
        test["upper"].to_numpy(),
    )
    rows.append(
        {
            "model": "unet",
            "kind": "deep",
            **{k: v for k, v in metrics.items() if k != "n"},
            "n_test": metrics["n"],
            "pixel_skill": unet_pixel_skill,
        }
    )
    return _ranked(evaluation_table(rows)), predict_baselines(
        baselines, table, score, training_split
    )


def _ranked(evaluation: pd.DataFrame) -> pd.DataFrame:
    """``rank`` by Spearman ρ (1 = best, NaN last) and ``beats_best_baseline``."""
    rho = evaluation["spearman"].astype(float)
    best_baseline = rho[evaluation["kind"] == "baseline"].max()
    return evaluation.assign(
        rank=rho.rank(ascending=False, method="min", na_option="bottom").astype(int),
        beats_best_baseline=(rho > best_baseline).to_numpy() & np.isfinite(rho.to_numpy()),
    )


def plot_predictions(
    unet_predictions: pd.DataFrame, model_evaluation: pd.DataFrame, target: dict[str, Any]
) -> Figure:
    """The U-Net's predicted against actual map scores, by split (test with intervals)."""
    return predicted_vs_actual_figure(
        unet_predictions, model_evaluation, target=TargetConfig.from_dict(target).score
    )
