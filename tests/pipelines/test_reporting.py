"""The reporting pipeline on the tiny world, through the real catalog: ingestion, colocation
and scoring run; the model outputs come from the factories (an untrained tiny autoencoder)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from rainscore.grids import Box
from rainscore.hooks import MissingInputsError, MissingInputsHooks
from rainscore.models import INPUT_CHANNELS, NormStats
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig, autoencoder_artefact
from rainscore.models.clustering import ClusterModel, cluster_artefact
from rainscore.models.evaluation import evaluation_table
from rainscore.models.labelling import DistanceOOD, LabelConfig, fit_labels
from rainscore.pipeline_registry import register_pipelines
from rainscore.pipelines.clustering.nodes import ASSIGNMENT_COLUMNS
from rainscore.testing import ReportPage

TARGET = "fss_t0.5_w9"
METHODS = {"kmeans": None, "dec": None, "desom": (1, 3)}


def _model_outputs(catalog, scores: pd.DataFrame, box: Box) -> None:
    """Predictions, evaluations, cluster artefacts and embeddings shaped as the model
    pipelines write them, saved through the catalog."""
    rng = np.random.default_rng(0)
    times = pd.DatetimeIndex(scores.index)
    actual = scores[TARGET].to_numpy(dtype=float)
    split = np.where(np.arange(len(times)) < len(times) // 2, "train", "test")
    estimate = np.clip(actual + rng.normal(0, 0.05, len(times)), 0, 1)
    frame = pd.DataFrame({"time": times, "split": split, "actual": actual})
    interval = {"predicted": estimate, "lower": estimate - 0.1, "upper": estimate + 0.1}
    catalog.save("unet_predictions", frame.assign(**interval))
    catalog.save("baseline_predictions", frame.assign(model="climatology", **interval))
    rows = [
        {"model": "climatology", "kind": "baseline", "spearman": 0.1, "n_test": 4},
        {"model": "unet", "kind": "deep", "spearman": 0.5, "n_test": 4},
    ]
    catalog.save("model_evaluation", evaluation_table(rows))
    catalog.save("clustering_evaluation", evaluation_table(rows))
    n = len(INPUT_CHANNELS)
    shape = box.shape
    norm = NormStats(INPUT_CHANNELS, (0.0,) * n, (1.0,) * n, (1,) * n)
    torch.manual_seed(0)
    autoencoder = Autoencoder(AutoencoderConfig(n, map_shape=shape, depth=1, width=4, latent_dim=3))
    saved = autoencoder_artefact(autoencoder, norm)
    z = rng.normal(size=(len(times), 3))
    labels_frames = []
    for method, grid in METHODS.items():
        cluster = ClusterModel(method, rng.normal(size=(3, 3)), grid=grid)
        assigned, _ = cluster.assign(z)
        labels = fit_labels(assigned, actual, 3, LabelConfig(min_count=1), method=method)
        metadata = {
            "autoencoder": {"config": saved.config, "metadata": saved.metadata},
            "labels": labels.to_dict(),
            "ood": DistanceOOD.fit(cluster.nearest_distance(z), 0.99).to_dict(),
            "silhouette": 0.0,
            "target": TARGET,
        }
        catalog.save(
            f"{method}_model", cluster_artefact(cluster, encoder=autoencoder, metadata=metadata)
        )
        assignments = frame.assign(
            role=split,
            cluster=assigned,
            estimate=estimate,
            lower=estimate - 0.1,
            upper=estimate + 0.1,
            q25=estimate - 0.05,
            q75=estimate + 0.05,
            fallback=False,
            distance=cluster.nearest_distance(z),
            ood=False,
            reconstruction_mse=0.1,
        )
        catalog.save(f"{method}_assignments", assignments[list(ASSIGNMENT_COLUMNS)])
        labels_frames.append(labels.to_frame())
    catalog.save("cluster_labels", pd.concat(labels_frames, ignore_index=True))
    latent = frame[["time", "split"]].assign(role=split, reconstruction_mse=0.1)
    for i in range(3):
        latent[f"z_{i}"] = z[:, i]
    catalog.save("latent_embeddings", latent)


@pytest.fixture(scope="module")
def reported(module_project, tiny_box):
    """The data chain run on the tiny world, the model outputs saved, then the report."""
    torch.set_num_threads(1)
    module_project.params["reporting"]["dpi"] = 40  # every figure still drawn, fewer pixels
    for pipeline in ("ingestion", "colocation", "scoring"):
        module_project.run(pipeline)
    catalog = module_project.catalog()
    _model_outputs(catalog, catalog.load("map_scores"), Box.from_dict(tiny_box))
    start = time.perf_counter()
    catalog = module_project.run("reporting")
    return catalog, time.perf_counter() - start


def _html(module_project) -> tuple[Path, str]:
    paths = sorted(
        (module_project.root / "data/08_reporting/report/report.html").glob("*/report.html")
    )
    assert len(paths) == 1
    return paths[0], paths[0].read_text(encoding="utf-8")


def test_every_figure_embedded_and_no_external_url(reported, module_project):
    _, text = _html(module_project)
    page = ReportPage(text)
    pngs = sorted(
        p.stem for p in (module_project.root / "data/08_reporting/report/figures").glob("*.png")
    )
    assert sorted(page.figures) == pngs
    expected = {
        "example_map_best",
        "example_map_median",
        "example_map_worst",
        "target_distribution",
        "score_distributions",
        "score_vs_presence",
        "score_by_hour",
        "predicted_vs_actual_models",
        "cluster_prototypes_kmeans",
        "som_grid_desom",
        "latent_pca",
    }
    assert expected <= set(page.figures)
    assert len(page.images) == len(page.figures)
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert all(url.startswith(("data:image/png;base64,", "#")) for url in page.urls)
    assert "http://" not in text and "https://" not in text
    assert {f"section_{s}" for s in ("maps", "scores", "context", "models", "quality")} <= set(
        page.ids
    )
    assert {"colocation_validation", "map_scores_validation", "ingestion_counts"} <= set(page.ids)


def test_the_page_states_the_run(reported, module_project):
    _, text = _html(module_project)
    scores = module_project.catalog().load("map_scores")
    assert f"<tr><th>maps scored</th><td>{len(scores)}</td></tr>" in text
    assert f"<tr><th>target score</th><td>{TARGET}</td></tr>" in text
    recommended = module_project.catalog().load("scoring_analysis")["recommendation"]["score"]
    assert f"<tr><th>target recommended by the analysis</th><td>{recommended}</td>" in text
    assert "2024-06-10 12:00 to 2024-06-10 17:30 UTC" in text


def test_the_report_builds_in_seconds(reported):
    _, seconds = reported
    assert seconds < 60


def test_alone_before_the_other_pipelines_names_them(project):
    pipeline = register_pipelines()["reporting"]
    with pytest.raises(MissingInputsError) as raised:
        MissingInputsHooks().before_pipeline_run(
            {"pipeline_names": ["reporting"]}, pipeline, project.catalog()
        )
    message = str(raised.value)
    for upstream in ("ingestion", "colocation", "scoring", "training", "clustering"):
        assert upstream in message
    assert "Run first: kedro run --pipelines=" in message
