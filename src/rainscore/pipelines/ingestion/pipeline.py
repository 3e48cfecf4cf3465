"""The ``ingestion`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.ingestion.nodes import (
    ingest_imerg,
    inventory_radar,
    log_imerg_ingestion,
    report_ingestion,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``ingestion`` pipeline."""
    return Pipeline(
        [
            Node(
                func=ingest_imerg,
                inputs=[
                    "imerg_raw",
                    "imerg_cube_previous",
                    "params:box",
                    "params:ingestion",
                    "params:execution",
                ],
                outputs=["imerg_cube", "imerg_cube_blocks"],
                name="ingest_imerg",
            ),
            Node(
                func=log_imerg_ingestion,
                inputs="imerg_cube_blocks",
                outputs="imerg_ingestion_log",
                name="log_imerg_ingestion",
            ),
            Node(
                func=inventory_radar,
                inputs=[
                    "radar_raw",
                    "radar_inventory_previous",
                    "params:ingestion",
                    "params:execution",
                ],
                outputs="radar_inventory",
                name="inventory_radar",
            ),
            Node(
                func=report_ingestion,
                inputs=[
                    "imerg_ingestion_log",
                    "imerg_cube",
                    "radar_inventory",
                    "params:ingestion",
                ],
                outputs="ingestion_report",
                name="report_ingestion",
            ),
        ],
        tags=["ingestion"],
        namespace="ingestion",
        prefix_datasets_with_namespace=False,
    )
