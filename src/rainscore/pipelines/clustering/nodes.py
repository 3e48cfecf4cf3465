"""Nodes of the ``clustering`` pipeline: thin wrappers of :mod:`rainscore.models.clustering`.

Each method clusters the ``train`` role's maps (the autoencoder's own training maps: no
validation or test map), labels its clusters with the target score of the ``train``
split's maps, calibrates the split-conformal interval on the ``validation`` split and the
out-of-distribution threshold on the ``train`` role's distances to the nearest centroid.
k-means clusters the autoencoder's embeddings (``latent_embeddings``); DEC/IDEC and DESOM
fine-tune the autoencoder (``autoencoder_model``) jointly with their centroids on the
``train`` role's maps read from ``imerg_cube``, then embed every map again. Every method's
artefact holds the (fine-tuned) autoencoder, its input statistics, the centroids, the
labels, the interval and the OOD threshold: all inference needs, without radar.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from torch import nn

from rainscore.models import ModelArtefact, evaluation_table, make_loader, regression_metrics
from rainscore.models.autoencoder import (
    AutoencoderData,
    autoencoder_from_artefact,
    embed_maps,
    reconstruction_loss,
)
from rainscore.models.clustering import (
    ClusterModel,
    cluster_artefact,
    cluster_from_artefact,
    clustering_metrics,
    fit_dec,
    fit_desom,
    fit_kmeans,
    split_autoencoder,
)
from rainscore.models.experiment import store_path
from rainscore.models.labelling import ClusterLabels, DistanceOOD, fit_labels
from rainscore.models.training import seed_everything
from rainscore.param_sections import ClusteringSection
from rainscore.scores import score_info
from rainscore.scores.target import TargetConfig
from rainscore.tracking import log_history

logger = logging.getLogger(__name__)

TRUTH_COLUMN = "true_regime"
"""The synthetic world's regime of a map in ``map_scores`` (NMI and ARI against it)."""

ASSIGNMENT_COLUMNS = (
    "time",
    "split",
    "role",
    "cluster",
    "estimate",
    "lower",
    "upper",
    "q25",
    "q75",
    "fallback",
    "distance",
    "ood",
    "actual",
    "reconstruction_mse",
)
"""The columns of a method's assignments (one row per IMERG map, in time order)."""


def _json_safe(value: Any) -> Any:
    """NaN and infinities as ``None`` (artefact metadata is strict JSON)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value


def _latent(latent_embeddings: pd.DataFrame) -> np.ndarray:
    columns = [c for c in latent_embeddings.columns if c.startswith("z_")]
    columns.sort(key=lambda c: int(c[2:]))
    if not columns:
        raise KeyError("latent_embeddings has no z_* column (run the representation pipeline)")
    return latent_embeddings[columns].to_numpy(dtype=float)


def _finish(
    method: str,
    cluster: ClusterModel,
    maps: pd.DataFrame,
    z: np.ndarray,
    autoencoder_model: ModelArtefact,
    autoencoder: nn.Module,
    map_scores: pd.DataFrame,
    config: ClusteringSection,
    score: str,
) -> tuple[ModelArtefact, pd.DataFrame]:
    """Label, calibrate and assign every map; the method's artefact and assignments."""
    assigned, _ = cluster.assign(z)
    distance = cluster.nearest_distance(z)
    actual = map_scores[score].reindex(pd.DatetimeIndex(maps["time"])).to_numpy(dtype=float)
    split, role = maps["split"].to_numpy(), maps["role"].to_numpy()
    train, validation, fitted = split == "train", split == "validation", role == "train"
    labelling = config.labelling
    labels = fit_labels(
        assigned[train],
        actual[train],
        cluster.n_clusters,
        labelling,
        neighbourhood=cluster.neighbourhood(labelling.temperature),
        method=method,
    ).calibrate(
        assigned[validation], actual[validation], labelling.coverage, score_info(score).range
    )
    ood = DistanceOOD.fit(distance[fitted], labelling.ood_quantile)
    predictions = labels.predict(assigned)
    assignments = pd.concat(
        [maps[["time", "split", "role"]].reset_index(drop=True), predictions], axis=1
    ).assign(
        distance=distance,
        ood=ood.flag(distance),
        actual=actual,
        reconstruction_mse=maps["reconstruction_mse"].to_numpy(dtype=float),
    )
    metrics = clustering_metrics(z[fitted], assigned[fitted], seed=cluster.n_clusters)
    logger.info(
        "%s: %d clusters, silhouette %.3f on %d train-role maps; %d clusters fall back to "
        "the global median; interval ± %.4g",
        method,
        cluster.n_clusters,
        metrics["silhouette"],
        int(fitted.sum()),
        int(labels.fallback.sum()),
        labels.conformal.quantile,
    )
    artefact = cluster_artefact(
        cluster,
        encoder=autoencoder,
        metadata=_json_safe(
            {
                "autoencoder": {
                    "config": autoencoder_model.config,
                    "metadata": autoencoder_model.metadata,
                },
                "labels": labels.to_dict(),
                "ood": ood.to_dict(),
                "silhouette": metrics["silhouette"],
                "target": score,
            }
        ),
    )
    return artefact, assignments[list(ASSIGNMENT_COLUMNS)]


