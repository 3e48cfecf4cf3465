"""Nodes of the ``ingestion`` pipeline: thin wrappers of :mod:`rainscore.ingest`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import (
    IngestionConfig,
    build_imerg_cube,
    build_radar_inventory,
    ingestion_report,
)


def ingest_imerg(
    imerg_raw: list[str],
    imerg_cube_previous: xr.Dataset | None,
    box: dict[str, float],
    ingestion: dict[str, Any],
    execution: dict[str, Any],
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read the IMERG granules over the box (only those the previous cube lacks).

    Returns:
        The IMERG cube (with PMW age) and the per-file log.
    """
    return build_imerg_cube(
        imerg_raw,
        box=Box.from_dict(box),
        config=IngestionConfig.from_dict(ingestion),
        previous=imerg_cube_previous,
        execution=ExecutorConfig.from_dict(execution, stage="ingestion"),
    )


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
