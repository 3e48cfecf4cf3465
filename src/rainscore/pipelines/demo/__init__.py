"""The ``demo`` pipeline: write the synthetic world in the real file formats."""

from rainscore.pipelines.demo.pipeline import create_pipeline

__all__ = ["create_pipeline"]
