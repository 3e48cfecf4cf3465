"""The ``training`` pipeline: the U-Net that estimates a map's score from IMERG alone."""

from rainscore.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
