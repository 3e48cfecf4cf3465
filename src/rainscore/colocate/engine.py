"""The streaming colocation engine: radar inventory → radar on the IMERG grid, per half hour.

Conventions (see ``docs/colocation.md``):

- Frames (:mod:`rainscore.colocate.frames`): the kind (accumulation or instantaneous
  rate) and length of the radar frames come from the inventory, and with them the frames a
  half hour holds and their weights. Pairing (:mod:`rainscore.colocate.pairing`): the IMERG
  half hour [T, T + 30 min) gets the accumulations lying in [T + lag, T + lag + 30 min)
  (frames stamped T + lag + 5 … T + lag + 30 min for 5-minute frames; equal weights), or
  the rate snapshots at T + lag, …, T + lag + 30 min (trapezoid weights; the snapshots on
  the boundaries count in both half hours); ``time`` is T.
- Each frame is regridded as soon as it is read (area-conservative mean of its valid
  pixels per cell, and the cell's valid fraction) and converted to mm/h: an accumulation of
  ``a`` mm over ``N`` minutes is ``a · 60 / N`` mm/h (the remapping is linear, so converting
  before or after it is the same).
- ``rain`` (mm/h): per cell, the weighted mean of the rates of the frames valid at that
  cell (a frame is valid at a cell when at least one of its pixels there is valid); NaN
  when no frame is.
- ``valid_fraction`` (0–1): per cell, the weighted mean over the ``frames_per_half_hour``
  expected frames of each frame's valid fraction, a missing frame counting 0; so it is 1
  only when all frames are present and fully valid.
- ``n_frames``: frames read for the half hour (0 to ``frames_per_half_hour``); files that
  could not be used (unreadable, inconsistent, or with impossible values: any negative
  value, or more than ``max_impossible_fraction`` of their data pixels above
  ``max_rate``) are recorded in :attr:`ColocationResult.bad_frames` with a reason code
  and count as missing. Files that were used with a few values masked, or without a valid
  pixel in the box, are recorded there too (outcomes ``masked`` and ``no_data``).
- ``n_valid_frames``: per cell, how many of those frames were valid at the cell, i.e. how
  many frames ``rain`` is the mean of (a radar out for part of the half hour lowers it
  only where that radar was needed).
- ``n_impossible``: pixels of the half hour's files that the reader masked as physically
  impossible (above ``max_rate``; its ``n_impossible`` attribute, over what was read: the
  box's window, or the whole raster with ``read_window=False``) in the files that were
  used; a file counts once, in the first half hour it pairs with (a multi-frame file:
  its first frame's; a rate snapshot on a boundary: the half hour it closes).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from rainscore.colocate.block import (
    BadFrame,
    BlockResult,
    BlockTask,
    RadarFile,
    Reader,
    weights_for,
)
from rainscore.colocate.config import ColocationConfig
from rainscore.colocate.executors import run_blocks
from rainscore.colocate.frames import FrameModel, frame_model, inventory_frame_times
from rainscore.colocate.pairing import as_utc_naive, half_hours
from rainscore.execution import ExecutorConfig
from rainscore.grids.imerg import IMERG_CRS, Box
from rainscore.grids.projected import ProjectedGrid
from rainscore.half_hour import HALF_HOUR

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("path", "end_time", "status")


@dataclass
class ColocationResult:
    """Radar on the IMERG grid, and the radar files that were not (fully) used.

    Attributes:
        dataset: ``rain`` (mm/h), ``valid_fraction`` and ``n_valid_frames`` (time, lat,
            lon); ``n_frames`` and ``n_impossible`` (time).
        bad_frames: A :class:`BadFrame` (path, error, reason, outcome) for every file that
            was skipped, partly masked or without data in the box.
    """

    dataset: xr.Dataset
    bad_frames: list[BadFrame] = field(default_factory=list)

    def short_half_hours(self) -> pd.DataFrame:
        """The half hours with fewer radar frames than a complete one holds: columns
        ``time``, ``n_frames`` and ``expected`` (the dataset's ``frames_per_half_hour``)."""
        expected = int(self.dataset.attrs["frames_per_half_hour"])
        n_frames = self.dataset["n_frames"].to_series()
        short = n_frames[n_frames < expected]
        return pd.DataFrame(
            {"time": short.index, "n_frames": short.to_numpy(), "expected": expected}
        )

    def bad_frames_table(self) -> pd.DataFrame:
        """The reported files as a table: columns ``path``, ``error``, ``reason``,
        ``outcome``."""
        return pd.DataFrame(self.bad_frames, columns=list(BadFrame._fields))


def default_reader(max_rate: float = 300.0) -> Reader:
    """:func:`rainscore.io.open_radar` with the given impossible-rate limit."""
    from rainscore.io import open_radar

    return functools.partial(open_radar, max_rate=max_rate)


def _frames_table(
    inventory: pd.DataFrame, config: ColocationConfig
) -> tuple[pd.DataFrame, FrameModel]:
    """Rows of the inventory with the first and last half hours their frames are paired
    with, in time order, and the series' frame model (:func:`frame_model`).

    Raises:
        ValueError: A missing column, or a lag that is not a multiple of the frame length.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in inventory.columns]
    if missing:
        raise ValueError(
            f"The radar inventory lacks the columns {missing}; it has {list(inventory.columns)}"
        )
    table = inventory.loc[inventory["end_time"].notna()].copy()
    table["end_time"] = as_utc_naive(table["end_time"])
    model = frame_model(table)
    if config.lag_minutes % model.minutes:
        raise ValueError(
            f"colocation.engine.lag_minutes must be a multiple of the radar frame length "
            f"({model.describe()}), got {config.lag_minutes}"
        )
    first, last = inventory_frame_times(table, model)
    table["frame_time"] = first
    table["first_half_hour"], table["last_half_hour"] = model.span(first, last, config.lag_minutes)
    table = table.sort_values(["end_time", "path"], kind="stable").reset_index(drop=True)
    return table, model


def _block_rows(table: pd.DataFrame, times: np.ndarray, size: int) -> Iterator[tuple]:
    """``(half hours, row positions in table)`` of each time block, for ``ok`` rows."""
    ok = np.flatnonzero((table["status"] == "ok").to_numpy())
    first = table["first_half_hour"].to_numpy()[ok]
    last = table["last_half_hour"].to_numpy()[ok]
    for i in range(0, len(times), size):
        block = times[i : i + size]
        yield block, ok[(first <= block[-1]) & (last >= block[0])]


def _strings(table: pd.DataFrame, column: str) -> list[str | None]:
    """The column's values, None where absent or not a string (or for a missing column)."""
    if column not in table.columns:
        return [None] * len(table)
    return [v if isinstance(v, str) else None for v in table[column].to_numpy()]


def _plan(
    table: pd.DataFrame,
    times: np.ndarray,
    box: Box,
    cache_dir: str,
    config: ColocationConfig,
    reader: Reader,
    frames: FrameModel,
) -> Iterator[BlockTask]:
    """The time blocks (``block_half_hours`` consecutive half hours) and their files."""
    paths = table["path"].astype(str).to_numpy()
    ends = table["end_time"].to_numpy()
    frame_times = table["frame_time"].to_numpy()
    grid_ids = _strings(table, "grid_id")
    grids = _strings(table, "grid")
    for block, rows in _block_rows(table, times, config.block_half_hours):
        files = tuple(
            RadarFile(
                path=paths[r],
                end_time=ends[r],
                grid_id=grid_ids[r],
                grid=grids[r],
                frame_time=frame_times[r],
            )
            for r in rows
        )
        yield BlockTask(
            times=block,
            files=files,
            box=box,
            cache_dir=cache_dir,
            config=config,
            reader=reader,
            frames=frames,
        )


def _prepare_weights(table: pd.DataFrame, box: Box, cache_dir: str) -> None:
    """Compute missing weights here, once, before workers need them (inventories with a
    ``grid`` column of :meth:`ProjectedGrid.to_dict` JSON; otherwise workers do it).
    """
    if "grid" not in table.columns:
        return
    for grid_json in table.loc[table["status"] == "ok", "grid"].dropna().unique():
        try:
            grid = ProjectedGrid.from_dict(json.loads(grid_json))
        except (ValueError, KeyError, TypeError) as err:
            logger.warning("Inventory grid %r is not a grid definition (%s)", grid_json, err)
            continue
        weights_for(grid, box, cache_dir)


def block_dataset(
    result: BlockResult, box: Box, config: ColocationConfig, frames: FrameModel
) -> xr.Dataset:
    """A block's result as the output dataset (module docstring: conventions)."""
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {
            "rain": (
                dims,
                result.rain,
                {
                    "units": "mm/h",
                    "long_name": "radar rain rate: mean over the half hour's valid frames of "
                    "the area-conservative mean of valid pixels",
                    "standard_name": "lwe_precipitation_rate",
                },
            ),
            "valid_fraction": (
                dims,
                result.valid_fraction,
                {
                    "units": "1",
                    "long_name": "valid radar area fraction, mean over the expected frames "
                    "(missing frames count 0)",
                },
            ),
            "n_frames": (
                ("time",),
                result.n_frames,
                {"units": "1", "long_name": "number of radar frames read in the half hour"},
            ),
            "n_impossible": (
                ("time",),
                result.n_impossible,
                {
                    "units": "1",
                    "long_name": "radar pixels of the half hour's files (as read: the box's "
                    "window or the whole raster) above max_rate, masked by the reader",
                },
            ),
            "n_valid_frames": (
                dims,
                result.n_valid_frames,
                {
                    "units": "1",
                    "long_name": "number of the half hour's radar frames valid at the cell "
                    "(the frames that rain averages)",
                },
            ),
        },
        coords={
            "time": (
                "time",
                result.times,
                {"standard_name": "time", "long_name": "start of the IMERG half hour (UTC)"},
            ),
            **box.coords(),
        },
        attrs={
            "lag_minutes": config.lag_minutes,
            "frame_kind": frames.kind,
            "frame_minutes": frames.minutes,
            "frames_per_half_hour": frames.frames_per_half_hour,
            "box": json.dumps(box.to_dict()),
            "crs": IMERG_CRS,
        },
    )


