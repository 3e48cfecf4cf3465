"""Nodes of the ``colocation`` pipeline: thin wrappers of :mod:`rainscore.colocate`,
:mod:`rainscore.validation` and :mod:`rainscore.bad_inputs`."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import xarray as xr

from rainscore.bad_inputs import bad_inputs_table, summarise_bad_inputs
from rainscore.colocate import BadFrame, ColocationConfig, ColocationStream, iter_colocation
from rainscore.colocate.pairing import HALF_HOUR
from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.validation import (
    ExpectationConfig,
    ValidationReport,
    validate_colocation_inputs,
)

logger = logging.getLogger(__name__)


def colocate(
    radar_inventory: pd.DataFrame,
    imerg_cube: xr.Dataset,
    area_weights: str,
    box: dict[str, float],
    colocation: dict[str, Any],
    execution: dict[str, Any],
) -> tuple[ColocationStream, list[BadFrame]]:
    """Stream the radar files onto the IMERG grid over the IMERG cube's period.

    ``area_weights`` is the folder of the area-weights cache (catalog ``area_weights``).
    Nothing is computed here: the store ``radar_on_imerg_unchecked`` runs the colocation
    as it writes the blocks, one time block in memory at a time.

    Returns:
        The time blocks of radar on the IMERG grid, and the list of radar files that were
        skipped, partly masked or without data in the box (with reason codes; the
        colocation's part of ``bad_inputs``), filled as the blocks are written: complete
        once this node's outputs are saved (it is passed on by reference,
        ``copy_mode: assign``).
    """
    times = pd.DatetimeIndex(imerg_cube["time"].values)
    stream = ColocationStream(
        iter_colocation(
            radar_inventory,
            Box.from_dict(box),
            cache_dir=area_weights,
            config=ColocationConfig.from_dict(colocation["engine"]),
            start=times[0],
            end=times[-1] + HALF_HOUR,
            execution=ExecutorConfig.from_dict(execution, stage="colocation"),
        )
    )
    return stream, stream.bad_frames


def validate_colocation(
    imerg_cube: xr.Dataset,
    radar_on_imerg: xr.Dataset,
    box: dict[str, float],
    colocation: dict[str, Any],
) -> tuple[dict, str]:
    """Check both gridded products (Great Expectations) and their alignment (xarray).

    The report is written whatever the outcome; :func:`pair_fields` stops the run when it
    holds failures.

    Returns:
        The report as JSON and as Markdown.
    """
    the_box = Box.from_dict(box)
    report = validate_colocation_inputs(
        imerg_cube,
        radar_on_imerg,
        config=ExpectationConfig.from_dict(colocation["validation"], the_box),
    )
    return report.to_dict(), report.to_markdown()


def accept_radar_on_imerg(
    radar_on_imerg_unchecked: xr.Dataset, colocation_validation: dict
) -> xr.Dataset:
    """``radar_on_imerg``, once the colocation suites passed: a failed check stops the run
    before a new version is written, so the previous version stays the latest. The lazily
    opened scratch store is returned as is: the versioned store copies it a shard at a time.

    Raises:
        ValidationError: If the validation report holds failures (it names the dataset,
            the check and the offending values).
    """
    ValidationReport.from_dict(colocation_validation).raise_for_failures()
    return radar_on_imerg_unchecked


def pair_fields(
    imerg_cube: xr.Dataset, radar_on_imerg: xr.Dataset, colocation: dict[str, Any]
) -> xr.Dataset:
    """IMERG and the checked radar on identical coordinates with the scoring mask."""
    return pair_imerg_radar(
        imerg_cube, radar_on_imerg, mask=MaskConfig.from_dict(colocation["mask"])
    )


BAD_INPUTS_PATH = "data/08_reporting/bad_inputs.parquet"
"""Where the catalog's ``bad_inputs`` dataset is written (versioned), for the console."""


def report_bad_inputs(
    imerg_ingestion_log: pd.DataFrame,
    radar_inventory: pd.DataFrame,
    colocation_bad_frames: list[BadFrame],
) -> pd.DataFrame:
    """One table of every raw file that was not used or was partly masked, whichever stage
    found it (:func:`rainscore.bad_inputs.bad_inputs_table`); one warning if there is any.
    """
    frames = pd.DataFrame(colocation_bad_frames, columns=list(BadFrame._fields))
    table = bad_inputs_table(imerg_ingestion_log, radar_inventory, frames)
    if len(table):
        logger.warning(
            "%s were not used or were partly masked; see the bad_inputs report (%s, versioned)",
            summarise_bad_inputs(table),
            BAD_INPUTS_PATH,
        )
    return table
