"""The clustering pipeline on the factories' cube, an untrained tiny autoencoder's embeddings
and a model_evaluation of two baselines."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from rainscore.grids import Box
from rainscore.hooks import MissingInputsHooks
from rainscore.models import INPUT_CHANNELS, NormStats, SplitConfig, make_split, seed_everything
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig, autoencoder_artefact
from rainscore.models.clustering import cluster_from_artefact
from rainscore.models.evaluation import evaluation_table
from rainscore.models.labelling import ClusterLabels
from rainscore.param_sections import ClusteringSection, ParameterError
from rainscore.pipeline_registry import register_pipelines
from rainscore.pipelines.clustering.nodes import ASSIGNMENT_COLUMNS
from rainscore.pipelines.representation.nodes import embed_imerg_maps
from rainscore.testing import fake_imerg_cube, fake_map_scores

N_TIMES = 48  # 24 h of IMERG maps
N_LABELLED = 40  # the last 4 h have no radar: not in training_split
METHODS = ("kmeans", "dec", "desom")


def _tiny(params: dict) -> None:
    params["training"]["split"] = {"block": "3h", "gap": "30min"}
    params["representation"]["loop"].update({"batch_size": 8, "device": "cpu"})
    clustering = params["clustering"]
    clustering["kmeans"].update({"n_clusters": 3, "n_init": 2})
    clustering["dec"].update({"n_clusters": 3, "n_init": 2, "tol": 0.0})
    clustering["desom"].update({"rows": 1, "cols": 3})
    clustering["loop"].update({"epochs": 2, "batch_size": 8, "device": "cpu"})
    clustering["labelling"].update({"min_count": 2})
    clustering["selection"] = [2, 3, 40]


@pytest.fixture(scope="module")
def clustered(module_project, tiny_box):
    """The representation pipeline's outputs (an untrained autoencoder) and model_evaluation
    saved through the catalog, then the clustering pipeline run."""
    torch.set_num_threads(1)
    _tiny(module_project.params)
    params = module_project.params
    catalog = module_project.catalog()
    box = Box.from_dict(tiny_box)
    cube = fake_imerg_cube(N_TIMES, box=box, seed=1)
    catalog.save("imerg_cube", cube)
    times = pd.DatetimeIndex(cube["time"].values)
    split = make_split(times[:N_LABELLED], SplitConfig.from_dict(params["training"]["split"]))
    catalog.save("training_split", split)
    catalog.save("map_scores", fake_map_scores(N_TIMES, box=box, seed=1))
    seed_everything(0)
    config = AutoencoderConfig(
        len(INPUT_CHANNELS), map_shape=(10, 15), depth=1, width=4, latent_dim=4
    )
    norm = NormStats.fit(catalog.load("imerg_cube"), times[:24])
    catalog.save("autoencoder_model", autoencoder_artefact(Autoencoder(config), norm))
    embeddings, quality = embed_imerg_maps(
        catalog.load("autoencoder_model"),
        catalog.load("imerg_cube"),
        catalog.load("training_split"),
        params["representation"],
        params["training"]["split"],
    )
    catalog.save("latent_embeddings", embeddings)
    catalog.save("reconstruction_quality", quality)
    baselines = [
        {"model": "climatology", "kind": "baseline", "spearman": math.nan, "n_test": 8},
        {"model": "gradient_boosting", "kind": "baseline", "spearman": 0.3, "n_test": 8},
        {"model": "unet", "kind": "deep", "spearman": 0.5, "n_test": 8},
    ]
    catalog.save("model_evaluation", evaluation_table(baselines))
    return module_project.run("clustering")


def test_every_output_is_written(clustered, module_project) -> None:
    root = module_project.root / "data"
    for path in (
        "06_models/kmeans_model",
        "06_models/dec_model",
        "06_models/desom_model",
        "07_model_output/cluster_labels.parquet",
        "08_reporting/clustering_evaluation.parquet",
        "08_reporting/clustering_selection.parquet",
    ):
        assert len(list((root / path).iterdir())) == 1, path  # one version


def test_each_method_is_a_clustering_with_its_labels(clustered) -> None:
    labels = clustered.load("cluster_labels")
    assert labels["method"].tolist() == ["kmeans"] * 3 + ["dec"] * 3 + ["desom"] * 3
    for method in METHODS:
        artefact = clustered.load(f"{method}_model")
        cluster, encoder_state = cluster_from_artefact(artefact)
        assert cluster.method == method and cluster.n_clusters == 3
        assert encoder_state and artefact.metadata["autoencoder"]["config"]["latent_dim"] == 4
        stored = ClusterLabels.from_dict(artefact.metadata["labels"])
        assert stored.conformal is not None and stored.conformal.coverage == 0.8
        mine = labels[labels["method"] == method]
        np.testing.assert_array_equal(mine["median"], stored.median)
        train_maps = int(mine["count"].sum())
        assert 0 < train_maps <= N_LABELLED
    assert cluster_from_artefact(clustered.load("desom_model"))[0].grid == (1, 3)


def test_assignments_and_the_estimates_follow_the_labels(clustered) -> None:
    assignments = clustered.load("dec_assignments")
    assert list(assignments.columns) == list(ASSIGNMENT_COLUMNS)
    assert len(assignments) == N_TIMES and assignments["time"].is_monotonic_increasing
    labels = ClusterLabels.from_dict(clustered.load("dec_model").metadata["labels"])
    np.testing.assert_array_equal(
        assignments["estimate"], labels.median[assignments["cluster"].to_numpy()]
    )
    # estimate ± the conformal half-width, clipped to the target's range (an FSS: [0, 1])
    half = labels.conformal.quantile
    assert labels.conformal.bounds == (0.0, 1.0)
    np.testing.assert_allclose(assignments["upper"], np.minimum(assignments["estimate"] + half, 1))
    np.testing.assert_allclose(assignments["lower"], np.maximum(assignments["estimate"] - half, 0))
    assert assignments["actual"].iloc[N_LABELLED:].notna().all()  # scores exist, no split
    assert set(assignments["split"].iloc[N_LABELLED:]) == {"unlabelled"}


def test_the_evaluation_puts_every_method_beside_the_unet(clustered) -> None:
    evaluation = clustered.load("clustering_evaluation").set_index("model")
    expected = ["climatology", "gradient_boosting", "unet"]
    assert evaluation.index.tolist() == expected + [f"clustering:{m}" for m in METHODS]
    rows = evaluation.loc[[f"clustering:{m}" for m in METHODS]]
    assert (rows["n_clusters"] == 3).all() and (rows["kind"] == "deep").all()
    assert rows["nmi"].between(0, 1).all() and rows["ari"].notna().all()
    assert rows["reconstruction_mse"].gt(0).all() and rows["iqr_coverage"].between(0, 1).all()
    assert evaluation.loc["unet", "verdict"] == "beats every baseline"
    assert evaluation["rank"].min() == 1


def test_selection_reports_silhouette_per_cluster_count(clustered) -> None:
    selection = clustered.load("clustering_selection")
    assert selection["n_clusters"].tolist() == [2, 3]  # 40 clusters: more than the maps
    assert selection["silhouette"].between(-1, 1).all()
    quality = clustered.load("reconstruction_quality").set_index("split")
    assert (selection["reconstruction_mse"] == quality.loc["validation", "mse"]).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dec": {"tol": 2}}, r"clustering\.dec: dec\.tol must be a fraction"),
        ({"desom": {"row": 2}}, r"Unknown clustering\.desom parameters"),
        ({"selection": [1, 4]}, r"clustering\.selection must be a list"),
        ({"labeling": {}}, r"unknown parameter 'clustering\.labeling'"),
    ],
)
def test_bad_parameters_are_named(params, message) -> None:
    with pytest.raises(ParameterError, match=message):
        ClusteringSection.from_dict(params)


def test_the_saved_inputs_pass_the_missing_inputs_check(clustered) -> None:
    pipeline = register_pipelines()["clustering"]
    MissingInputsHooks().before_pipeline_run(
        {"pipeline_names": ["clustering"]}, pipeline, clustered
    )