@dataclass(frozen=True)
class ColocationPlan:
    """What a colocation runs: its half hours, the time blocks of files, the frame model.

    Made by :func:`plan_colocation` (nothing is read); :func:`iter_colocation` runs it, and
    so do the writers of a store that run its blocks elsewhere
    (:mod:`rainscore.colocate.distributed`).

    Attributes:
        table: The inventory's rows with the half hours each file pairs with.
        times: Every half hour of the period (starts), ``datetime64[ns]``.
        box: Target box.
        cache_dir: Folder of the area-weights cache.
        config: Colocation parameters (``block_half_hours``: the blocks' size).
        reader: Reads one radar file.
        frames: The radar series' frame model.
    """

    table: pd.DataFrame
    times: np.ndarray
    box: Box
    cache_dir: str
    config: ColocationConfig
    reader: Reader
    frames: FrameModel

    def tasks(self) -> Iterator[BlockTask]:
        """The time blocks of ``config.block_half_hours`` half hours and their files."""
        return _plan(
            self.table, self.times, self.box, self.cache_dir, self.config, self.reader, self.frames
        )

    @property
    def n_files(self) -> int:
        """Files read, summed over the blocks (a file in two blocks counts twice)."""
        blocks = _block_rows(self.table, self.times, self.config.block_half_hours)
        return sum(len(rows) for _, rows in blocks)

    def dataset(self, result: BlockResult) -> xr.Dataset:
        """A block's result as the output dataset (variables, coordinates, attributes)."""
        return block_dataset(result, self.box, self.config, self.frames)

    def empty(self) -> xr.Dataset:
        """The output dataset without time steps."""
        shape = (0, *self.box.shape)
        empty = BlockResult(
            times=np.array([], dtype="datetime64[ns]"),
            rain=np.zeros(shape, np.float32),
            valid_fraction=np.zeros(shape, np.float32),
            n_frames=np.zeros(0, np.int16),
            n_valid_frames=np.zeros(shape, np.int16),
            n_impossible=np.zeros(0, np.int64),
        )
        return self.dataset(empty)

    def prepare_weights(self) -> None:
        """Compute the missing area weights here, once, before any worker needs them."""
        _prepare_weights(self.table, self.box, self.cache_dir)

    def starting_at(self, start: np.datetime64) -> ColocationPlan:
        """The same plan without the half hours before ``start``."""
        return dataclasses.replace(self, times=self.times[self.times >= start])

    def run(self, execution: ExecutorConfig | None = None) -> Iterator[ColocationResult]:
        """Run the blocks with ``execution`` (default: sequentially, here); one result per
        block, in time order (:func:`iter_colocation`)."""
        execution = execution or ExecutorConfig(executor="sequential")
        if not len(self.times):
            yield ColocationResult(self.empty())
            return
        self.prepare_weights()
        with tqdm(
            total=self.n_files, desc="radar files", unit="file", disable=not execution.progress
        ) as bar:
            per_file = None if execution.parallel else bar.update
            for result in run_blocks(self.tasks(), execution, on_file=per_file):
                if per_file is None:
                    bar.update(result.n_files)
                yield ColocationResult(self.dataset(result), result.bad_frames)


