"""The ``colocation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.colocation.nodes import (
    accept_radar_on_imerg,
    colocate,
    pair_fields,
    report_bad_inputs,
    validate_colocation,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``colocation`` pipeline."""
    return Pipeline(
        [
            Node(
                func=colocate,
                inputs=[
                    "radar_inventory",
                    "imerg_cube",
                    "radar_on_imerg_previous",
                    "area_weights",
                    "params:box",
                    "params:colocation",
                    "params:execution",
                ],
                outputs=[
                    "radar_on_imerg_unchecked",
                    "colocation_bad_frames",
                    "radar_on_imerg_kept",
                ],
                name="colocate",
            ),
            Node(
                func=report_bad_inputs,
                inputs=["imerg_ingestion_log", "radar_inventory", "colocation_bad_frames"],
                outputs="bad_inputs",
                name="report_bad_inputs",
            ),
            Node(
                func=validate_colocation,
                inputs=[
                    "imerg_cube",
                    "radar_on_imerg_unchecked",
                    "radar_on_imerg_previous",
                    "radar_on_imerg_kept",
                    "params:box",
                    "params:colocation",
                ],
                outputs=["colocation_validation", "colocation_validation_report"],
                name="validate_colocation",
                tags=["validation"],
            ),
            Node(
                func=accept_radar_on_imerg,
                inputs=[
                    "radar_on_imerg_unchecked",
                    "colocation_validation",
                    "radar_on_imerg_kept",
                ],
                outputs="radar_on_imerg",
                name="accept_radar_on_imerg",
                tags=["validation"],
            ),
            Node(
                func=pair_fields,
                inputs=["imerg_cube", "radar_on_imerg", "params:colocation"],
                outputs="colocated_pairs",
                name="pair_fields",
            ),
        ],
        tags=["colocation"],
        namespace="colocation",
        prefix_datasets_with_namespace=False,
    )
