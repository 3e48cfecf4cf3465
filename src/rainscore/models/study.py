"""Running an Optuna study of a model trained by the one loop: objective and summary.

Any model tuned on a validation loss (the autoencoder here; the U-Net's
:func:`rainscore.models.experiment.unet_objective` has the same shape) needs the same two
pieces around :mod:`rainscore.models.tuning`:

- :func:`loss_objective`: each trial draws the hyper-parameters of the search space, trains
  with the study's pruning callback, records its best epoch (user attribute
  ``best_epoch``) and returns its best validation loss;
- :func:`run_study`: opens the journal study (seeded TPE, median pruner), adds the trials,
  and summarises the best trial of the whole study (earlier runs' trials included) as a
  JSON-safe mapping.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import optuna

from rainscore.models.training import TrainResult
from rainscore.models.tuning import (
    Dimension,
    TuningConfig,
    open_study,
    pruning_callback,
    study_summary,
    suggest,
)

__all__ = ["JOURNAL_NAME", "TrainTrial", "loss_objective", "run_study"]

logger = logging.getLogger(__name__)

JOURNAL_NAME = "journal.log"
"""The Optuna journal file in a study folder (the catalog's ``unet_study``,
``autoencoder_study``): pass ``folder / JOURNAL_NAME`` to :func:`run_study`."""

TrainTrial = Callable[[Mapping[str, Any], Callable[[int, dict[str, float]], None]], TrainResult]
"""``train(values, on_epoch) -> TrainResult``: train with the drawn hyper-parameters,
calling ``on_epoch`` after each epoch (where the trial is pruned)."""


def loss_objective(
    space: Mapping[str, Dimension],
    train: TrainTrial,
    *,
    what: str,
    on_trial: Callable[[optuna.Trial, Mapping[str, Any], TrainResult], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> Callable[[optuna.Trial], float]:
    """The Optuna objective: the best validation loss of ``train`` with drawn values.

    Args:
        space: The search space (hyper-parameter name → range).
        train: Trains one trial's model (see :data:`TrainTrial`).
        what: The model's name, for the log lines (``"autoencoder"``).
        on_trial: Called with the trial, its values and its result once it is trained
            (the U-Net keeps the study's best model there).
        on_epoch: Also called after each epoch of every trial, before the pruning
            decision, with the loop's ``(epoch, metrics)`` (the run tracking logs the
            trial's losses there: :func:`rainscore.tracking.log_epoch`).

    Returns:
        ``objective(trial) -> best validation loss``; the trial's user attribute
        ``best_epoch`` holds the epoch of that loss.
    """

    def objective(trial: optuna.Trial) -> float:
        values = suggest(trial, space)
        prune = pruning_callback(trial)

        def after_epoch(epoch: int, metrics: dict[str, float]) -> None:
            if on_epoch is not None:
                on_epoch(epoch, metrics)
            prune(epoch, metrics)

        result = train(values, after_epoch)
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        logger.info(
            "%s trial %d: %s -> best val_loss %.5g at epoch %d",
            what,
            trial.number,
            values,
            result.best_val_loss,
            result.best_epoch,
        )
        if on_trial is not None:
            on_trial(trial, values, result)
        return float(result.best_val_loss)

    return objective


def run_study(
    journal: str | Path, tuning: TuningConfig, objective: Callable[[optuna.Trial], float]
) -> dict[str, Any]:
    """Add ``tuning.n_trials`` trials to the study in ``journal``; summarise its best trial.

    Args:
        journal: The study's journal file (created with its folder when absent; a rerun
            adds trials to the same study).
        tuning: Budget, seed, pruner settings and study name.
        objective: The objective (:func:`loss_objective`).

    Returns:
        ``study_name``, ``journal``, ``best_trial``, ``best_val_loss``, ``best_epoch``,
        ``params`` (the best trial's hyper-parameters), ``n_trials`` and ``states`` (trials
        by state), JSON-safe.

    Raises:
        ValueError: If no trial of the study is complete (every trial pruned or failed;
            :func:`rainscore.models.tuning.study_summary`).
    """
    study = open_study(
        journal,
        tuning.study_name,
        tuning.seed,
        startup_trials=tuning.startup_trials,
        warmup_epochs=tuning.warmup_epochs,
    )
    study.optimize(objective, n_trials=tuning.n_trials, timeout=tuning.timeout_s)
    summary = study_summary(study)
    logger.info(
        "Optuna study %r: %d trials %s; best #%d val_loss %.5g %s",
        tuning.study_name,
        summary["n_trials"],
        summary["states"],
        summary["best_trial"],
        summary["best_value"],
        summary["params"],
    )
    return {
        "study_name": tuning.study_name,
        "journal": str(journal),
        "best_trial": summary["best_trial"],
        "best_val_loss": summary["best_value"],
        "best_epoch": int(summary["user_attrs"]["best_epoch"]),
        "params": summary["params"],
        "n_trials": summary["n_trials"],
        "states": summary["states"],
    }