def cluster_kmeans(
    latent_embeddings: pd.DataFrame,
    autoencoder_model: ModelArtefact,
    map_scores: pd.DataFrame,
    clustering: dict[str, Any],
    target: dict[str, Any],
) -> tuple[ModelArtefact, pd.DataFrame]:
    """k-means on the autoencoder's embeddings of the ``train`` role's maps.

    Returns:
        ``kmeans_model`` (the artefact, with the autoencoder unchanged) and
        ``kmeans_assignments`` (:data:`ASSIGNMENT_COLUMNS`).
    """
    config = ClusteringSection.from_dict(clustering)
    score = TargetConfig.from_dict(target).score
    z = _latent(latent_embeddings)
    fitted = (latent_embeddings["role"] == "train").to_numpy()
    cluster = fit_kmeans(z[fitted], config.kmeans)
    model, _ = autoencoder_from_artefact(autoencoder_model)
    return _finish(
        "kmeans", cluster, latent_embeddings, z, autoencoder_model, model, map_scores, config, score
    )


def _deep_clustering(
    method: str,
    train: Callable[..., Any],
    method_config: Any,
    autoencoder_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    latent_embeddings: pd.DataFrame,
    map_scores: pd.DataFrame,
    clustering: dict[str, Any],
    target: dict[str, Any],
) -> tuple[ModelArtefact, pd.DataFrame]:
    """Fine-tune the autoencoder with ``train`` (``fit_dec``/``fit_desom``); embed again."""
    config = ClusteringSection.from_dict(clustering)
    score = TargetConfig.from_dict(target).score
    model, norm = autoencoder_from_artefact(autoencoder_model)
    map_shape = (int(imerg_cube.sizes["lat"]), int(imerg_cube.sizes["lon"]))
    if tuple(model.config.map_shape) != map_shape:
        raise ValueError(
            f"autoencoder_model was trained on maps of {tuple(model.config.map_shape)} "
            f"(lat, lon); imerg_cube has {map_shape}: run the representation pipeline again "
            "(kedro run --pipelines=representation)"
        )
    maps = latent_embeddings[["time", "split", "role"]].sort_values("time", kind="stable")
    data = AutoencoderData(store_path(imerg_cube, "imerg_cube"), maps, map_shape)
    seed_everything(config.loop.seed)
    train_loader = make_loader(
        data.dataset(data.times("train"), norm, model.multiple), config.loop, shuffle=True
    )
    encoder, decoder = split_autoencoder(model)
    result = train(
        encoder,
        train_loader,
        method_config,
        config.loop,
        decoder=decoder,
        reconstruction_loss=lambda r, batch: reconstruction_loss(r, batch["x"], batch["valid"]),
    )
    log_history(result.train.history, prefix=method)
    every_map = make_loader(
        data.dataset(data.times(), norm, model.multiple), config.loop, shuffle=False
    )
    z, errors = embed_maps(model.eval(), every_map, config.loop.device)
    maps = maps.reset_index(drop=True).assign(reconstruction_mse=errors.mean(axis=1))
    return _finish(
        method,
        result.cluster,
        maps,
        z.astype(float),
        autoencoder_model,
        model,
        map_scores,
        config,
        score,
    )


