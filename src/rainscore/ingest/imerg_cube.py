"""Build the IMERG cube over the box from half-hourly granules, incrementally."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.execution import ExecutorConfig, Workers
from rainscore.grids import Box
from rainscore.grids.imerg import IMERG_CRS
from rainscore.half_hour import HALF_HOUR
from rainscore.ingest.config import IngestionConfig
from rainscore.ingest.fingerprint import fingerprint
from rainscore.ingest.parallel import file_workers, map_files
from rainscore.io import ReaderError, open_imerg, parse_imerg_filename, pmw_age
from rainscore.io.imerg_filename import IMERG_PRODUCTS, ImergFileInfo, version_number

logger = logging.getLogger(__name__)

LOG_COLUMNS = [
    "path",
    "product",
    "version",
    "time",
    "size",
    "mtime_ns",
    "status",
    "reason",
    "problem",
]
PMW_AGE_VARIABLES = ("pmw_age_forward", "pmw_age_backward")


def _read_granule(path: str, *, box: Box, variables: tuple[str, ...] | None) -> xr.Dataset:
    ds = open_imerg([path], box=box, variables=list(variables) if variables else None)
    return ds.load()


def time_gaps(times: pd.DatetimeIndex, present: np.ndarray) -> list[list[str]]:
    """Runs of absent steps of a regular axis, as ``[first, last]`` ISO strings."""
    gaps: list[list[str]] = []
    missing = np.flatnonzero(~present)
    if missing.size == 0:
        return gaps
    breaks = np.flatnonzero(np.diff(missing) > 1)
    starts = np.r_[missing[0], missing[breaks + 1]]
    ends = np.r_[missing[breaks], missing[-1]]
    for s, e in zip(starts, ends, strict=True):
        gaps.append([times[s].isoformat(), times[e].isoformat()])
    return gaps


def build_imerg_cube(
    paths: list[str],
    *,
    box: Box,
    config: IngestionConfig,
    previous: xr.Dataset | None = None,
    execution: ExecutorConfig | None = None,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read IMERG granules into one cube over ``box`` on a regular 30-minute axis.

    Args:
        paths: Raw IMERG files (any version, run and format :func:`open_imerg` reads).
        box: The analysis box; only its hyperslab is read from each file.
        config: Ingestion parameters (strictness, run selection).
        previous: The cube of an earlier run: granules it already holds whose files are
            unchanged (same size and modification time) are not read again, provided it was
            built for the same box, run and variables (else everything is read again).
        execution: What reads the granules (default: 2 processes), progress bar.

    Returns:
        ``(cube, log)``: the cube (dims time, lat, lon; missing half hours are NaN and listed
        in ``attrs["missing_times"]``; PMW age added) and one log row per file (``read``,
        ``reused`` or ``skipped`` with the reason).

    Raises:
        ReaderError: In strict mode, at the first bad file.
        ValueError: In strict mode at the first skipped file, or if no granule at all could
            be read.
    """
    plan = _plan(paths, box=box, config=config, previous=previous)
    rows, by_time, product, variables = plan.rows, plan.by_time, plan.product, plan.variables
    to_read, reused_times = plan.to_read, plan.reused
    results = map_files(
        partial(_read_granule, box=box, variables=variables),
        [by_time[t][0] for t in to_read],
        execution=execution,
        strict=config.strict,
        desc="IMERG granules",
    )
    parts = []
    for result in results:
        if result.ok:
            rows[result.path]["status"] = "read"
            parts.append(result.value)
        else:
            _skip(rows[result.path], result.reason, result.problem)
    if reused_times:
        old = previous.drop_vars([v for v in PMW_AGE_VARIABLES if v in previous])
        parts.append(old.sel(time=sorted(reused_times)))
    log = _log_table(rows)
    if not parts:
        raise _no_granule_error(log, len(paths))

    cube = xr.concat(parts, dim="time", data_vars="all", coords="minimal", join="exact")
    cube = cube.sortby("time")
    axis = pd.date_range(cube.time.values[0], cube.time.values[-1], freq=pd.Timedelta(HALF_HOUR))
    present = np.isin(axis.values, cube.time.values)
    cube = cube.reindex(time=axis)
    if "mw_source" in cube and "mw_observation_time" in cube:
        cube = cube.merge(pmw_age(cube, product=product))

    used = [path for path, _ in by_time.values() if rows[path]["status"] in ("read", "reused")]
    cube.attrs.update(_cube_attrs(plan, box, used, axis, present))
    return cube, log


