"""The ``inference`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.inference.nodes import score_imerg_maps


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``inference`` pipeline."""
    return Pipeline(
        [
            Node(
                func=score_imerg_maps,
                inputs=[
                    "imerg_raw",
                    "unet_model",
                    "kmeans_model",
                    "dec_model",
                    "desom_model",
                    "params:inference",
                    "params:box",
                    "params:ingestion",
                    "params:execution",
                ],
                outputs="inference_scores",
                name="score_imerg_maps",
                tags=["gpu"],
            ),
        ],
        tags=["inference"],
        namespace="inference",
        prefix_datasets_with_namespace=False,
    )
