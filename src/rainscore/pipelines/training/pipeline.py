"""The ``training`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines import EVALUATION
from rainscore.pipelines.training.nodes import (
    calibrate_unet,
    evaluate_models,
    make_training_split,
    plot_predictions,
    predict_unet,
    train_unet_models,
    tune_unet,
)

_DATA = ["imerg_cube", "local_error_maps", "map_scores", "training_split"]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``training`` pipeline (its two evaluation nodes in ``EVALUATION``)."""
    unet = Pipeline(
        [
            Node(
                func=make_training_split,
                inputs=["map_scores", "params:training"],
                outputs="training_split",
                name="make_training_split",
            ),
            Node(
                func=tune_unet,
                inputs=[*_DATA, "unet_study", "params:training", "params:target"],
                outputs="unet_best_params",
                name="tune_unet",
                tags=["gpu"],
            ),
            Node(
                func=train_unet_models,
                inputs=[
                    *_DATA,
                    "unet_study",
                    "unet_best_params",
                    "params:training",
                    "params:target",
                ],
                outputs=["unet_holdout_model", "unet_final_model"],
                name="train_unet",
                tags=["gpu"],
            ),
            Node(
                func=calibrate_unet,
                inputs=[
                    "unet_holdout_model",
                    "unet_final_model",
                    *_DATA,
                    "params:training",
                    "params:target",
                ],
                outputs="unet_model",
                name="calibrate_unet",
                tags=["gpu"],
            ),
            Node(
                func=predict_unet,
                inputs=["unet_model", *_DATA, "params:training", "params:target"],
                outputs=["unet_predictions", "unet_pixel_skill"],
                name="predict_unet",
                tags=["gpu"],
            ),
        ],
        namespace="training",
        prefix_datasets_with_namespace=False,
    )
    evaluation = Pipeline(
        [
            Node(
                func=evaluate_models,
                inputs=[
                    "unet_predictions",
                    "unet_pixel_skill",
                    "imerg_cube",
                    "map_scores",
                    "training_split",
                    "params:training",
                    "params:target",
                    "params:scoring",
                ],
                outputs=["model_evaluation", "baseline_predictions"],
                name="evaluate_models",
            ),
            Node(
                func=plot_predictions,
                inputs=["unet_predictions", "model_evaluation", "params:target"],
                outputs="model_evaluation_figure",
                name="plot_predictions",
            ),
        ],
        namespace=EVALUATION,
        prefix_datasets_with_namespace=False,
    )
    return Pipeline([unet, evaluation], tags=["training"])
