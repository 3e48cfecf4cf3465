"""The ``inference`` pipeline: score new IMERG maps without radar."""

from rainscore.pipelines.inference.pipeline import create_pipeline

__all__ = ["create_pipeline"]