def plan_colocation(
    inventory: pd.DataFrame,
    box: Box,
    *,
    cache_dir: str | os.PathLike,
    config: ColocationConfig | None = None,
    reader: Reader | None = None,
    start: np.datetime64 | pd.Timestamp | None = None,
    end: np.datetime64 | pd.Timestamp | None = None,
) -> ColocationPlan:
    """The half hours and time blocks of a colocation; see :func:`colocate_radar` for the
    arguments. Nothing is read.

    Raises:
        ValueError: If the inventory lacks a required column, or the lag is not a multiple
            of the frame length.
    """
    config = config or ColocationConfig()
    table, frames = _frames_table(inventory, config)
    if start is None:
        start = table["first_half_hour"].min() if len(table) else None
    if end is None:
        end = table["last_half_hour"].max() + HALF_HOUR if len(table) else None
    if start is None or end is None:
        times = np.array([], dtype="datetime64[ns]")
    else:
        times = half_hours(as_utc_naive([start])[0], as_utc_naive([end])[0])
    return ColocationPlan(
        table=table,
        times=times,
        box=box,
        cache_dir=str(cache_dir),
        config=config,
        reader=reader or default_reader(config.max_rate),
        frames=frames,
    )


def iter_colocation(
    inventory: pd.DataFrame,
    box: Box,
    *,
    cache_dir: str | os.PathLike,
    config: ColocationConfig | None = None,
    reader: Reader | None = None,
    start: np.datetime64 | pd.Timestamp | None = None,
    end: np.datetime64 | pd.Timestamp | None = None,
    execution: ExecutorConfig | None = None,
) -> Iterator[ColocationResult]:
    """Colocate block by block: one result per time block, in time order.

    Use this to write a long period to disk as it is computed (memory stays flat); see
    :func:`colocate_radar` for the arguments.

    Yields:
        The :class:`ColocationResult` of each time block.
    """
    plan = plan_colocation(
        inventory, box, cache_dir=cache_dir, config=config, reader=reader, start=start, end=end
    )
    yield from plan.run(execution)