class ImergCubeBlocks:
    """The IMERG cube in consecutive time blocks, for a store: the period is never in memory.

    Iterating reads the granules of one block of ``block_half_hours`` half hours at a time
    (the workers of ``execution``), on the regular 30-minute axis from the first to the last
    granule of the run, and yields the block with its PMW age. The PMW age of a half hour
    depends on the overpasses before it (forward) and after it (backward, Late and Final
    runs): a block is held back until every pixel has had a PMW event (an overpass, or an
    unknown half hour) at or after its last half hour, and only the ``mw_source`` and
    ``mw_observation_time`` of the half hours since each pixel's last event are kept, so the
    ages are the whole period's, value for value, while memory stays bounded by the longest
    PMW revisit gap (hours). :meth:`log` is the per-file log once the blocks are exhausted.

    The blocks' attributes are known before any granule is read (the store keeps those of
    its first block): ``missing_times`` lists the half hours without a granule of the run;
    a granule that fails to be read is NaN in its half hour and ``skipped`` in the log.

    Example:
        >>> blocks = ImergCubeBlocks(paths, box=box, config=IngestionConfig())  # doctest: +SKIP
        >>> write_store("imerg_cube.zarr", blocks)  # doctest: +SKIP
        >>> log = blocks.log()  # doctest: +SKIP
    """

    def __init__(
        self,
        paths: list[str],
        *,
        box: Box,
        config: IngestionConfig,
        previous: xr.Dataset | None = None,
        execution: ExecutorConfig | None = None,
        block_half_hours: int = 48,
    ) -> None:
        """Plan the cube (file names only; nothing is read until iterated).

        Args:
            paths: Raw IMERG files, as for :func:`build_imerg_cube`.
            box: The analysis box.
            config: Ingestion parameters.
            previous: The cube of an earlier run (e.g. a lazily opened store): its
                unchanged granules are taken from it, a block at a time.
            execution: What reads the granules of a block, progress bar.
            block_half_hours: Half hours per block (default a day).

        Raises:
            ValueError: ``block_half_hours`` below 1; in strict mode, a skipped file.
            ReaderError: In strict mode, a file name that does not parse.
        """
        if block_half_hours < 1:
            raise ValueError(
                f"ImergCubeBlocks: block_half_hours must be ≥ 1, got {block_half_hours}"
            )
        self._paths = paths
        self._box = box
        self._config = config
        self._previous = previous
        self._execution = execution
        self._size = block_half_hours
        self._plan = _plan(paths, box=box, config=config, previous=previous)

    def __iter__(self) -> Iterator[xr.Dataset]:
        plan = self._plan
        times = sorted(plan.by_time)
        if not times:
            raise _no_granule_error(_log_table(plan.rows), len(self._paths))
        axis = pd.date_range(times[0], times[-1], freq=pd.Timedelta(HALF_HOUR))
        present = np.isin(axis.values, pd.DatetimeIndex(times).values)
        used = [path for path, _ in plan.by_time.values()]
        attrs = _cube_attrs(plan, self._box, used, axis, present)
        to_read, reused = set(plan.to_read), set(plan.reused)
        with file_workers(self._execution) as workers:  # started once for every block
            yield from self._blocks(axis, attrs, to_read, reused, workers)

    def _blocks(
        self,
        axis: pd.DatetimeIndex,
        attrs: dict,
        to_read: set,
        reused: set,
        workers: Workers | None,
    ) -> Iterator[xr.Dataset]:
        plan = self._plan
        template: xr.Dataset | None = None
        ages: _PmwAges | None = None
        for start in range(0, axis.size, self._size):
            block_axis = axis[start : start + self._size]
            parts = self._read(block_axis, to_read, reused, workers)
            if parts:
                block = xr.concat(
                    parts, dim="time", data_vars="all", coords="minimal", join="exact"
                )
                block = block.sortby("time").reindex(time=block_axis)
                template = block.isel(time=slice(0, 0))
            elif template is not None:
                block = template.reindex(time=block_axis)
            else:
                continue  # the axis starts at the first granule read, as the whole cube's
            block.attrs.update(attrs)
            if ages is None and "mw_source" in block and "mw_observation_time" in block:
                ages = _PmwAges(plan.product)
            yield from [block] if ages is None else ages.push(block)
        if template is None:
            raise _no_granule_error(self.log(), len(self._paths))
        if ages is not None:
            yield from ages.flush()

    def _read(
        self, block_axis: pd.DatetimeIndex, to_read: set, reused: set, workers: Workers | None
    ) -> list[xr.Dataset]:
        plan = self._plan
        results = map_files(
            partial(_read_granule, box=self._box, variables=plan.variables),
            [plan.by_time[t][0] for t in block_axis if t in to_read],
            execution=self._execution,
            strict=self._config.strict,
            desc="IMERG granules",
            workers=workers,
        )
        parts = []
        for result in results:
            if result.ok:
                plan.rows[result.path]["status"] = "read"
                parts.append(result.value)
            else:
                _skip(plan.rows[result.path], result.reason, result.problem)
        old_times = [t for t in block_axis if t in reused]
        if old_times:
            old = self._previous.drop_vars([v for v in PMW_AGE_VARIABLES if v in self._previous])
            parts.append(old.sel(time=old_times).load())
        return parts

    def log(self) -> pd.DataFrame:
        """One row per file (``read``, ``reused`` or ``skipped`` with the reason); complete
        once the blocks are exhausted (before, granules not yet read have no status)."""
        return _log_table(self._plan.rows)


