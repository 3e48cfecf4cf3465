"""The inference pipeline on IMERG files alone: the repo's real V06B/V07A samples (a 10 x 10
corner at the South Pole) and the tiny world's granules, with tiny untrained artefacts."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from rainscore.models import INPUT_CHANNELS, NormStats, seed_everything
from rainscore.models.artefacts import ModelArtefact
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig, autoencoder_artefact
from rainscore.models.clustering import KMeansConfig, cluster_artefact, fit_kmeans
from rainscore.models.experiment import unet_artefact
from rainscore.models.inference import (
    INFERENCE_COLUMNS,
    InferenceConfig,
    find_imerg_files,
    tiles,
)
from rainscore.models.intervals import SplitConformal
from rainscore.models.labelling import DistanceOOD, LabelConfig, fit_labels
from rainscore.models.unet import UNet, UNetConfig
from rainscore.pipeline_registry import register_pipelines

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "imerg"
POLE_BOX = {"lat_min": -90.0, "lat_max": -89.0, "lon_min": -180.0, "lon_max": -179.0}
SAMPLE_TIME = np.datetime64("2000-06-01T00:00")


def _artefacts(map_shape: tuple[int, int]) -> tuple[ModelArtefact, ModelArtefact]:
    """An untrained U-Net (calibrated on made-up residuals) and a k-means of an untrained
    autoencoder's random embeddings, labelled with made-up scores."""
    torch.set_num_threads(1)
    seed_everything(0)
    n = len(INPUT_CHANNELS)
    norm = NormStats(INPUT_CHANNELS, (0.0,) * n, (1.0,) * n, (1,) * n)
    conformal = SplitConformal.calibrate(np.zeros(10), np.linspace(-0.5, 0.5, 10), 0.8)
    unet = unet_artefact(UNet(UNetConfig(n, depth=1, width=4)), norm, conformal=conformal)
    config = AutoencoderConfig(n, map_shape=map_shape, depth=1, width=4, latent_dim=4)
    autoencoder = Autoencoder(config)
    saved = autoencoder_artefact(autoencoder, norm)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 4))
    cluster = fit_kmeans(z, KMeansConfig(n_clusters=2, n_init=2))
    assigned, _ = cluster.assign(z)
    scores = rng.uniform(size=40)
    labels = fit_labels(assigned[:30], scores[:30], 2, LabelConfig(min_count=2)).calibrate(
        assigned[30:], scores[30:], 0.8
    )
    metadata = {
        "autoencoder": {"config": saved.config, "metadata": saved.metadata},
        "labels": labels.to_dict(),
        "ood": DistanceOOD.fit(cluster.nearest_distance(z), 0.99).to_dict(),
        "silhouette": 0.0,
        "target": "fss_t0.5_w9",
    }
    return unet, cluster_artefact(cluster, encoder=autoencoder, metadata=metadata)


def _run(project, unet: ModelArtefact, kmeans: ModelArtefact, **inference) -> object:
    project.params["inference"].update({"device": "cpu", "batch_size": 4, **inference})
    catalog = project.catalog()
    catalog.save("unet_model", unet)
    for name in ("kmeans_model", "dec_model", "desom_model"):
        catalog.save(name, kmeans)
    return project.run("inference").load("inference_scores")


@pytest.mark.parametrize("version", ["V06B", "V07A"])
def test_scores_real_samples_on_a_box_of_the_training_shape(project, version):
    unet, kmeans = _artefacts((10, 10))
    table = _run(
        project, unet, kmeans, imerg_files=str(SAMPLES / f"*.{version}.HDF5"), box=POLE_BOX
    )
    assert list(table.columns) == list(INFERENCE_COLUMNS)
    assert len(table) == 1
    assert table["time"].to_numpy()[0] == SAMPLE_TIME
    numbers = table[[c for c in INFERENCE_COLUMNS if c.startswith(("unet_", "cluster_"))]]
    numbers = numbers.drop(columns="cluster_method").to_numpy(dtype=float)
    assert np.isfinite(numbers).all()
    row = table.iloc[0]
    assert row["unet_lower"] < row["unet_score"] < row["unet_upper"]
    assert row["unet_upper"] - row["unet_lower"] == pytest.approx(2 * 0.5, abs=1e-9)
    assert row["cluster_lower"] <= row["cluster_score"] <= row["cluster_upper"]
    assert row["cluster_method"] == "kmeans"
    assert row["cluster_id"] in (0, 1)
    edges = row[["tile_lat_min", "tile_lat_max", "tile_lon_min", "tile_lon_max"]]
    assert edges.tolist() == pytest.approx([-90.0, -89.0, -180.0, -179.0])


