"""The ``reporting`` pipeline: one self-contained HTML report of the run, and each figure as
PNG (docs/reporting.md)."""

from rainscore.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
