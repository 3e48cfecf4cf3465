"""The ``colocation`` pipeline: radar on the IMERG grid, validation, colocated pairs."""

from rainscore.pipelines.colocation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
