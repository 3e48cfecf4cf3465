"""The ``reporting`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.reporting.nodes import (
    build_report,
    data_report_figures,
    model_figures,
)
from rainscore.reporting.summaries import quality_tables

#: model_report_figures' inputs, in its positional order (notes: REPORT_API.md).
MODEL_INPUTS = [
    "unet_predictions",
    "baseline_predictions",
    "model_evaluation",
    "clustering_evaluation",
    "kmeans_assignments",
    "dec_assignments",
    "desom_assignments",
    "kmeans_model",
    "dec_model",
    "desom_model",
    "cluster_labels",
    "latent_embeddings",
    "map_scores",
    "imerg_cube",
]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``reporting`` pipeline."""
    return Pipeline(
        [
            Node(
                func=data_report_figures,
                inputs=[
                    "colocated_pairs",
                    "local_error_maps",
                    "map_scores",
                    "scoring_analysis",
                    "params:scoring",
                    "params:target",
                    "params:reporting",
                ],
                outputs="report_data_figures",
                name="data_report_figures",
            ),
            Node(
                func=model_figures,
                inputs=[*MODEL_INPUTS, "params:target"],
                outputs="report_model_figures",
                name="model_report_figures",
            ),
            Node(
                func=quality_tables,
                inputs=[
                    "colocation_validation",
                    "map_scores_validation",
                    "ingestion_report",
                    "bad_inputs",
                ],
                outputs="report_quality_tables",
                name="quality_summaries",
            ),
            Node(
                func=build_report,
                inputs=[
                    "report_data_figures",
                    "report_model_figures",
                    "report_quality_tables",
                    "map_scores",
                    "scoring_analysis",
                    "params:target",
                    "params:reporting",
                ],
                outputs=["report_html", "report_figures"],
                name="build_report",
            ),
        ],
        tags=["reporting"],
        namespace="reporting",
        prefix_datasets_with_namespace=False,
    )
