"""The 2-D view of the latent space: PCA of the embeddings, coloured by score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.models.clustering import ClusterModel, cluster_artefact
from rainscore.reporting.latent import fit_pca, latent_columns, latent_report_figure


def _two_clusters(n: int = 40, d: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Two groups 10 apart along one direction of a 6-D space, unit noise."""
    rng = np.random.default_rng(3)
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    group = np.repeat([0, 1], n // 2)
    z = rng.normal(size=(n, d)) * 0.5 + np.outer(group * 10.0, direction)
    return z, group


def test_the_first_axis_separates_two_clusters_and_carries_their_variance() -> None:
    z, group = _two_clusters()
    pca = fit_pca(z)
    x = pca.project(z)[:, 0]
    assert x[group == 0].max() < x[group == 1].min() or x[group == 1].max() < x[group == 0].min()
    assert pca.explained[0] > 0.9 and pca.explained.sum() <= 1.0
    np.testing.assert_allclose(np.linalg.norm(pca.components, axis=1), 1.0)
    np.testing.assert_allclose(pca.project(z).mean(axis=0), 0.0, atol=1e-12)
    # a centroid projects where its maps do (the projection is affine)
    np.testing.assert_allclose(
        pca.project(z[group == 1].mean(axis=0)), pca.project(z)[group == 1].mean(axis=0)
    )


def test_one_latent_dimension_gives_a_flat_second_axis() -> None:
    pca = fit_pca(np.arange(5.0)[:, None])
    np.testing.assert_allclose(pca.explained, [1.0, 0.0])
    np.testing.assert_allclose(pca.project([[2.0], [4.0]]), [[0.0, 0.0], [2.0, 0.0]])


def test_too_few_or_non_finite_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match=r"fit_pca: need finite .* got \(1, 3\)"):
        fit_pca(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="fit_pca"):
        fit_pca([[0.0, np.nan], [1.0, 2.0]])


def test_the_report_figure_colours_by_score_marks_splits_and_projects_the_centroids() -> None:
    z, group = _two_clusters()
    times = pd.date_range("2024-06-10", periods=len(z), freq="30min")
    embeddings = pd.DataFrame(z, columns=[f"z_{i}" for i in range(z.shape[1])])
    embeddings = embeddings[
        [f"z_{i}" for i in (0, 1, 2, 3, 4, 5)][::-1]
    ]  # reversed: sorted back by number
    embeddings.insert(0, "time", times)
    embeddings.insert(1, "split", np.where(np.arange(len(z)) % 4 == 3, "test", "train"))
    assert latent_columns(embeddings) == [f"z_{i}" for i in range(6)]
    actual = group * 0.8 + 0.1
    actual[0] = np.nan  # too dry
    scores = pd.DataFrame({"fss_t0.5_w9": actual}, index=times)
    centroids = np.stack([z[group == 0].mean(axis=0), z[group == 1].mean(axis=0)])
    kmeans = cluster_artefact(ClusterModel("kmeans", centroids))
    report = latent_report_figure(embeddings, scores, kmeans, target="fss_t0.5_w9")
    assert (report.name, report.section) == ("latent_pca", "latent")
    ax = report.figure.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["train (30)", "test (10)", "target undefined", "k-means centroid"]
    assert "principal axis 1 of the latent space" in ax.get_xlabel()
    assert "of variance" in ax.get_ylabel()
    assert report.figure.axes[1].get_ylabel() == "actual fss_t0.5_w9 (radar)"
    filled = ax.collections[0]  # the train maps with a defined score
    np.testing.assert_allclose(
        filled.get_array(),
        actual[(embeddings["split"] == "train").to_numpy() & np.isfinite(actual)],
    )
    (centres,) = [c for c in ax.collections if len(c.get_offsets()) == 2]
    x = centres.get_offsets()[:, 0]
    assert [t.get_text() for t in ax.texts] == ["0", "1"]
    assert abs(x[1] - x[0]) > 8  # the centroids lie 10 apart on the first axis


def test_no_embeddings_say_so() -> None:
    report = latent_report_figure(None, None, None, target="fss_t0.5_w9")
    text = report.figure.axes[0].texts[0].get_text()
    assert text == "no latent embeddings (run the representation pipeline)"
