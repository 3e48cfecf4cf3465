"""A pipeline run alone before its inputs exist names the pipelines to run first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rainscore.hooks import MissingInputsError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's configuration in a temporary folder (no data)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # the package itself is imported from the environment
    return root


def test_clustering_without_its_inputs_names_the_pipelines_to_run_first(
    project_copy: Path,
) -> None:
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with (
        KedroSession.create(project_path=project_copy) as session,
        pytest.raises(MissingInputsError) as raised,
    ):
        session.run(pipeline_names=["clustering"])
    message = str(raised.value)
    assert message.startswith("The clustering pipeline needs inputs that do not exist yet:")
    assert raised.value.exit_code == 1  # a click error: "Error: <message>", no traceback
    assert "autoencoder_model, latent_embeddings, reconstruction_quality (representation)" in (
        message
    )
    assert "model_evaluation (training)" in message and "map_scores (scoring)" in message
    assert "kedro run --pipelines=ingestion,scoring,training,representation" in message
    assert not (project_copy / "data").exists()


def test_present_inputs_and_inputs_no_pipeline_makes_pass() -> None:
    from kedro.io import DataCatalog, MemoryDataset

    from rainscore.hooks import MissingInputsHooks, _project_pipelines

    training = _project_pipelines()["training"]
    made_elsewhere = {"imerg_cube", "local_error_maps", "map_scores"}
    assert made_elsewhere < training.inputs() and "unet_study" in training.inputs()
    catalog = DataCatalog({name: MemoryDataset(0) for name in made_elsewhere})
    MissingInputsHooks().before_pipeline_run({"pipeline_names": ["training"]}, training, catalog)
    catalog = DataCatalog({name: MemoryDataset() for name in made_elsewhere})  # empty
    with pytest.raises(MissingInputsError, match=r"map_scores \(scoring\)"):
        MissingInputsHooks().before_pipeline_run({}, training, catalog)