def test_scores_every_granule_of_the_training_box_by_default(project, tiny_world, tiny_box):
    # By default (imerg_files null) the granules are the catalog's imerg_raw, which the
    # test project points at the tiny world's IMERG folder.
    unet, kmeans = _artefacts((10, 15))
    table = _run(project, unet, kmeans, imerg_files=None, box=None)
    n_files = len(list((tiny_world / "imerg").rglob("3B-HHR*")))
    assert len(table) == n_files == 12  # six hours of half-hourly granules
    assert table["time"].is_monotonic_increasing
    assert table["ood"].dtype == bool
    assert np.isfinite(table["unet_score"]).all() and np.isfinite(table["cluster_score"]).all()


def test_refuses_a_model_of_other_channels(project):
    unet, kmeans = _artefacts((10, 10))
    metadata = {**unet.metadata, "input_channels": list(INPUT_CHANNELS[:5])}
    other = dataclasses.replace(unet, metadata=metadata)
    with pytest.raises(ValueError, match=r"unet_model was trained on the input channels .*"):
        _run(project, other, kmeans, imerg_files=str(SAMPLES / "*.V07A.HDF5"), box=POLE_BOX)


def test_scores_a_larger_box_by_tiles_of_the_training_shape(project, tiny_world):
    unet, kmeans = _artefacts((10, 10))
    table = _run(project, unet, kmeans, imerg_files=str(tiny_world / "imerg"), box=None)
    assert len(table) == 2 * 12  # the 10 x 15 box: columns 0-9 and 5-14, each half hour
    first = table[table["time"] == table["time"].iloc[0]]
    edges = first[["tile_lat_min", "tile_lat_max", "tile_lon_min", "tile_lon_max"]]
    expected = [[45.0, 46.0, 1.0, 2.0], [45.0, 46.0, 1.5, 2.5]]
    np.testing.assert_allclose(edges.to_numpy(dtype=float), expected, atol=1e-9)
    assert np.isfinite(table["unet_score"]).all() and np.isfinite(table["cluster_score"]).all()


def test_tiles_cover_the_grid_ending_on_its_edges():
    assert tiles((10, 15), (10, 10)) == [(slice(0, 10), slice(0, 10)), (slice(0, 10), slice(5, 15))]
    assert tiles((4, 4), (2, 2)) == [
        (slice(r, r + 2), slice(c, c + 2)) for r in (0, 2) for c in (0, 2)
    ]


def test_refuses_a_box_smaller_than_the_training_maps(project):
    unet, kmeans = _artefacts((8, 12))
    with pytest.raises(
        ValueError, match=r"10 x 10 cells; the models were trained on maps of 8 x 12"
    ):
        _run(project, unet, kmeans, imerg_files=str(SAMPLES / "*.V07A.HDF5"), box=POLE_BOX)


def test_a_granule_without_a_channel_is_named(project, tmp_path):
    source = SAMPLES / "3B-HHR.MS.MRG.3IMERG.20000601-S000000-E002959.0000.V06B.HDF5"
    damaged = tmp_path / "imerg" / source.name
    damaged.parent.mkdir()
    shutil.copy(source, damaged)
    with h5py.File(damaged, "r+") as h5:
        del h5["Grid/IRkalmanFilterWeight"]
    unet, kmeans = _artefacts((10, 10))
    with pytest.raises(
        ValueError, match=r"V06B\.HDF5 \(V06B\) lacks the IMERG variable 'ir_influence'"
    ):
        _run(project, unet, kmeans, imerg_files=str(damaged.parent), box=POLE_BOX)


def test_registered_after_clustering_in_the_default_run():
    pipelines = register_pipelines()
    assert "inference_scores" in pipelines["inference"].outputs()
    assert pipelines["__default__"].only_nodes_with_tags("inference").outputs() == {
        "inference_scores"
    }
    assert all("gpu" in node.tags for node in pipelines["inference"].nodes)


def test_refuses_a_clustering_of_other_channels(project):
    unet, kmeans = _artefacts((10, 10))
    autoencoder = kmeans.metadata["autoencoder"]
    inner = {**autoencoder["metadata"], "input_channels": ["precipitation"]}
    metadata = {**kmeans.metadata, "autoencoder": {**autoencoder, "metadata": inner}}
    other = dataclasses.replace(kmeans, metadata=metadata)
    with pytest.raises(
        ValueError, match=r"kmeans_model was trained on the input channels \['precip"
    ):
        _run(project, unet, other, imerg_files=str(SAMPLES / "*.V07A.HDF5"), box=POLE_BOX)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"method": "som"},
            r"inference.method must be one of \['kmeans', 'dec', 'desom'\], got 'som'",
        ),
        ({"batch_size": 0}, r"inference.batch_size must be a whole number >= 1, got 0"),
        ({"box": {"lat_min": 1.0}}, r"inference.box: .*lacks the key 'lat_max'"),
        ({"imerg_fils": "x"}, r"imerg_fils"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(ValueError, match=message):
        InferenceConfig.from_dict(params)


def test_no_granule_found_names_the_parameter(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"inference.imerg_files: no IMERG granule found"):
        find_imerg_files(str(tmp_path))
