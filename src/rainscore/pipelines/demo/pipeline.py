"""The ``demo`` pipeline: ``params:demo`` → the synthetic world under ``data/01_raw/demo``."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.demo.nodes import build_world


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``demo`` pipeline."""
    return Pipeline(
        [
            Node(
                func=build_world,
                inputs=["params:demo", "params:box"],
                outputs="demo_world",
                name="build_world",
                tags=["demo"],
            )
        ]
    )
