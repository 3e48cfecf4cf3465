"""The representation pipeline on the factories' cube and a training split of part of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.runner import SequentialRunner

from rainscore.analysis.sources import RadarSideInputError
from rainscore.grids import Box
from rainscore.models import INPUT_CHANNELS, ModelArtefact, NormStats, SplitConfig, make_split
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig, autoencoder_artefact
from rainscore.param_sections import ParameterError, RepresentationSection
from rainscore.pipeline_registry import register_pipelines
from rainscore.testing import fake_imerg_cube, fake_pairs

N_TIMES = 48  # 24 h of IMERG maps
N_LABELLED = 40  # the last 4 h have no radar: not in training_split


def _tiny(params: dict) -> None:
    params["training"]["split"] = {"block": "3h", "gap": "30min"}
    representation = params["representation"]
    representation["autoencoder"].update({"depth": 1, "width": 4})
    representation["loop"].update({"epochs": 2, "batch_size": 8, "device": "cpu"})
    representation["tuning"].update(
        {"n_trials": 2, "space": {"latent_dim": {"type": "categorical", "choices": [4, 8]}}}
    )


@pytest.fixture(scope="module")
def represented(module_project, tiny_box):
    """The factories' cube and a split of its first 40 maps saved, then the pipeline run."""
    torch.set_num_threads(1)
    _tiny(module_project.params)
    catalog = module_project.catalog()
    cube = fake_imerg_cube(N_TIMES, box=Box.from_dict(tiny_box), seed=1)
    catalog.save("imerg_cube", cube)
    times = pd.DatetimeIndex(cube["time"].values)
    config = SplitConfig.from_dict(module_project.params["training"]["split"])
    catalog.save("training_split", make_split(times[:N_LABELLED], config))
    return module_project.run("representation")


def test_every_output_is_written(represented, module_project) -> None:
    root = module_project.root / "data"
    for path in (
        "06_models/autoencoder_best_params.json",
        "06_models/autoencoder_model",
        "07_model_output/latent_embeddings.parquet",
        "08_reporting/reconstruction_quality.parquet",
    ):
        assert len(list((root / path).iterdir())) == 1, path  # one version
    assert (root / "06_models/autoencoder_study/journal.log").is_file()


def test_the_model_is_tuned_and_trained_on_the_cube_grid(represented) -> None:
    best = represented.load("autoencoder_best_params")
    assert best["n_trials"] == 2 and set(best["params"]) == {"latent_dim"}
    model = represented.load("autoencoder_model")
    assert isinstance(model, ModelArtefact) and model.kind == "autoencoder"
    assert model.config["latent_dim"] == best["params"]["latent_dim"]
    assert model.config["map_shape"] == [10, 15] and model.config["width"] == 4
    assert model.metadata["input_channels"] == list(INPUT_CHANNELS)
    assert model.metadata["training"]["epochs"] in (1, 2)


def test_every_imerg_map_is_embedded_with_its_split(represented) -> None:
    embeddings = represented.load("latent_embeddings")
    latent_dim = represented.load("autoencoder_model").config["latent_dim"]
    z = [f"z_{i}" for i in range(latent_dim)]
    assert list(embeddings.columns) == ["time", "split", "role", "reconstruction_mse", *z]
    assert len(embeddings) == N_TIMES and embeddings["time"].is_monotonic_increasing
    split = represented.load("training_split")
    assert embeddings["split"].tolist() == [*split["split"], *["unlabelled"] * 8]
    assert np.isfinite(embeddings[z].to_numpy()).all()
    assert (embeddings["reconstruction_mse"] > 0).all()
    role = embeddings.set_index("split")["role"]
    assert set(role[["test", "gap"]]) == {"held_out"}
    assert set(role["train"]) == {"train"} and set(role["validation"]) == {"validation"}


def test_the_quality_table_has_one_row_per_split(represented) -> None:
    quality = represented.load("reconstruction_quality").set_index("split")
    embeddings = represented.load("latent_embeddings")
    assert quality.index[-1] == "all" and quality.loc["all", "n_maps"] == N_TIMES
    counts = embeddings["split"].value_counts()
    assert quality["n_maps"].drop("all").to_dict() == counts.to_dict()
    assert quality.loc["all", "mse"] == pytest.approx(embeddings["reconstruction_mse"].mean())
    channels = [f"mse_{c}" for c in INPUT_CHANNELS]
    np.testing.assert_allclose(quality[channels].mean(axis=1), quality["mse"])


def test_a_model_of_another_grid_is_refused(represented, module_project) -> None:
    catalog = module_project.catalog()
    config = AutoencoderConfig(len(INPUT_CHANNELS), map_shape=(20, 30), depth=1, width=4)
    norm = NormStats(INPUT_CHANNELS, (0.0,) * 6, (1.0,) * 6, (1,) * 6)
    catalog["autoencoder_model"] = autoencoder_artefact(Autoencoder(config), norm)
    pipeline = register_pipelines()["representation"].only_nodes("representation.embed_maps")
    with pytest.raises(ValueError, match=r"trained on maps of \(20, 30\).*has \(10, 15\)"):
        SequentialRunner().run(pipeline, catalog)


def test_a_radar_dataset_as_the_imerg_cube_is_refused(represented, module_project) -> None:
    catalog = module_project.catalog()
    catalog["imerg_cube"] = fake_pairs(4, box=Box.from_dict(module_project.params["box"]), seed=2)
    pipeline = register_pipelines()["representation"].only_nodes("representation.tune_autoencoder")
    with pytest.raises(RadarSideInputError, match=r"radar-side variables \['radar'"):
        SequentialRunner().run(pipeline, catalog)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"autoencoder": {"in_channels": 3}}, r"representation.autoencoder.in_channels is not"),
        ({"autoencoder": {"latent": 8}}, r"Unknown representation.autoencoder parameters"),
        (
            {"tuning": {"space": {"score_weight": {"type": "float", "low": 0, "high": 1}}}},
            r"representation.tuning.space: \['score_weight'\] cannot be tuned",
        ),
        ({"loops": {}}, r"unknown parameter 'representation.loops'"),
    ],
)
def test_bad_parameters_are_named(params, message) -> None:
    with pytest.raises(ParameterError, match=message):
        RepresentationSection.from_dict(params)
