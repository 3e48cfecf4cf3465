"""Nodes of the ``colocation`` pipeline: thin wrappers of :mod:`rainscore.colocate`,
:mod:`rainscore.validation` and :mod:`rainscore.bad_inputs`."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import xarray as xr

from rainscore.bad_inputs import bad_inputs_table, summarise_bad_inputs
from rainscore.colocate import (
    BadFrame,
    ColocationConfig,
    ColocationStream,
    WorkerColocation,
    colocation_writer,
    continued,
    plan_colocation,
    resume_time,
)
from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.half_hour import HALF_HOUR
from rainscore.stores import StoreUpdate
from rainscore.validation import (
    ExpectationConfig,
    ValidationReport,
    validate_colocation_inputs,
)

logger = logging.getLogger(__name__)


def colocate(
    radar_inventory: pd.DataFrame,
    imerg_cube: xr.Dataset,
    radar_on_imerg_previous: xr.Dataset | None,
    area_weights: str,
    box: dict[str, float],
    colocation: dict[str, Any],
    execution: dict[str, Any],
) -> tuple[ColocationStream | WorkerColocation, list[BadFrame], int]:
    """Stream the radar files onto the IMERG grid over the IMERG cube's period, or over the
    half hours after those of the previous ``radar_on_imerg`` that can be kept
    (:func:`rainscore.colocate.resume_time`).

    ``area_weights`` is the folder of the area-weights cache (catalog ``area_weights``).
    Nothing is computed here: the store ``radar_on_imerg_unchecked`` runs the colocation
    as it writes the blocks, one time block in memory at a time (on Dask, each worker
    writes its own blocks).

    Returns:
        The time blocks of radar on the IMERG grid; the list of radar files that were
        skipped, partly masked or without data in the box (with reason codes; the
        colocation's part of ``bad_inputs``), filled as the blocks are written: complete
        once this node's outputs are saved (it is passed on by reference,
        ``copy_mode: assign``); and the number of half hours of the previous
        ``radar_on_imerg`` kept (0: the whole period is colocated).
    """
    times = pd.DatetimeIndex(imerg_cube["time"].values)
    plan = plan_colocation(
        radar_inventory,
        Box.from_dict(box),
        cache_dir=area_weights,
        config=ColocationConfig.from_dict(colocation["engine"]),
        start=times[0],
        end=times[-1] + HALF_HOUR,
    )
    start = resume_time(radar_on_imerg_previous, plan)
    n_kept = 0
    if start is not None:
        n_kept = int((plan.times < start).sum())
        plan = plan.starting_at(start)
    writer = colocation_writer(plan, ExecutorConfig.from_dict(execution, stage="colocation"))
    return writer, writer.bad_frames, n_kept


def validate_colocation(
    imerg_cube: xr.Dataset,
    radar_on_imerg: xr.Dataset,
    radar_on_imerg_previous: xr.Dataset | None,
    radar_on_imerg_kept: int,
    box: dict[str, float],
    colocation: dict[str, Any],
) -> tuple[dict, str]:
    """Check both gridded products (Great Expectations) and their alignment (xarray) over
    the period the new ``radar_on_imerg`` will hold: the half hours kept from the previous
    version (read lazily) followed by those colocated by this run.

    The report is written whatever the outcome; :func:`accept_radar_on_imerg` stops the
    run when it holds failures.

    Returns:
        The report as JSON and as Markdown.
    """
    the_box = Box.from_dict(box)
    report = validate_colocation_inputs(
        imerg_cube,
        continued(radar_on_imerg_previous, radar_on_imerg_kept, radar_on_imerg),
        config=ExpectationConfig.from_dict(colocation["validation"], the_box),
    )
    return report.to_dict(), report.to_markdown()


def accept_radar_on_imerg(
    radar_on_imerg_unchecked: xr.Dataset, colocation_validation: dict, radar_on_imerg_kept: int
) -> StoreUpdate:
    """``radar_on_imerg``, once the colocation suites passed: a failed check stops the run
    before a new version is written, so the previous version stays the latest. The lazily
    opened scratch store is passed on, not loaded: the versioned store keeps the previous
    version's first ``radar_on_imerg_kept`` half hours (hard links) and copies the scratch
    store after them a shard at a time.

    Raises:
        ValidationError: If the validation report holds failures (it names the dataset,
            the check and the offending values).
    """
    ValidationReport.from_dict(colocation_validation).raise_for_failures()
    start = radar_on_imerg_unchecked["time"].values[0] if radar_on_imerg_kept else None
    return StoreUpdate(radar_on_imerg_unchecked, start)


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
