"""One ``kedro run`` of the model pipelines through a real Kedro session is one MLflow run.

A copy of the project's configuration in a temporary folder (the working directory, as for
``kedro run``), the factories' tiny inputs saved through its catalog, the training,
representation and clustering pipelines run with tiny budgets in one session, tracked by
kedro-mlflow (``conf/base/mlflow.yml``) into a temporary store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
import torch
import yaml
from kedro.io import DataCatalog
from mlflow.entities import Run
from mlflow.tracking import MlflowClient

from rainscore.analysis import local_error_blocks
from rainscore.grids import Box
from rainscore.hooks import TRACKED_MODELS, TRACKED_TABLES
from rainscore.models import load_artefact
from rainscore.testing import fake_imerg_cube, fake_map_scores, fake_pairs

ROOT = Path(__file__).resolve().parents[1]
N_TIMES = 96  # 48 h: 16 blocks of 3 h, every split present
PIPELINES = ["training", "representation", "clustering"]
EPOCHS = {"unet": 2, "autoencoder": 2, "clustering": 2}
TRIALS = {"unet": 2, "autoencoder": 2}


def _tiny(box: dict[str, float]) -> dict[str, Any]:
    """Runtime parameters: the tiny box, everything in this process, budgets of seconds."""
    return {
        "box": box,
        "execution": {"executor": "sequential", "progress": False},
        "training": {
            "split": {"block": "3h", "gap": "30min"},
            "loop": {"epochs": EPOCHS["unet"], "batch_size": 8, "device": "cpu"},
            "unet": {"depth": 2, "width": 4},
            "tuning": {
                "n_trials": TRIALS["unet"],
                "space": {"width": {"type": "categorical", "choices": [4, 8]}},
            },
        },
        "representation": {
            "autoencoder": {"depth": 1, "width": 4},
            "loop": {"epochs": EPOCHS["autoencoder"], "batch_size": 8, "device": "cpu"},
            "tuning": {
                "n_trials": TRIALS["autoencoder"],
                "space": {"latent_dim": {"type": "categorical", "choices": [4, 8]}},
            },
        },
        "clustering": {
            "kmeans": {"n_clusters": 3, "n_init": 2},
            "dec": {"n_clusters": 3, "n_init": 2, "tol": 0.0},
            "desom": {"rows": 1, "cols": 3},
            "loop": {"epochs": EPOCHS["clustering"], "batch_size": 8, "device": "cpu"},
            "labelling": {"min_count": 2},
            "selection": [2, 3],
        },
    }


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, tiny_box) -> Iterator[tuple[MlflowClient, Run, DataCatalog]]:
    """The session's run in its store, and the project's catalog (the working directory
    stays the project's until the module ends)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tracked") / "project"
    root.mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # the package itself is imported from the environment
    uri = f"sqlite:///{root.parent / 'store' / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)  # the catalog's data/ paths are relative, as for kedro run
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        raw = yaml.safe_load((root / "conf" / "base" / "catalog.yml").read_text())
        catalog = DataCatalog.from_config({k: v for k, v in raw.items() if not k.startswith("_")})
        box = Box.from_dict(tiny_box)
        catalog.save("imerg_cube", fake_imerg_cube(N_TIMES, box=box, seed=1))
        pairs = fake_pairs(N_TIMES, box=box, seed=1)
        catalog.save(
            "local_error_maps",
            local_error_blocks(
                pairs, threshold=0.5, window=9, attrs={"target_score": "fss_t0.5_w9"}
            ),
        )
        catalog.save("map_scores", fake_map_scores(N_TIMES, box=box, seed=1))
        bootstrap_project(root)
        with KedroSession.create(project_path=root, runtime_params=_tiny(tiny_box)) as session:
            session.run(pipeline_names=PIPELINES)
        assert mlflow.active_run() is None  # nothing left open for the next session
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name("rainscore")
        runs = client.search_runs([experiment.experiment_id], "tags.`kedro_command` != ''")
        assert len(runs) == 1, [r.info.run_name for r in runs]
        yield client, runs[0], catalog


def _project_copy(root: Path) -> Path:
    """The project's ``pyproject.toml`` and ``conf/`` (an empty ``conf/local``) in ``root``;
    the package comes from the installed (editable) project."""
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    return root


def _children(client: MlflowClient, run: Run) -> list[Run]:
    return client.search_runs(
        [run.info.experiment_id],
        f"tags.mlflow.parentRunId = '{run.info.run_id}'",
        order_by=["attributes.start_time ASC"],
    )


def test_one_finished_run_named_after_the_pipelines_with_the_parameters(tracked) -> None:
    _, run, _ = tracked
    assert run.info.run_name == "+".join(PIPELINES)
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["training.loop.epochs"] == str(EPOCHS["unet"])
    assert params["representation.tuning.n_trials"] == str(TRIALS["autoencoder"])
    assert params["clustering.desom.cols"] == "3"
    assert params["target.score"] == "fss_t0.5_w9"
    assert run.data.tags["kedro_command"] == "kedro run --pipeline=" + ",".join(PIPELINES)
    artifacts = run.info.artifact_uri
    assert artifacts.startswith((Path.cwd() / "data" / "mlflow" / "artifacts").as_uri())


def test_every_fit_has_one_step_per_epoch(tracked) -> None:
    client, run, catalog = tracked
    best_epoch = catalog.load("unet_best_params")["best_epoch"]
    for key, epochs in (
        ("unet.train_loss", best_epoch),  # the final fit: the best trial's epoch count
        ("autoencoder.train_loss", EPOCHS["autoencoder"]),
        ("autoencoder.val_loss", EPOCHS["autoencoder"]),
        ("dec.train_loss", EPOCHS["clustering"]),
        ("desom.train_loss", EPOCHS["clustering"]),
    ):
        steps = [m.step for m in client.get_metric_history(run.info.run_id, key)]
        assert steps == list(range(1, len(steps) + 1)), key
        assert len(steps) == epochs, key
    assert "unet.val_loss" not in run.data.metrics  # the final fit has no validation


def test_each_optuna_trial_is_a_child_run(tracked) -> None:
    client, run, _ = tracked
    children = _children(client, run)
    names = sorted(c.info.run_name for c in children)  # the studies run in either order
    assert names == [f"autoencoder trial {n}" for n in range(TRIALS["autoencoder"])] + [
        f"unet trial {n}" for n in range(TRIALS["unet"])
    ]
    for child in children:
        assert child.data.tags["optuna.state"] == "COMPLETE"
        assert child.info.status == "FINISHED"
        drawn = "width" if child.info.run_name.startswith("unet") else "latent_dim"
        assert drawn in child.data.params  # with the base space's other dimensions
        assert child.data.metrics["value"] > 0
        history = client.get_metric_history(child.info.run_id, "val_loss")
        model = "unet" if child.info.run_name.startswith("unet") else "autoencoder"
        assert [m.step for m in history] == list(range(1, EPOCHS[model] + 1))  # none pruned
        assert min(m.value for m in history) == pytest.approx(child.data.metrics["value"])


def test_the_tables_and_the_models_are_artifacts(tracked, tmp_path) -> None:
    client, run, catalog = tracked
    run_id = run.info.run_id
    tables = {a.path for a in client.list_artifacts(run_id, "tables")}
    assert tables == {f"tables/{name}.json" for name in TRACKED_TABLES}
    assert {a.path for a in client.list_artifacts(run_id, "models")} == {
        f"models/{name}" for name in TRACKED_MODELS
    }
    for name in TRACKED_MODELS:
        logged = load_artefact(client.download_artifacts(run_id, f"models/{name}", str(tmp_path)))
        saved = catalog.load(name)
        assert logged.kind == saved.kind and logged.config == saved.config
        assert logged.metadata == saved.metadata
        for key, tensor in saved.state.items():
            torch.testing.assert_close(logged.state[key], tensor)
    assert {"unet_best_params.json", "autoencoder_best_params.json"} <= {
        a.path for a in client.list_artifacts(run_id)
    }


def test_the_evaluation_scores_are_run_metrics(tracked) -> None:
    _, run, _ = tracked
    metrics = run.data.metrics
    assert -1 <= metrics["model_evaluation.unet.spearman"] <= 1
    assert metrics["clustering_evaluation.clustering:desom.mae"] >= 0
    assert 0 <= metrics["clustering_evaluation.clustering:kmeans.nmi"] <= 1


def test_the_suite_tracks_into_a_temporary_store(mlflow_store: str) -> None:
    """tests/conftest.py: every other session of the suite logs outside the checkout."""
    assert mlflow_store.startswith("sqlite:///")
    assert not Path(mlflow_store.removeprefix("sqlite:///")).is_relative_to(ROOT)


def test_a_run_stopped_by_the_parameter_checks_leaves_no_mlflow_run(tmp_path, monkeypatch) -> None:
    """The checks run before kedro-mlflow opens its run (``tryfirst``)."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from rainscore.param_sections import ParameterError

    root = _project_copy(tmp_path / "project")
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    bootstrap_project(root)
    with (
        KedroSession.create(
            project_path=root, runtime_params={"training": {"loop": {"epochs": -1}}}
        ) as session,
        pytest.raises(ParameterError),
    ):
        session.run(pipeline_names=["training"])
    assert mlflow.active_run() is None
    assert (
        MlflowClient(uri).search_runs(
            [MlflowClient(uri).get_experiment_by_name("rainscore").experiment_id]
        )
        == []
    )


def test_the_default_store_is_the_projects_from_a_subfolder(tmp_path, monkeypatch) -> None:
    """A session started in ``notebooks/`` (as ``%load_ext kedro.ipython`` does) tracks into
    the project's ``data/mlflow/mlflow.db``, not one under the working directory."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = _project_copy(tmp_path / "project")
    (root / "notebooks").mkdir()
    monkeypatch.chdir(root / "notebooks")
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    previous = mlflow.get_tracking_uri()
    bootstrap_project(root)
    try:
        with KedroSession.create(project_path=root) as session:
            uri = session.load_context().mlflow.server.mlflow_tracking_uri
    finally:
        mlflow.set_tracking_uri(previous)
    assert uri == f"sqlite:///{root.resolve().as_posix()}/data/mlflow/mlflow.db"
    assert (root / "data" / "mlflow" / "mlflow.db").is_file()
    assert not (root / "notebooks" / "data").exists()


def test_conf_local_overrides_single_keys_and_the_environment(tmp_path, monkeypatch) -> None:
    """``conf/local/mlflow.yml`` (a shared server's URI) is merged key by key over
    ``conf/base/mlflow.yml`` and wins over ``MLFLOW_TRACKING_URI``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    root = _project_copy(tmp_path / "project")
    local = f"sqlite:///{tmp_path / 'local.db'}"
    (root / "conf" / "local" / "mlflow.yml").write_text(
        yaml.safe_dump(
            {
                "server": {"mlflow_tracking_uri": local},
                "tracking": {
                    "experiment": {"create_experiment_kwargs": {"artifact_location": None}}
                },
            }
        )
    )
    monkeypatch.chdir(root)
    previous = mlflow.get_tracking_uri()
    bootstrap_project(root)
    try:
        with KedroSession.create(project_path=root) as session:
            config = session.load_context().mlflow
    finally:
        mlflow.set_tracking_uri(previous)
    assert config.server.mlflow_tracking_uri == local  # not the suite's MLFLOW_TRACKING_URI
    assert config.tracking.experiment.create_experiment_kwargs.artifact_location is None
    assert config.tracking.experiment.name == "rainscore"  # conf/base's other keys kept
    assert config.tracking.run.nested is False
    assert config.tracking.params.dict_params.flatten is True
