"""Run tracking (``rainscore.tracking``): no-ops without an MLflow run, and what a tracked run
logs, first function by function into a temporary store, then through a real Kedro session
(kedro-mlflow's hook, the project's ``TrackingHooks``) running the model pipelines on the
factories' tiny inputs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import optuna
import pandas as pd
import pytest
import torch
from mlflow.tracking import MlflowClient

from rainscore import tracking
from rainscore.models.artefacts import ModelArtefact, load_artefact
from rainscore.models.study import loss_objective
from rainscore.models.training import TrainResult
from rainscore.models.tuning import Dimension

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def module_store(tmp_path_factory) -> str:
    """One temporary MLflow store for the module (creating one takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('tracking') / 'mlflow.db'}"


@pytest.fixture
def store(module_store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The module's store as MLflow's tracking URI, and an experiment named after the test
    whose artifacts go to ``tmp_path`` (MLflow's default, ``./mlruns``, is the working
    directory: the checkout)."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(module_store)
    artifacts = (tmp_path / "artifacts").as_uri()
    MlflowClient(module_store).create_experiment(request.node.name, artifact_location=artifacts)
    mlflow.set_experiment(request.node.name)
    yield module_store
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


def _history(client: MlflowClient, run_id: str, key: str) -> list[tuple[int, float]]:
    return [(m.step, m.value) for m in client.get_metric_history(run_id, key)]


def test_without_an_active_run_every_function_does_nothing() -> None:
    assert mlflow.active_run() is None
    assert not tracking.is_tracking()
    tracking.log_epoch(1, {"train_loss": 1.0})
    tracking.log_history([{"epoch": 1, "train_loss": 1.0}], prefix="dec")
    tracking.log_table("t", pd.DataFrame({"a": [1]}))
    tracking.log_scores("t", pd.DataFrame({"model": ["m"], "spearman": [0.5]}))
    tracking.log_summary("s", {"a": 1})
    study = optuna.create_study()
    trial = study.ask()
    with tracking.trial_run(trial, what="m"):
        pass
    assert tracking.tracked_objective(lambda t: 0.25, what="m")(study.ask()) == 0.25
    assert mlflow.active_run() is None


def test_the_library_runs_untracked_without_importing_mlflow() -> None:
    """A script (or a node outside a session) that calls the callbacks never loads MLflow."""
    probe = (
        "import sys; from rainscore import tracking; "
        "tracking.log_epoch(1, {'train_loss': 1.0}); "
        "tracking.log_table('t', __import__('pandas').DataFrame({'a': [1]})); "
        "print('mlflow' in sys.modules, tracking.is_tracking())"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["False", "False"]


def test_epochs_are_steps_and_nan_is_left_out(store: str) -> None:
    with mlflow.start_run() as run:
        on_epoch = tracking.epoch_logger("unet")
        assert on_epoch(1, {"train_loss": 2.0, "val_loss": math.nan}) is None  # never stops
        on_epoch(2, {"train_loss": 1.0, "val_loss": 0.5})
        tracking.log_history(
            [
                {"epoch": 1, "train_loss": 3.0, "val_loss": math.nan, "seconds": 9.0},
                {"epoch": 2, "train_loss": 2.5, "val_loss": math.nan, "seconds": 9.0},
            ],
            prefix="dec",
        )
    client = MlflowClient(store)
    assert _history(client, run.info.run_id, "unet.train_loss") == [(1, 2.0), (2, 1.0)]
    assert _history(client, run.info.run_id, "unet.val_loss") == [(2, 0.5)]
    assert _history(client, run.info.run_id, "dec.train_loss") == [(1, 3.0), (2, 2.5)]
    assert set(client.get_run(run.info.run_id).data.metrics) == {
        "unet.train_loss",
        "unet.val_loss",
        "dec.train_loss",
    }


def _fake_train(losses: dict[float, list[float]]) -> Any:
    """``train(values, on_epoch)`` whose validation losses depend on the drawn ``x``."""

    def train(values: dict[str, Any], on_epoch: Any) -> TrainResult:
        curve = losses[values["x"]]
        for epoch, loss in enumerate(curve, start=1):
            on_epoch(epoch, {"train_loss": 2 * loss, "val_loss": loss})
        best = min(range(len(curve)), key=curve.__getitem__)
        return TrainResult([], best + 1, curve[best], {})

    return train


def test_each_trial_is_a_child_run_with_its_params_epochs_value_and_state(store: str) -> None:
    space = {"x": Dimension.from_dict({"type": "categorical", "choices": [1.0, 2.0]}, section="x")}
    objective = loss_objective(
        space,
        _fake_train({1.0: [0.9, 0.4, 0.6], 2.0: [0.8, 0.7, 0.3]}),
        what="toy",
        on_epoch=tracking.log_epoch,
    )
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    with mlflow.start_run(run_name="parent") as parent:
        study.optimize(tracking.tracked_objective(objective, what="toy"), n_trials=2)

        def pruned(trial: optuna.Trial) -> float:
            trial.suggest_float("y", 0.0, 1.0)
            raise optuna.TrialPruned

        def broken(trial: optuna.Trial) -> float:
            raise RuntimeError("boom")

        study.optimize(tracking.tracked_objective(pruned, what="toy"), n_trials=1)
        study.optimize(
            tracking.tracked_objective(broken, what="toy"), n_trials=1, catch=(RuntimeError,)
        )
        assert mlflow.active_run().info.run_id == parent.info.run_id
    client = MlflowClient(store)
    children = client.search_runs(
        [parent.info.experiment_id],
        f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
        order_by=["attributes.start_time ASC"],
    )
    assert [c.info.run_name for c in children] == [f"toy trial {n}" for n in range(4)]
    states = [c.data.tags["optuna.state"] for c in children]
    assert states == ["COMPLETE", "COMPLETE", "PRUNED", "FAIL"]
    assert [c.info.status for c in children] == ["FINISHED", "FINISHED", "KILLED", "FAILED"]
    for child, trial in zip(children[:2], study.trials[:2], strict=True):
        x = trial.params["x"]
        assert child.data.params == {"x": str(x)}
        assert child.data.metrics["value"] == pytest.approx(trial.value)
        assert child.data.metrics["best_epoch"] == trial.user_attrs["best_epoch"]
        curve = {1.0: [0.9, 0.4, 0.6], 2.0: [0.8, 0.7, 0.3]}[x]
        assert _history(client, child.info.run_id, "val_loss") == list(
            zip([1, 2, 3], curve, strict=True)
        )
        assert [s for s, _ in _history(client, child.info.run_id, "train_loss")] == [1, 2, 3]
    assert children[2].data.params == {"y": str(study.trials[2].params["y"])}
    assert client.get_run(parent.info.run_id).data.metrics == {}  # trials log to children


def test_tables_scores_summaries_and_models_are_artifacts(store: str, tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "model": ["climatology", "unet"],
            "kind": ["baseline", "deep"],
            "spearman": [math.nan, 0.62],
            "mae": [0.1, 0.07],
            "beats_best_baseline": [False, True],
        }
    )
    artefact = ModelArtefact(
        "unet", {"width": 4}, {"w": torch.arange(6, dtype=torch.float32)}, {"note": "x"}
    )
    with mlflow.start_run() as run:
        tracking.log_table("model_evaluation", table)
        tracking.log_scores("model_evaluation", table)
        tracking.log_summary("unet_best_params", {"best_trial": 1, "params": {"width": 4}})
        tracking.log_model_artefact("unet_model", artefact)
    client = MlflowClient(store)
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith(tmp_path.as_uri())
    assert client.get_run(run_id).data.metrics == {
        "model_evaluation.unet.spearman": 0.62,
        "model_evaluation.unet.mae": 0.07,
        "model_evaluation.climatology.mae": 0.1,
    }
    logged = json.loads(
        Path(
            client.download_artifacts(run_id, "tables/model_evaluation.json", str(tmp_path))
        ).read_text()
    )
    assert logged["columns"] == list(table.columns)
    assert logged["data"][1] == ["unet", "deep", 0.62, 0.07, True]
    summary = Path(client.download_artifacts(run_id, "unet_best_params.json", str(tmp_path)))
    assert json.loads(summary.read_text())["params"] == {"width": 4}
    folder = client.download_artifacts(run_id, "models/unet_model", str(tmp_path))
    loaded = load_artefact(folder)
    assert loaded.kind == "unet" and loaded.config == {"width": 4}
    torch.testing.assert_close(loaded.state["w"], artefact.state["w"])