class _PmwAges:
    """Adds the PMW age to consecutive blocks of a regular axis, exactly as over the whole
    period (:func:`rainscore.io.pmw_age`), holding back blocks whose backward age needs
    later half hours."""

    _FIELDS = ("mw_source", "mw_observation_time")

    def __init__(self, product: str) -> None:
        self._product = product
        self._backward = product != IMERG_PRODUCTS["early"]
        self._window: xr.Dataset | None = None  # PMW fields since each pixel's last event
        self._pending: deque[xr.Dataset] = deque()

    def push(self, block: xr.Dataset) -> list[xr.Dataset]:
        """Take the next block; return the blocks whose ages are now known, in order."""
        fields = block[list(self._FIELDS)]
        self._window = (
            fields if self._window is None else xr.concat([self._window, fields], dim="time")
        )
        self._pending.append(block)
        return self._ready(final=False)

    def flush(self) -> list[xr.Dataset]:
        """The blocks still held back, at the end of the record."""
        return self._ready(final=True)

    def _ready(self, *, final: bool) -> list[xr.Dataset]:
        out = []
        while self._pending:
            block = self._pending[0]
            last = block.time.values[-1]
            if not final and self._backward:
                later = _events(self._window.sel(time=slice(last, None)))
                if not later.any(axis=0).all():
                    break  # a pixel has not been seen again yet
            ages = pmw_age(self._window, product=self._product).sel(time=block.time)
            out.append(block.merge(ages))
            self._pending.popleft()
            self._trim()
        return out

    def _trim(self) -> None:
        """Drop the half hours before each pixel's last event (the forward age of the next
        block needs nothing older)."""
        window = self._window
        if self._pending:
            window = window.sel(time=slice(None, self._pending[0].time.values[0]))
        events = _events(window)
        n = events.shape[0]
        last = np.where(events, np.arange(n)[:, None, None], -1).max(axis=0)
        seen = last[last >= 0]
        # No event yet anywhere: nothing before the next block's first half hour is needed.
        first_kept = int(seen.min()) if seen.size else (n - 1 if self._pending else n)
        self._window = self._window.isel(time=slice(first_kept, None))


def _events(fields: xr.Dataset) -> np.ndarray:
    """Half hours that end a PMW age's history, per pixel (time first): an overpass, or an
    unknown ``mw_source`` (a missing half hour is NaN)."""
    source = fields["mw_source"].transpose("time", ...).values
    return (source > 0) | np.isnan(source)


@dataclass
class _Plan:
    """What a cube is built from: the log rows so far, the granule of each time, the
    product, the requested variables, the times to reuse from the previous cube and to read.
    """

    rows: dict[str, dict]
    by_time: dict[pd.Timestamp, tuple[str, ImergFileInfo]]
    product: str
    variables: tuple[str, ...] | None
    reused: list[pd.Timestamp]
    to_read: list[pd.Timestamp]