def cluster_dec(
    autoencoder_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    latent_embeddings: pd.DataFrame,
    map_scores: pd.DataFrame,
    clustering: dict[str, Any],
    target: dict[str, Any],
) -> tuple[ModelArtefact, pd.DataFrame]:
    """IDEC/DCEC: the autoencoder fine-tuned with the clustering's KL term.

    Returns:
        ``dec_model`` and ``dec_assignments``.
    """
    config = ClusteringSection.from_dict(clustering)
    return _deep_clustering(
        "dec",
        fit_dec,
        config.dec,
        autoencoder_model,
        imerg_cube,
        latent_embeddings,
        map_scores,
        clustering,
        target,
    )


def cluster_desom(
    autoencoder_model: ModelArtefact,
    imerg_cube: xr.Dataset,
    latent_embeddings: pd.DataFrame,
    map_scores: pd.DataFrame,
    clustering: dict[str, Any],
    target: dict[str, Any],
) -> tuple[ModelArtefact, pd.DataFrame]:
    """DESOM: the autoencoder fine-tuned with a self-organising map in its latent space.

    Returns:
        ``desom_model`` and ``desom_assignments``.
    """
    config = ClusteringSection.from_dict(clustering)
    return _deep_clustering(
        "desom",
        fit_desom,
        config.desom,
        autoencoder_model,
        imerg_cube,
        latent_embeddings,
        map_scores,
        clustering,
        target,
    )


def select_cluster_count(
    latent_embeddings: pd.DataFrame,
    reconstruction_quality: pd.DataFrame,
    clustering: dict[str, Any],
) -> pd.DataFrame:
    """k-means over ``clustering.selection`` cluster counts, to choose one.

    Returns:
        ``clustering_selection``: per count, ``n_clusters``, ``silhouette`` and ``inertia``
        on the ``train`` role's embeddings, and the autoencoder's ``reconstruction_mse``
        on the validation maps (the same for every count: k-means does not change the
        embeddings). Counts above the number of maps are left out.
    """
    config = ClusteringSection.from_dict(clustering)
    z = _latent(latent_embeddings)[(latent_embeddings["role"] == "train").to_numpy()]
    quality = reconstruction_quality.set_index("split")["mse"]
    validation_mse = float(quality.get("validation", math.nan))
    rows = []
    for count in config.selection:
        if count >= len(z):
            logger.warning("clustering.selection: %d clusters for %d maps left out", count, len(z))
            continue
        cluster = fit_kmeans(z, replace(config.kmeans, n_clusters=count))
        labels, _ = cluster.assign(z)
        metrics = clustering_metrics(z, labels, seed=count)
        rows.append(
            {
                "method": "kmeans",
                "n_clusters": count,
                "silhouette": metrics["silhouette"],
                "inertia": cluster.info["inertia"],
                "reconstruction_mse": validation_mse,
            }
        )
    return pd.DataFrame(
        rows, columns=["method", "n_clusters", "silhouette", "inertia", "reconstruction_mse"]
    )


