"""The ``ingestion`` pipeline: raw files → IMERG cube, radar inventory, ingestion report."""

from rainscore.pipelines.ingestion.pipeline import create_pipeline

__all__ = ["create_pipeline"]