def _plan(
    paths: list[str], *, box: Box, config: IngestionConfig, previous: xr.Dataset | None
) -> _Plan:
    """Parse the file names, pick the run and one granule per time, split reused/read."""
    rows: dict[str, dict] = {}
    candidates: list[tuple[str, ImergFileInfo]] = []
    for path in paths:
        size, mtime = fingerprint(path)
        row = {"path": path, "size": size, "mtime_ns": mtime}
        rows[path] = row
        try:
            info = parse_imerg_filename(path)
        except ReaderError as err:
            if config.strict:
                raise
            _skip(row, err.reason, str(err))
            continue
        candidates.append((path, info))
        row.update(product=info.product, version=info.version, time=pd.Timestamp(info.start))

    run = config.imerg_run
    if run == "auto" and candidates:
        run = Counter(info.run for _, info in candidates).most_common(1)[0][0]
    product = IMERG_PRODUCTS.get(run, run)
    by_time: dict[pd.Timestamp, tuple[str, ImergFileInfo]] = {}
    for path, info in candidates:
        if info.run != run:
            _skip(rows[path], "other_product", f"{path}: {info.product} granule, cube is {product}")
            continue
        t = pd.Timestamp(info.start)
        kept = by_time.get(t)
        if kept is None or version_number(info.version) > version_number(kept[1].version):
            if kept is not None:
                _skip(rows[kept[0]], "duplicate", f"{kept[0]}: duplicate time {t}, {path} kept")
            by_time[t] = (path, info)
        else:
            _skip(rows[path], "duplicate", f"{path}: duplicate time {t}, {kept[0]} kept")
    skipped = [r for r in rows.values() if r.get("status") == "skipped"]
    if config.strict and skipped:
        raise ValueError(skipped[0]["problem"])

    variables = config.imerg_variables
    reused_times, to_read = _split_reused(by_time, previous, product, box, variables)
    for t in reused_times:
        rows[by_time[t][0]]["status"] = "reused"

    return _Plan(rows, by_time, product, variables, reused_times, to_read)


def _log_table(rows: dict[str, dict]) -> pd.DataFrame:
    log = pd.DataFrame(list(rows.values()), columns=LOG_COLUMNS)
    for column in ("product", "version", "status", "reason", "problem"):
        log[column] = log[column].astype(object)
    return log


def _no_granule_error(log: pd.DataFrame, n_paths: int) -> ValueError:
    problems = log["problem"].dropna()
    first = f"; first problem: {problems.iloc[0]}" if len(problems) else ""
    return ValueError(f"No IMERG granule could be read from {n_paths} file(s){first}")


def _cube_attrs(
    plan: _Plan, box: Box, used: list[str], axis: pd.DatetimeIndex, present: np.ndarray
) -> dict:
    variables = plan.variables
    return {
        "title": "IMERG half-hourly fields over the analysis box",
        "product": plan.product,
        "version": ",".join(sorted({info.version for _, info in plan.by_time.values()})),
        "crs": IMERG_CRS,
        "box": json.dumps(box.to_dict()),
        "variables_requested": json.dumps(list(variables) if variables else None),
        "source_root": os.path.commonpath(used) if used else "",
        "source_files": json.dumps({path: list(fingerprint(path)) for path in used}),
        "missing_times": json.dumps(time_gaps(axis, present)),
        "n_missing_times": int((~present).sum()),
    }


def _skip(row: dict, reason: str | None, problem: str | None) -> None:
    row.update(status="skipped", reason=reason, problem=problem)


def _split_reused(
    by_time: dict[pd.Timestamp, tuple[str, ImergFileInfo]],
    previous: xr.Dataset | None,
    product: str,
    box: Box,
    variables: tuple[str, ...] | None,
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Times whose granule the previous cube holds unchanged, and times to read.

    Nothing is reused when the previous cube was built for another run, box or set of
    variables: its granules would not match the new ones.
    """
    everything = sorted(by_time)
    if previous is None:
        return [], everything
    try:
        known = json.loads(previous.attrs.get("source_files", "{}"))
        same_box = json.loads(previous.attrs.get("box", "null")) == box.to_dict()
        requested = json.loads(previous.attrs.get("variables_requested", '"?"'))
    except json.JSONDecodeError:
        return [], everything
    same_variables = requested == (list(variables) if variables else None)
    if previous.attrs.get("product") != product or not same_box or not same_variables:
        logger.info(
            "The previous IMERG cube was built for another run, box or variables: "
            "reading every granule again"
        )
        return [], everything
    prev_times = set(pd.DatetimeIndex(previous.time.values))
    reused, to_read = [], []
    for t in everything:
        path = by_time[t][0]
        if t in prev_times and known.get(path) == list(fingerprint(path)):
            reused.append(t)
        else:
            to_read.append(t)
    return reused, to_read
