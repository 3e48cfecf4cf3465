"""The ``demo`` pipeline: ``params:demo`` → the synthetic world under ``data/01_raw/demo``."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.demo.nodes import write_world


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``demo`` pipeline."""
    return Pipeline(
        [
            Node(
                func=write_world,
                inputs=["params:demo", "params:box", "demo_world_root", "area_weights"],
                outputs="demo_world",
                name="write_world",
                tags=["demo"],
            )
        ],
        namespace="demo",
        prefix_datasets_with_namespace=False,
    )
