"""The clusters in the report: decoded prototypes in mm/h, the SOM grid by median score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from rainscore.models import INPUT_CHANNELS, NormStats
from rainscore.models.artefacts import ModelArtefact
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig, autoencoder_artefact
from rainscore.models.clustering import ClusterModel, cluster_artefact
from rainscore.models.labelling import DistanceOOD, LabelConfig, fit_labels
from rainscore.reporting.clusters import (
    cluster_figures,
    cluster_label_rows,
    decode_prototypes,
    som_grid_figure,
)
from rainscore.reporting.rain_colours import rain_colour_scale

MAP_SHAPE = (5, 7)  # padded to (6, 8) by a depth-1 autoencoder
PRECIPITATION = INPUT_CHANNELS.index("precipitation")
MEAN, STD = 0.1, 2.0  # the precipitation channel's log1p statistics


def _artefact(
    method: str, bias: float, n_clusters: int = 4, grid: tuple[int, int] | None = None
) -> ModelArtefact:
    """A clustering whose decoder gives ``bias`` (standardised) everywhere on the
    precipitation channel: every weight zero but the head's bias."""
    torch.manual_seed(0)
    n = len(INPUT_CHANNELS)
    mean = tuple(MEAN if i == PRECIPITATION else 0.0 for i in range(n))
    std = tuple(STD if i == PRECIPITATION else 1.0 for i in range(n))
    norm = NormStats(INPUT_CHANNELS, mean, std, (1,) * n)
    autoencoder = Autoencoder(
        AutoencoderConfig(n, map_shape=MAP_SHAPE, depth=1, width=4, latent_dim=3)
    )
    with torch.no_grad():
        for parameter in autoencoder.parameters():
            parameter.zero_()
        autoencoder.head.bias[PRECIPITATION] = bias
    saved = autoencoder_artefact(autoencoder, norm)
    rng = np.random.default_rng(0)
    cluster = ClusterModel(method, rng.normal(size=(n_clusters, 3)), grid=grid)
    z = rng.normal(size=(60, 3))
    assigned, _ = cluster.assign(z)
    scores = rng.uniform(size=60)
    labels = fit_labels(
        assigned[:40], scores[:40], n_clusters, LabelConfig(min_count=2), method=method
    ).calibrate(assigned[40:], scores[40:], 0.8)
    metadata = {
        "autoencoder": {"config": saved.config, "metadata": saved.metadata},
        "labels": labels.to_dict(),
        "ood": DistanceOOD.fit(cluster.nearest_distance(z), 0.99).to_dict(),
        "silhouette": 0.0,
        "target": "fss_t0.5_w9",
    }
    return cluster_artefact(cluster, encoder=autoencoder, metadata=metadata)


def _cube() -> xr.Dataset:
    lat = 45.05 + 0.1 * np.arange(MAP_SHAPE[0])
    lon = 2.05 + 0.1 * np.arange(MAP_SHAPE[1])
    return xr.Dataset(coords={"lat": lat, "lon": lon})


def test_prototypes_are_decoded_on_the_grid_back_in_mm_per_hour() -> None:
    rates, cluster = decode_prototypes(_artefact("kmeans", bias=0.5), "kmeans")
    assert rates.shape == (4, *MAP_SHAPE)  # the padding is cut off
    assert cluster.n_clusters == 4
    np.testing.assert_allclose(rates, np.expm1(0.5 * STD + MEAN), rtol=1e-6)  # 2.004 mm/h
    # a decoded rate below zero (expm1 of a negative log1p) is dry, not negative
    dry, _ = decode_prototypes(_artefact("kmeans", bias=-3.0), "kmeans")
    assert (dry == 0).all()


def test_a_prototype_figure_per_method_titled_with_its_labels_on_the_rain_scale() -> None:
    artefact = _artefact("kmeans", bias=0.5)
    labels = cluster_label_rows(None, artefact, "kmeans")  # from the artefact
    table = labels.assign(method="kmeans", median=[0.1, 0.2, 0.3, 0.4], count=[9, 8, 7, 6])
    (figure,) = cluster_figures({"kmeans": artefact}, table, _cube(), target="fss_t0.5_w9")
    assert figure.name == "cluster_prototypes_kmeans" and figure.section == "clusters"
    panels = [ax for ax in figure.figure.axes if ax.get_title()]
    assert len(panels) == 4
    assert panels[1].get_title().startswith("cluster 1: median 0.20, IQR")
    assert "8 train maps" in panels[1].get_title()
    mesh = panels[0].collections[0]
    cmap, norm = rain_colour_scale()
    assert mesh.cmap.name == cmap.name and list(mesh.norm.boundaries) == list(norm.boundaries)
    assert mesh.get_array().shape == MAP_SHAPE
    assert panels[0].get_ylabel() == "latitude (°N)"
    assert panels[-1].get_xlabel() == "longitude (°E)"
    colourbar = figure.figure.axes[-1]
    assert colourbar.get_ylabel() == "rain rate (mm/h)"


def test_the_som_grid_is_coloured_by_the_median_of_each_unit() -> None:
    labels = pd.DataFrame(
        {
            "cluster": range(6),
            "count": [5, 0, 3, 7, 2, 9],
            "median": [0.1, 0.5, 0.3, 0.9, 0.2, 0.6],
            "q25": 0.0,
            "q75": 1.0,
            "fallback": [False, True, False, False, False, False],
        }
    )
    fig = som_grid_figure(labels, (2, 3), target="fss_t0.5_w9")
    ax = fig.axes[0]
    (image,) = ax.images
    np.testing.assert_allclose(image.get_array(), [[0.1, 0.5, 0.3], [0.9, 0.2, 0.6]])
    colours = image.cmap(image.norm(image.get_array()))
    # viridis grows lighter with the value: the unit of the highest median is the lightest
    brightness = colours[..., :3].mean(axis=-1)
    assert np.unravel_index(brightness.argmax(), brightness.shape) == (1, 0)
    texts = [t.get_text() for t in ax.texts]
    assert texts[1] == "0.50\nn=0\nempty" and texts[3] == "0.90\nn=7"
    assert len(ax.patches) == 1  # the empty unit is hatched
    assert ax.get_xlabel() == "SOM column (unit)" and ax.get_ylabel() == "SOM row (unit)"


def test_desom_gives_its_grid_and_a_missing_method_says_so() -> None:
    desom = _artefact("desom", bias=0.0, n_clusters=6, grid=(2, 3))
    figures = cluster_figures({"kmeans": None, "desom": desom}, None, None, target="fss_t0.5_w9")
    assert [f.name for f in figures] == [
        "cluster_prototypes_kmeans",
        "cluster_prototypes_desom",
        "som_grid_desom",
    ]
    missing = figures[0].figure.axes[0].texts[0].get_text()
    assert missing == "no kmeans_model: run the clustering pipeline"
    prototypes = [ax for ax in figures[1].figure.axes if ax.get_title()]
    assert len(prototypes) == 6
    assert prototypes[0].get_ylabel() == "row (cell)"  # no cube: cell indices
    (image,) = figures[2].figure.axes[0].images
    assert image.get_array().shape == (2, 3)


def test_labels_that_do_not_match_the_prototypes_are_refused() -> None:
    artefact = _artefact("kmeans", bias=0.5)
    table = cluster_label_rows(None, artefact, "kmeans").iloc[:3].assign(method="kmeans")
    with pytest.raises(ValueError, match="kmeans: 4 prototypes but 3 rows"):
        cluster_figures({"kmeans": artefact}, table, None, target="fss_t0.5_w9")
