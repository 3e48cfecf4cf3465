"""Clustering of the autoencoder's embeddings: ``rainscore.models.clustering``.

Three methods share one result, :class:`ClusterModel` (centroids in the latent space,
assignments, distances, a SOM's neighbourhood, safetensors artefacts): k-means on fixed
embeddings (:mod:`.kmeans`, the baseline), DEC / IDEC / DCEC trained jointly with the
encoder (:mod:`.dec`) and DESOM, a self-organising map trained jointly with the
autoencoder (:mod:`.desom`). The joint trainings run in the project's one loop
(:func:`rainscore.models.training.fit`). :mod:`.metrics` scores a clustering (silhouette,
NMI, ARI); :mod:`rainscore.models.labelling` labels the clusters with the target score.
"""

from rainscore.models.clustering.base import (
    ARTEFACT_KIND,
    METHODS,
    ClusterModel,
    DeepClusterResult,
    cluster_artefact,
    cluster_from_artefact,
    embed,
    grid_distances,
    neighbourhood_weights,
    split_autoencoder,
    squared_distances,
    student_t,
)
from rainscore.models.clustering.dec import (
    DECConfig,
    DeepClustering,
    dec_loss,
    fit_dec,
    kl_divergence,
    reconstruction_mse,
    target_distribution,
)
from rainscore.models.clustering.desom import (
    DESOM,
    DESOMConfig,
    fit_desom,
    linear_init,
    som_loss,
    temperature_at,
)
from rainscore.models.clustering.kmeans import KMeansConfig, fit_kmeans
from rainscore.models.clustering.metrics import clustering_metrics

__all__ = [
    "ARTEFACT_KIND",
    "DESOM",
    "METHODS",
    "ClusterModel",
    "DECConfig",
    "DESOMConfig",
    "DeepClusterResult",
    "DeepClustering",
    "KMeansConfig",
    "cluster_artefact",
    "cluster_from_artefact",
    "clustering_metrics",
    "dec_loss",
    "embed",
    "fit_dec",
    "fit_desom",
    "fit_kmeans",
    "grid_distances",
    "kl_divergence",
    "linear_init",
    "neighbourhood_weights",
    "reconstruction_mse",
    "som_loss",
    "split_autoencoder",
    "squared_distances",
    "student_t",
    "target_distribution",
    "temperature_at",
]
