"""The ``representation`` pipeline: an autoencoder of every IMERG map and its latent vectors."""

from rainscore.pipelines.representation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
