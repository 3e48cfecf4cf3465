"""Nodes of the ``inference`` pipeline: thin wrappers of :mod:`rainscore.models.inference`.

Raw IMERG granules (a folder or a glob, ``inference.imerg_files``) are read by the
ingestion's cube builder over a box of at least the training grid shape and scored per
map (and tile of that shape) by the U-Net (``unet_model``) and the chosen clustering
method (``inference.method``), without radar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pandas as pd
import xarray as xr

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import ImergCubeBlocks, IngestionConfig
from rainscore.models.artefacts import ModelArtefact
from rainscore.models.inference import (
    READ_VARIABLES,
    ClusterScorer,
    InferenceConfig,
    UNetScorer,
    find_imerg_files,
    inference_box,
    missing_channel_error,
    score_blocks,
)


def score_imerg_maps(
    imerg_raw: list[str],
    unet_model: ModelArtefact,
    kmeans_model: ModelArtefact,
    dec_model: ModelArtefact,
    desom_model: ModelArtefact,
    inference: dict[str, Any],
    box: dict[str, float],
    ingestion: dict[str, Any],
    execution: dict[str, Any],
) -> pd.DataFrame:
    """Score every IMERG map of ``inference.imerg_files`` with the U-Net and a clustering.

    Args:
        imerg_raw: The catalog's raw IMERG granules, scored when ``inference.imerg_files``
            is null.
        unet_model: The calibrated U-Net (training pipeline).
        kmeans_model: The k-means clustering (clustering pipeline).
        dec_model: The DEC/IDEC clustering.
        desom_model: The DESOM clustering.
        inference: ``params:inference`` (files, method, box, batch size, device).
        box: ``params:box``, the training box (the default box scored).
        ingestion: ``params:ingestion`` (run selection, strictness, block length).
        execution: ``params:execution`` (the ``inference`` stage reads the granules).

    Returns:
        ``inference_scores``: one row per map whose granule was read and per tile of the
        training shape (:data:`rainscore.models.inference.INFERENCE_COLUMNS`).

    Raises:
        ValueError: A model trained on other channels (named), a box smaller than the
            training maps (both shapes named), or a granule lacking a channel's variable
            (file and channel named).
    """
    config = InferenceConfig.from_dict(inference)
    artefacts = {"kmeans": kmeans_model, "dec": dec_model, "desom": desom_model}
    clusters = ClusterScorer(artefacts[config.method], config.method)
    unet = UNetScorer(unet_model)
    chosen = inference_box(config.box, Box.from_dict(box), clusters.map_shape)
    ingest = IngestionConfig.from_dict(ingestion)
    if config.imerg_files is not None:
        files = find_imerg_files(config.imerg_files)
    elif imerg_raw:
        files = list(imerg_raw)
    else:
        raise FileNotFoundError(
            "inference: the catalog's imerg_raw holds no IMERG granule; point imerg_raw at "
            "an archive or set inference.imerg_files to a folder or a glob"
        )
    blocks = ImergCubeBlocks(
        files,
        box=chosen,
        config=dataclasses.replace(ingest, imerg_variables=READ_VARIABLES),
        execution=ExecutorConfig.from_dict(execution, stage="inference"),
        block_half_hours=ingest.block_half_hours,
    )

    def read_times() -> pd.Series:
        log = blocks.log()
        error = missing_channel_error(log)
        if error is not None:
            raise error
        return log.loc[log["status"] == "read", "time"]

    def checked_blocks() -> Iterator[xr.Dataset]:
        """The blocks; when no granule at all is read, a missing channel is named first."""
        try:
            yield from blocks
        except ValueError:
            error = missing_channel_error(blocks.log())
            if error is not None:
                raise error from None
            raise

    return score_blocks(
        checked_blocks(),
        read_times,
        unet,
        clusters,
        batch_size=config.batch_size,
        device=config.device,
    )