def colocate_radar(
    inventory: pd.DataFrame,
    box: Box,
    *,
    cache_dir: str | os.PathLike,
    config: ColocationConfig | None = None,
    reader: Reader | None = None,
    start: np.datetime64 | pd.Timestamp | None = None,
    end: np.datetime64 | pd.Timestamp | None = None,
    execution: ExecutorConfig | None = None,
) -> ColocationResult:
    """Put radar frames on the IMERG grid of ``box``, half hour by half hour.

    Files are streamed in time order, one at a time per worker; each frame is regridded as
    soon as it is read and added into its half hour (module docstring: conventions).

    Args:
        inventory: Radar files: columns ``path``, ``end_time`` (end of the accumulation) and
            ``status`` (only ``"ok"`` rows are read); optional ``start_time`` (multi-frame
            files), ``grid_id`` (checked against each file) and ``grid`` (JSON, to compute
            missing weights once before the workers start).
        box: Target IMERG box.
        cache_dir: Folder of the area-weights cache (shared by all workers).
        config: Parameters (default :class:`ColocationConfig`).
        reader: Reads one file (default :func:`rainscore.io.open_radar` with
            ``config.max_rate``); must be picklable for parallel executors.
        start: First IMERG half hour (default: the first one the inventory reaches).
        end: End of the period, exclusive (default: after the last one it reaches).
        execution: What runs the time blocks (default: sequentially, in this process),
            progress bar.

    Returns:
        The colocated radar fields, ``time`` = start of each half hour from ``start`` to
        ``end`` without gaps, and the files that were skipped, partly masked or without
        data (each with a reason code).

    Raises:
        ValueError: If the inventory lacks a required column.
        ColocationError: In strict mode, for the first file that would be reported (the
            message names it and its reason code).
    """
    stream = ColocationStream(
        iter_colocation(
            inventory,
            box,
            cache_dir=cache_dir,
            config=config,
            reader=reader,
            start=start,
            end=end,
            execution=execution,
        )
    )
    datasets = list(stream)
    dataset = xr.concat(datasets, dim="time") if len(datasets) > 1 else datasets[0]
    return ColocationResult(dataset, stream.bad_frames)


class BlockSummary(NamedTuple):
    """What the period's warnings need of a time block: small, so that a worker that wrote
    the block into a store sends back only this.

    Attributes:
        n_times: Half hours of the block.
        n_short: Half hours with fewer frames than a complete one.
        first_short: The first three of them.
        n_impossible: Pixels masked above ``max_rate``.
        impossible_half_hours: Half hours with such pixels.
        bad_frames: The block's bad frames.
        n_files: Files read for the block.
    """

    n_times: int
    n_short: int
    first_short: list[pd.Timestamp]
    n_impossible: int
    impossible_half_hours: int
    bad_frames: list[BadFrame]
    n_files: int = 0

    @classmethod
    def of(cls, result: ColocationResult, n_files: int = 0) -> BlockSummary:
        """The summary of one block's result."""
        ds = result.dataset
        short = result.short_half_hours()["time"]
        return cls(
            n_times=ds.sizes["time"],
            n_short=len(short),
            first_short=list(short.head(3)),
            n_impossible=int(ds["n_impossible"].sum()),
            impossible_half_hours=int((ds["n_impossible"] > 0).sum()),
            bad_frames=list(result.bad_frames),
            n_files=n_files,
        )


