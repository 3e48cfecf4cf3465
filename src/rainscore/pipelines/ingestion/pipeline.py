"""The ``ingestion`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.ingestion.nodes import ingest_imerg, inventory_radar, report_ingestion


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
                outputs=["imerg_cube", "imerg_ingestion_log"],
                name="ingest_imerg",
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
    )