def _method_row(
    method: str, model: ModelArtefact, assignments: pd.DataFrame, map_scores: pd.DataFrame
) -> dict[str, Any]:
    """The clustering's evaluation on the test maps, as a row of ``evaluation_table``."""
    cluster, _ = cluster_from_artefact(model)
    test = assignments[assignments["split"] == "test"]
    metrics = regression_metrics(
        test["estimate"].to_numpy(),
        test["actual"].to_numpy(),
        test["lower"].to_numpy(),
        test["upper"].to_numpy(),
    )
    actual = test["actual"].to_numpy()
    defined = np.isfinite(actual)
    inside = (test["q25"].to_numpy() <= actual) & (actual <= test["q75"].to_numpy())
    nmi = ari = math.nan
    if TRUTH_COLUMN in map_scores.columns and len(test):
        truth = map_scores[TRUTH_COLUMN].reindex(pd.DatetimeIndex(test["time"]))
        known = truth.notna().to_numpy()
        if known.any():
            scores = clustering_metrics(
                np.zeros((int(known.sum()), 1)),
                test["cluster"].to_numpy()[known],
                true_labels=truth.to_numpy()[known].astype(str),
            )
            nmi, ari = scores["nmi"], scores["ari"]
    silhouette = model.metadata.get("silhouette")
    return {
        "model": f"clustering:{method}",
        "kind": "deep",
        **{k: v for k, v in metrics.items() if k != "n"},
        "n_test": metrics["n"],
        "pixel_skill": math.nan,
        "n_clusters": cluster.n_clusters,
        "silhouette": math.nan if silhouette is None else float(silhouette),
        "nmi": nmi,
        "ari": ari,
        "iqr_coverage": float(inside[defined].mean()) if defined.any() else math.nan,
        "reconstruction_mse": float(test["reconstruction_mse"].mean()),
        "ood_test": int(test["ood"].sum()),
    }


def evaluate_clustering(
    kmeans_model: ModelArtefact,
    kmeans_assignments: pd.DataFrame,
    dec_model: ModelArtefact,
    dec_assignments: pd.DataFrame,
    desom_model: ModelArtefact,
    desom_assignments: pd.DataFrame,
    map_scores: pd.DataFrame,
    model_evaluation: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every method's labels, and every method beside the U-Net and the baselines.

    Returns:
        ``cluster_labels``: one row per method and cluster (``ClusterLabels.to_frame``);
        ``clustering_evaluation``: ``model_evaluation``'s rows and one per method
        (``clustering:<method>``) on the test maps, with ``n_clusters``, ``silhouette``
        (train-role maps), ``nmi``/``ari`` against the synthetic world's regimes (NaN
        without them), ``iqr_coverage`` (test scores inside their cluster's IQR),
        ``reconstruction_mse`` and ``ood_test`` (test maps flagged); verdicts against
        the baselines, ``rank`` by Spearman ρ and ``beats_best_baseline`` recomputed.
    """
    methods = {
        "kmeans": (kmeans_model, kmeans_assignments),
        "dec": (dec_model, dec_assignments),
        "desom": (desom_model, desom_assignments),
    }
    labels = pd.concat(
        [ClusterLabels.from_dict(m.metadata["labels"]).to_frame() for m, _ in methods.values()],
        ignore_index=True,
    )
    previous = model_evaluation.drop(
        columns=["verdict", "rank", "beats_best_baseline"], errors="ignore"
    )
    rows = previous.to_dict("records")
    rows += [_method_row(name, m, a, map_scores) for name, (m, a) in methods.items()]
    table = evaluation_table(rows)
    rho = table["spearman"].astype(float)
    best_baseline = rho[table["kind"] == "baseline"].max()
    table = table.assign(
        rank=rho.rank(ascending=False, method="min", na_option="bottom").astype(int),
        beats_best_baseline=(rho > best_baseline).to_numpy() & np.isfinite(rho.to_numpy()),
    )
    logger.info(
        "Clustering on the test maps: %s",
        "; ".join(
            f"{r.model} ρ {r.spearman:.3f}, NMI {r.nmi:.3f}"
            for r in table[table["model"].str.startswith("clustering:")].itertuples()
        ),
    )
    return labels, table
