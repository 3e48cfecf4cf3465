"""Run tracking with MLflow: the one module of the project that calls MLflow.

A ``kedro run`` is tracked when kedro-mlflow's hook has opened an MLflow run for it
(``conf/base/mlflow.yml``; ``docs/tracking.md``). The model pipelines' nodes pass the
functions below to the training loop and to the Optuna studies as callbacks, and the
project's :class:`~rainscore.hooks.TrackingHooks` log the evaluation tables and the model
artefacts with them:

- :func:`log_epoch` / :func:`epoch_logger`: an ``on_epoch`` callback of
  :func:`rainscore.models.training.fit` that logs the epoch's losses at step ``epoch``;
  :func:`log_history` logs a finished fit's history the same way;
- :func:`trial_run` / :func:`tracked_objective`: each Optuna trial as a child run of the
  Kedro run (its hyper-parameters, per-epoch losses, value and state);
- :func:`log_table`, :func:`log_scores`, :func:`log_summary`, :func:`log_model_artefact`:
  tables, headline scores, JSON summaries and model artefacts of the run.

Every function does nothing when no MLflow run is active in the calling thread: a node
run by a test, a notebook or a runner without a Kedro session is not tracked, and MLflow is
not even imported then (a run can only be active once something, kedro-mlflow's hook, has
imported it).
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import optuna
import pandas as pd

from rainscore.models.artefacts import ModelArtefact, save_artefact

__all__ = [
    "EPOCH_METRICS",
    "SCORE_COLUMNS",
    "epoch_logger",
    "is_tracking",
    "log_epoch",
    "log_history",
    "log_model_artefact",
    "log_scores",
    "log_summary",
    "log_table",
    "tracked_objective",
    "trial_run",
]

EPOCH_METRICS = ("train_loss", "val_loss")
"""The per-epoch metrics logged from a training history (what ``on_epoch`` receives)."""

SCORE_COLUMNS = (
    "spearman",
    "r2",
    "mae",
    "coverage",
    "pixel_skill",
    "silhouette",
    "nmi",
    "ari",
    "iqr_coverage",
)
"""The columns of an evaluation table logged as run metrics by :func:`log_scores` (those
present: ``model_evaluation`` has the first five, ``clustering_evaluation`` all)."""

TRIAL_STATE_TAG = "optuna.state"
"""The child run's tag holding the trial's state (``COMPLETE``, ``PRUNED``, ``FAIL``)."""

_RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def _mlflow() -> ModuleType | None:
    """MLflow when a run is active in this thread, else ``None`` (MLflow left unimported)."""
    mlflow = sys.modules.get("mlflow")
    if mlflow is None or mlflow.active_run() is None:
        return None
    return mlflow


def is_tracking() -> bool:
    """Whether an MLflow run is active in this thread (what the other functions log to)."""
    return _mlflow() is not None


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def log_epoch(epoch: int, metrics: Mapping[str, float], *, prefix: str = "") -> None:
    """Log one epoch's finite metrics at step ``epoch``.

    Has the signature of the training loop's ``on_epoch`` and returns ``None``, so that it
    never stops the loop. NaN values (``val_loss`` of a fit without validation) are left
    out.

    Args:
        epoch: The epoch, numbered from 1 (the metrics' step).
        metrics: Metric name → value (``train_loss``, ``val_loss``).
        prefix: Prepended to each name with a dot (``"unet"`` → ``unet.train_loss``), so
            that several fits of one run keep separate histories.
    """
    mlflow = _mlflow()
    if mlflow is None:
        return
    finite = {
        _key(prefix, name): float(value)
        for name, value in metrics.items()
        if value is not None and math.isfinite(value)
    }
    if finite:
        mlflow.log_metrics(finite, step=int(epoch))


def epoch_logger(prefix: str = "") -> Callable[[int, Mapping[str, float]], None]:
    """An ``on_epoch`` callback logging each epoch's losses under ``prefix``.

    Args:
        prefix: Names the fit in the metric names (``"unet"``, ``"autoencoder"``); empty
            inside a trial's child run.

    Returns:
        :func:`log_epoch` with ``prefix`` bound.
    """
    return functools.partial(log_epoch, prefix=prefix)


def log_history(history: Iterable[Mapping[str, Any]], *, prefix: str) -> None:
    """Log a finished fit's per-epoch :data:`EPOCH_METRICS`, one step per epoch.

    For fits whose own ``on_epoch`` is taken (DEC, DESOM refresh their targets there).

    Args:
        history: :attr:`rainscore.models.training.TrainResult.history` (records with
            ``epoch``, ``train_loss``, ``val_loss``, ...).
        prefix: Names the fit in the metric names (``"dec"``).
    """
    if _mlflow() is None:
        return
    for record in history:
        log_epoch(
            int(record["epoch"]),
            {name: record[name] for name in EPOCH_METRICS if name in record},
            prefix=prefix,
        )


@contextlib.contextmanager
def trial_run(trial: optuna.Trial, *, what: str) -> Iterator[None]:
    """An MLflow child run for one Optuna trial, nested in the active run.

    Inside it, :func:`log_epoch` (without prefix) logs to the trial's run. On exit the run
    gets the trial's hyper-parameters (those drawn so far), its state in the tag
    ``optuna.state`` (``COMPLETE``; ``PRUNED`` on :class:`optuna.TrialPruned`, the run
    status ``KILLED``; ``FAIL`` on another exception, status ``FAILED``) and the tags
    ``optuna.study`` and ``optuna.trial``. Exceptions propagate to Optuna unchanged.

    Args:
        trial: The trial being evaluated.
        what: The model's name, in the run name (``"unet trial 3"``).

    Yields:
        Nothing; without an active run, the body runs untracked.
    """
    mlflow = _mlflow()
    if mlflow is None:
        yield
        return
    mlflow.start_run(
        run_name=f"{what} trial {trial.number}",
        nested=True,
        tags={"optuna.study": trial.study.study_name, "optuna.trial": str(trial.number)},
    )
    state = "FAIL"
    try:
        yield
        state = "COMPLETE"
    except optuna.TrialPruned:
        state = "PRUNED"
        raise
    finally:
        mlflow.log_params(trial.params)
        mlflow.set_tag(TRIAL_STATE_TAG, state)
        mlflow.end_run(_RUN_STATUS[state])


def tracked_objective(
    objective: Callable[[optuna.Trial], float], *, what: str
) -> Callable[[optuna.Trial], float]:
    """``objective`` with each trial tracked as a child run (:func:`trial_run`).

    The child run also gets the metric ``value`` (the objective's return) and, when the
    trial records it, ``best_epoch`` (user attribute).

    Args:
        objective: The Optuna objective (:func:`rainscore.models.study.loss_objective`).
        what: The model's name, in the child runs' names.

    Returns:
        An objective returning what ``objective`` returns.
    """

    @functools.wraps(objective)
    def tracked(trial: optuna.Trial) -> float:
        with trial_run(trial, what=what):
            value = objective(trial)
            metrics = {"value": float(value)}
            if "best_epoch" in trial.user_attrs:
                metrics["best_epoch"] = float(trial.user_attrs["best_epoch"])
            mlflow = _mlflow()
            if mlflow is not None:
                mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
        return value

    return tracked


def log_table(name: str, table: pd.DataFrame) -> None:
    """Log ``table`` as the MLflow table artifact ``tables/<name>.json``.

    Args:
        name: The table's catalog name.
        table: The table (its index is dropped, as the catalog's parquet files drop it).
    """
    mlflow = _mlflow()
    if mlflow is None:
        return
    with warnings.catch_warnings():
        # MLflow's own select_dtypes(include=["object"]) warns under pandas 3 about string
        # columns: nothing a user can act on.
        warnings.filterwarnings("ignore", message=r"For backward compatibility, 'str' dtypes")
        mlflow.log_table(table.reset_index(drop=True), artifact_file=f"tables/{name}.json")


def log_scores(
    name: str, table: pd.DataFrame, *, key: str = "model", columns: Sequence[str] = SCORE_COLUMNS
) -> None:
    """Log an evaluation table's headline scores as run metrics ``<name>.<row>.<column>``.

    So that runs can be compared on them (``model_evaluation.unet.spearman``). Absent
    columns and non-finite values are left out.

    Args:
        name: The table's catalog name.
        table: One row per model, named in the column ``key``.
        key: The column naming the rows.
        columns: The score columns logged.
    """
    mlflow = _mlflow()
    if mlflow is None:
        return
    present = [c for c in columns if c in table.columns]
    metrics = {
        f"{name}.{row[key]}.{column}": float(row[column])
        for _, row in table.iterrows()
        for column in present
        if pd.notna(row[column]) and math.isfinite(float(row[column]))
    }
    if metrics:
        mlflow.log_metrics(metrics)


def log_summary(name: str, summary: Mapping[str, Any]) -> None:
    """Log a JSON-safe mapping as the artifact ``<name>.json`` (a study's best trial).

    Args:
        name: The catalog name.
        summary: The mapping.
    """
    mlflow = _mlflow()
    if mlflow is None:
        return
    mlflow.log_dict(dict(summary), f"{name}.json")


def log_model_artefact(name: str, artefact: ModelArtefact) -> None:
    """Log a model artefact as the artifact folder ``models/<name>``.

    The folder is written by :func:`rainscore.models.artefacts.save_artefact` (the
    safetensors weights and ``model.json``, as the catalog stores it), so that
    :func:`rainscore.models.artefacts.load_artefact` reads the downloaded folder.

    Args:
        name: The catalog name (``unet_model``).
        artefact: The model.
    """
    mlflow = _mlflow()
    if mlflow is None:
        return
    with tempfile.TemporaryDirectory(prefix="rainscore-tracking-") as tmp:
        folder = Path(tmp) / name
        save_artefact(artefact, folder)
        mlflow.log_artifacts(str(folder), artifact_path=f"models/{name}")
