"""The ``clustering`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines import EVALUATION
from rainscore.pipelines.clustering.nodes import (
    cluster_dec,
    cluster_desom,
    cluster_kmeans,
    evaluate_clustering,
    select_cluster_count,
)

_PARAMS = ["params:clustering", "params:target"]
_DEEP = ["autoencoder_model", "imerg_cube", "latent_embeddings", "map_scores", *_PARAMS]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``clustering`` pipeline (its evaluation node in ``EVALUATION``)."""
    methods = Pipeline(
        [
            Node(
                func=select_cluster_count,
                inputs=["latent_embeddings", "reconstruction_quality", "params:clustering"],
                outputs="clustering_selection",
                name="select_cluster_count",
            ),
            Node(
                func=cluster_kmeans,
                inputs=["latent_embeddings", "autoencoder_model", "map_scores", *_PARAMS],
                outputs=["kmeans_model", "kmeans_assignments"],
                name="cluster_kmeans",
            ),
            Node(
                func=cluster_dec,
                inputs=_DEEP,
                outputs=["dec_model", "dec_assignments"],
                name="cluster_dec",
                tags=["gpu"],
            ),
            Node(
                func=cluster_desom,
                inputs=_DEEP,
                outputs=["desom_model", "desom_assignments"],
                name="cluster_desom",
                tags=["gpu"],
            ),
        ],
        namespace="clustering",
        prefix_datasets_with_namespace=False,
    )
    evaluation = Pipeline(
        [
            Node(
                func=evaluate_clustering,
                inputs=[
                    "kmeans_model",
                    "kmeans_assignments",
                    "dec_model",
                    "dec_assignments",
                    "desom_model",
                    "desom_assignments",
                    "map_scores",
                    "model_evaluation",
                ],
                outputs=["cluster_labels", "clustering_evaluation"],
                name="evaluate_clustering",
            ),
        ],
        namespace=EVALUATION,
        prefix_datasets_with_namespace=False,
    )
    return Pipeline([methods, evaluation], tags=["clustering"])
