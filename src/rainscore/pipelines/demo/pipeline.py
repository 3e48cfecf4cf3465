"""The ``demo`` pipeline: ``params:demo`` → the synthetic world under ``data/01_raw/demo``:
its manifest, and the raw datasets the analysis reads (``imerg_raw``, ``radar_raw``,
``demo_truth_optional``), whose saves check the files written."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.demo.nodes import write_world


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``demo`` pipeline."""
    return Pipeline(
        [
            Node(
                func=write_world,
                inputs=["params:demo", "params:box", "demo_world_root", "area_weights"],
                outputs={
                    "manifest": "demo_world",
                    "imerg": "imerg_raw",
                    "radar": "radar_raw",
                    "truth": "demo_truth_optional",
                },
                name="write_world",
                tags=["demo"],
            )
        ],
        namespace="demo",
        prefix_datasets_with_namespace=False,
    )
