"""The ``clustering`` pipeline: k-means, DEC/IDEC and DESOM on the autoencoder's latent space,
their clusters labelled with the target score, and their evaluation beside the U-Net."""

from rainscore.pipelines.clustering.pipeline import create_pipeline

__all__ = ["create_pipeline"]