class PeriodSummary:
    """The blocks' summaries added up, in time order, and the period's warnings.

    Attributes:
        bad_frames: The bad frames of the blocks added so far (in time order).
    """

    def __init__(self) -> None:
        """Start with no block."""
        self.bad_frames: list[BadFrame] = []
        self._n_times = self._n_short = self._n_impossible = self._impossible_half_hours = 0
        self._first_short: list[pd.Timestamp] = []

    def add(self, block: BlockSummary) -> None:
        """Add the next block's summary."""
        self.bad_frames.extend(block.bad_frames)
        self._n_times += block.n_times
        self._n_short += block.n_short
        self._first_short.extend(block.first_short[: 3 - len(self._first_short)])
        self._n_impossible += block.n_impossible
        self._impossible_half_hours += block.impossible_half_hours

    def log(self, attrs: dict) -> None:
        """Log the warnings of :func:`colocate_radar` for the period (unusable files, short
        half hours, impossible values); ``attrs`` are the output's (the frame model)."""
        _log_warnings(
            self.bad_frames,
            n_short=self._n_short,
            first_short=self._first_short,
            n_times=self._n_times,
            attrs=attrs,
            n_impossible=self._n_impossible,
            impossible_half_hours=self._impossible_half_hours,
        )


class ColocationStream:
    """The datasets of :func:`iter_colocation`'s blocks, one at a time, for a store.

    Iterating yields each block's dataset and records its bad frames in
    :attr:`bad_frames`; once the blocks are exhausted, the warnings of
    :func:`colocate_radar` are logged (unusable files, short half hours, impossible
    values) for the whole period. Nothing but the current block and the bad frames is held,
    so a store written from it keeps memory flat in the period.

    Example:
        >>> blocks = iter_colocation(inventory, box, cache_dir=cache)  # doctest: +SKIP
        >>> stream = ColocationStream(blocks)  # doctest: +SKIP
        >>> write_store(path, stream)  # doctest: +SKIP
        >>> stream.bad_frames_table()  # complete once the store is written  # doctest: +SKIP

    Attributes:
        bad_frames: The bad frames of the blocks yielded so far.
    """

    def __init__(self, results: Iterable[ColocationResult]) -> None:
        """Wrap the results of :func:`iter_colocation` (iterated once)."""
        self._results = results
        self._summary = PeriodSummary()
        self.bad_frames = self._summary.bad_frames

    def __iter__(self) -> Iterator[xr.Dataset]:
        attrs: dict = {}
        for result in self._results:
            self._summary.add(BlockSummary.of(result))
            attrs = result.dataset.attrs
            yield result.dataset
        self._summary.log(attrs)

    def bad_frames_table(self) -> pd.DataFrame:
        """The bad frames recorded so far as a table (:meth:`ColocationResult.bad_frames_table`)."""
        return pd.DataFrame(self.bad_frames, columns=list(BadFrame._fields))


def _log_warnings(
    bad_frames: list[BadFrame],
    *,
    n_short: int,
    first_short: list,
    n_times: int,
    attrs: dict,
    n_impossible: int,
    impossible_half_hours: int,
) -> None:
    """The colocation's warnings about a whole period (unusable files, short half hours,
    masked impossible values)."""
    skipped = sum(b.outcome == "skipped" for b in bad_frames)
    if skipped:
        logger.warning("%d radar file(s) could not be used; see bad_frames", skipped)
    if n_short:
        logger.warning(
            "%d of %d half hour(s) have fewer radar frames than a complete one (%d frames, "
            "%d-minute %s); their cells are not scored where a frame is missing (first: %s); "
            "see n_frames and ColocationResult.short_half_hours",
            n_short,
            n_times,
            int(attrs["frames_per_half_hour"]),
            int(attrs["frame_minutes"]),
            attrs["frame_kind"],
            ", ".join(str(t) for t in first_short),
        )
    if n_impossible:
        logger.warning(
            "%d radar pixel(s) in %d half hour(s) were above max_rate and masked; see n_impossible",
            n_impossible,
            impossible_half_hours,
        )
