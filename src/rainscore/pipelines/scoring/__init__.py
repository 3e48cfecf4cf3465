"""The ``scoring`` pipeline: per-map scores, features, local errors, descriptive analysis."""

from rainscore.pipelines.scoring.pipeline import create_pipeline

__all__ = ["create_pipeline"]
