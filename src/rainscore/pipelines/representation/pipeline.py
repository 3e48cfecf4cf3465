"""The ``representation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.representation.nodes import (
    embed_imerg_maps,
    train_autoencoder_model,
    tune_autoencoder,
)

_DATA = ["imerg_cube", "training_split"]
_PARAMS = ["params:representation", "params:training.split"]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``representation`` pipeline."""
    return Pipeline(
        [
            Node(
                func=tune_autoencoder,
                inputs=[*_DATA, "autoencoder_study", *_PARAMS],
                outputs="autoencoder_best_params",
                name="tune_autoencoder",
                tags=["gpu"],
            ),
            Node(
                func=train_autoencoder_model,
                inputs=[*_DATA, "autoencoder_best_params", *_PARAMS],
                outputs="autoencoder_model",
                name="train_autoencoder",
                tags=["gpu"],
            ),
            Node(
                func=embed_imerg_maps,
                inputs=["autoencoder_model", *_DATA, *_PARAMS],
                outputs=["latent_embeddings", "reconstruction_quality"],
                name="embed_maps",
                tags=["gpu"],
            ),
        ],
        tags=["representation"],
        namespace="representation",
        prefix_datasets_with_namespace=False,
    )
