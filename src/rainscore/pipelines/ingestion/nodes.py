"""Nodes of the ``ingestion`` pipeline: thin wrappers of :mod:`rainscore.ingest`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import (
    ImergCubeBlocks,
    IngestionConfig,
    build_radar_inventory,
    ingestion_report,
)


def ingest_imerg(
    imerg_raw: list[str],
    imerg_cube_previous: xr.Dataset | None,
    box: dict[str, float],
    ingestion: dict[str, Any],
    execution: dict[str, Any],
) -> tuple[ImergCubeBlocks, ImergCubeBlocks]:
    """Read the IMERG granules over the box (only those the previous cube lacks).

    Nothing is read here: the ``imerg_cube`` store reads and writes the cube a block of
    ``ingestion.block_half_hours`` at a time as it iterates the blocks.

    Returns:
        The blocks of the IMERG cube (with PMW age), twice: for the store, and for
        :func:`log_imerg_ingestion`, which takes the per-file log from them once they are
        written (``imerg_cube_blocks`` is passed on by reference, ``copy_mode: assign``).
    """
    config = IngestionConfig.from_dict(ingestion)
    blocks = ImergCubeBlocks(
        imerg_raw,
        box=Box.from_dict(box),
        config=config,
        previous=imerg_cube_previous,
        execution=ExecutorConfig.from_dict(execution, stage="ingestion"),
        block_half_hours=config.block_half_hours,
    )
    return blocks, blocks


def log_imerg_ingestion(imerg_cube_blocks: ImergCubeBlocks) -> pd.DataFrame:
    """The per-file log of the IMERG cube's blocks (``read``, ``reused`` or ``skipped`` with
    the reason), complete since the ``imerg_cube`` store consumed them."""
    return imerg_cube_blocks.log()


def inventory_radar(
    radar_raw: list[str],
    radar_inventory_previous: pd.DataFrame | None,
    ingestion: dict[str, Any],
    execution: dict[str, Any],
) -> pd.DataFrame:
    """List the radar files with their times, grid and status."""
    return build_radar_inventory(
        radar_raw,
        config=IngestionConfig.from_dict(ingestion),
        previous=radar_inventory_previous,
        execution=ExecutorConfig.from_dict(execution, stage="ingestion"),
    )


def report_ingestion(
    imerg_log: pd.DataFrame,
    imerg_cube: xr.Dataset,
    radar_inventory: pd.DataFrame,
    ingestion: dict[str, Any],
) -> dict[str, Any]:
    """What was read, skipped and why, and the gaps in time."""
    config = IngestionConfig.from_dict(ingestion)
    return ingestion_report(
        imerg_log,
        imerg_cube,
        radar_inventory,
        radar_frame_minutes=config.radar_frame_minutes,
    )
