"""One time block of the colocation: read its radar files in time order, regrid each frame
as soon as it is read, and add it into its half hour.

A block is the unit of work the executors distribute. It carries everything it needs (file
list, box, weights cache folder, parameters, reader) and returns small arrays, so it runs
the same in this process, in a local process or on a Dask worker. Weights are loaded from
the cache once per process, and each thread keeps one regridder per grid from block to
block (it remembers the last nodata mask; its fast and general paths give bit-identical
numbers, so what it remembers never changes a result).

Window reads. When the inventory gives a file's grid and the reader takes a ``window``
keyword (:func:`rainscore.io.open_radar` does), only the rows and columns of the file that
hold the box (:attr:`AreaWeights.window`) are read, and the frame is regridded with the
grid's weights moved onto the window (:meth:`AreaWeights.on_window`): the same terms summed
in the same order, so the same numbers as a whole-frame read. The reader must then say
which grid the whole file is on (attr ``file_grid_id``): it is checked against the
inventory, as the frame's own grid is for whole-frame reads.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xarray as xr

from rainscore.colocate.accumulate import HalfHourSums
from rainscore.colocate.config import ColocationConfig
from rainscore.colocate.frames import FrameModel, frame_times
from rainscore.colocate.pairing import ACCUMULATION
from rainscore.grids.imerg import Box
from rainscore.grids.projected import ProjectedGrid
from rainscore.grids.regrid import AreaWeights, Regridder, weights_key
from rainscore.half_hour import HALF_HOUR
from rainscore.units import ACCUMULATION_UNITS, RATE_UNITS

logger = logging.getLogger(__name__)

Reader = Callable[[str], xr.DataArray]
"""Reads one radar file: a DataArray as :func:`rainscore.io.open_radar` returns."""


#: What happened to a reported file: not used (its frames count as missing), used with
#: some values masked, or read without a valid value where the box is.
OUTCOMES = ("skipped", "masked", "no_data")


class BadFrame(NamedTuple):
    """A radar file that was not used, was partly masked, or had no data, and why.

    Attributes:
        path: The file.
        error: What is wrong (``"<ExceptionType>: <message>"`` for a skipped file).
        reason: A short code: the reader's (:data:`rainscore.io.errors.REASONS`), or
            ``negative_values``, ``above_max_rate``, ``all_nodata``, ``inconsistent``.
        outcome: One of :data:`OUTCOMES`.
    """

    path: str
    error: str
    reason: str = "unreadable"
    outcome: str = "skipped"


class ColocationError(RuntimeError):
    """A radar file could not be used in strict mode; the message names the file."""


class ImpossibleValues(ValueError):
    """A frame whose values cannot be physical: the whole file is dropped.

    Args:
        reason: ``negative_values`` or ``above_max_rate``.
        detail: How many values, out of how many.
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        super().__init__(detail)


@dataclass(frozen=True)
class RadarFile:
    """One usable inventory row.

    Attributes:
        path: The file.
        end_time: End of its (last) frame's accumulation, per the inventory.
        grid_id: Grid id per the inventory (``None``: not checked).
        grid: The file's grid per the inventory (:meth:`ProjectedGrid.to_dict` as JSON;
            ``None``: unknown). With it, only the window of the box is read.
        frame_time: Time of its (first) frame per the inventory, by which it is paired (a
            rate's nominal time); ``None``: not checked.
    """

    path: str
    end_time: np.datetime64
    grid_id: str | None = None
    grid: str | None = None
    frame_time: np.datetime64 | None = None


@dataclass(frozen=True)
class BlockTask:
    """Everything needed to colocate one time block.

    Attributes:
        times: Starts of the block's IMERG half hours, ``datetime64[ns]``, consecutive.
        files: The block's radar files, in time order.
        box: Target box.
        cache_dir: Folder of the area-weights cache.
        config: Colocation parameters.
        reader: Reads one radar file (must be picklable for the parallel executors).
        frames: The radar series' frame model (kind, length: pairing and weights).
    """

    times: np.ndarray
    files: tuple[RadarFile, ...]
    box: Box
    cache_dir: str
    config: ColocationConfig
    reader: Reader
    frames: FrameModel = field(default_factory=FrameModel)


@dataclass
class BlockResult:
    """The half-hour fields of one block (see :meth:`HalfHourSums.compute`)."""

    times: np.ndarray
    rain: np.ndarray
    valid_fraction: np.ndarray
    n_frames: np.ndarray
    n_valid_frames: np.ndarray
    n_impossible: np.ndarray
    bad_frames: list[BadFrame] = field(default_factory=list)
    n_files: int = 0


_weights_key = functools.lru_cache(maxsize=256)(weights_key)
""":func:`weights_key`, remembered: it hashes the grid's CRS, which costs more than a
regridding's bookkeeping, and the engine asks for it at every file."""

_WEIGHTS: dict[tuple[str, str], AreaWeights] = {}
_WEIGHTS_LOCK = threading.Lock()
_REGRIDDERS = threading.local()


def weights_for(grid: ProjectedGrid, box: Box, cache_dir: str | Path) -> AreaWeights:
    """The area weights of ``grid`` on ``box``: from this process's memory, the cache, or
    computed (and cached). Thread safe.
    """
    key = (_weights_key(grid, box), str(cache_dir))
    with _WEIGHTS_LOCK:
        weights = _WEIGHTS.get(key)
        if weights is None:
            weights = AreaWeights.cached(grid, box, cache_dir=cache_dir)
            _WEIGHTS[key] = weights
    return weights


def regridder_for(grid: ProjectedGrid, box: Box, cache_dir: str | Path) -> Regridder:
    """This thread's :class:`Regridder` of ``grid`` on ``box`` (kept from block to block)."""
    regridders = _REGRIDDERS.__dict__.setdefault("by_key", {})
    key = (_weights_key(grid, box), str(cache_dir))
    if key not in regridders:
        regridders[key] = weights_for(grid, box, cache_dir).regridder()
    return regridders[key]


@dataclass(frozen=True)
class WindowPlan:
    """How to read the frames of one grid on the window of the box.

    Attributes:
        window: (rows, cols) of the grid that hold every pixel touching the box.
        file_grid_id: The whole grid's id, which the file must have.
        grid_id: The window's grid id, which the frame must have.
        regridder: This thread's regridder of the window (weights moved onto it).
    """

    window: tuple[slice, slice]
    file_grid_id: str
    grid_id: str
    regridder: Regridder


def window_plan_for(grid: ProjectedGrid, box: Box, cache_dir: str | Path) -> WindowPlan | None:
    """This thread's :class:`WindowPlan` for frames of ``grid`` (None when the grid does not
    reach the box: then whole frames are read).
    """
    plans = _REGRIDDERS.__dict__.setdefault("plans", {})
    key = (_weights_key(grid, box), str(cache_dir))
    if key not in plans:
        weights = weights_for(grid, box, cache_dir)
        window = weights.window
        plans[key] = (
            None
            if window is None
            else WindowPlan(
                window=window,
                file_grid_id=grid.grid_id,
                grid_id=grid.window(*window).grid_id,
                regridder=_window_weights(weights, window).regridder(),
            )
        )
    return plans[key]


def _window_weights(weights: AreaWeights, window: tuple[slice, slice]) -> AreaWeights:
    """``weights`` moved onto ``window``, once per process (they share the matrix)."""
    key = ("window", weights.key, *(b for part in window for b in (part.start, part.stop)))
    with _WEIGHTS_LOCK:
        moved = _WEIGHTS.get(key)
        if moved is None:
            moved = weights.on_window(*window)
            _WEIGHTS[key] = moved
    return moved


def takes_window(reader: Reader) -> bool:
    """Whether ``reader`` accepts a ``window`` keyword (as :func:`rainscore.io.open_radar`)."""
    try:
        parameter = inspect.signature(reader).parameters.get("window")
    except (TypeError, ValueError):  # not introspectable
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def rate_factor(attrs: dict, frames: FrameModel) -> float:
    """Factor turning a frame's values into mm/h: ``60 / accumulation`` for mm, 1 for mm/h.

    Raises:
        ValueError: Unknown units, units of the other kind of frame than the series', or an
            accumulation other than the series' frame length.
    """
    units = attrs.get("units")
    if units not in (ACCUMULATION_UNITS, RATE_UNITS):
        raise ValueError(f"units {units!r} are neither 'mm' (with accumulation_minutes) nor 'mm/h'")
    if (units == ACCUMULATION_UNITS) != (frames.kind == ACCUMULATION):
        raise ValueError(f"a frame in {units} in a series of {frames.describe()}")
    if units == RATE_UNITS:
        return 1.0
    minutes = float(attrs.get("accumulation_minutes", np.nan))
    if minutes != frames.minutes:
        raise ValueError(f"accumulation_minutes={minutes:g} in a series of {frames.describe()}")
    return 60.0 / minutes


class Frame(NamedTuple):
    """A file's frames as the engine uses them.

    Attributes:
        values: Float32 values, (y, x) or (time, y, x).
        ends: End of each frame's accumulation or window (``datetime64[ns]``).
        attrs: The reader's attrs (those of :func:`rainscore.io.open_radar`).
    """

    values: np.ndarray
    ends: np.ndarray
    attrs: dict


def frame_of(da: xr.DataArray) -> Frame:
    """The :class:`Frame` of a reader's DataArray, (y, x) or (time, y, x)."""
    if da.ndim == 2:
        da = da.transpose("y", "x")
        return Frame(da.values, np.atleast_1d(da["time"].values.astype("datetime64[ns]")), da.attrs)
    da = da.transpose("time", "y", "x")
    return Frame(da.values, da["time"].values.astype("datetime64[ns]"), da.attrs)


def frame_reader(reader: Reader) -> Callable[..., Frame]:
    """``reader`` as a function returning :class:`Frame`: :func:`rainscore.io.open_radar`
    (or a ``functools.partial`` of it, as :func:`default_reader` makes) is swapped for
    :func:`rainscore.io.radar.read_radar_frames`, which reads the same values and attrs
    without building the DataArray; any other reader's DataArray is converted.
    """
    from rainscore.io.radar import open_radar, read_radar_frames

    if reader is open_radar or (
        isinstance(reader, functools.partial) and reader.func is open_radar
    ):
        args = reader.args if isinstance(reader, functools.partial) else ()
        keywords = reader.keywords if isinstance(reader, functools.partial) else {}

        def read(path: str, **kwargs: object) -> Frame:
            frames = read_radar_frames(path, *args, **{**keywords, **kwargs})
            return Frame(frames.values, frames.times.astype("datetime64[ns]"), frames.attrs)

        return read
    return lambda path, **kwargs: frame_of(reader(path, **kwargs))


@functools.lru_cache(maxsize=64)
def _grid_of(grid_json: str) -> ProjectedGrid:
    return ProjectedGrid.from_dict(json.loads(grid_json))


@functools.lru_cache(maxsize=256)
def _grid_id_of(grid_json: str) -> str:
    return _grid_of(grid_json).grid_id


class _Frames:
    """Reads the frames of radar files and regrids them, for one block."""

    def __init__(self, task: BlockTask) -> None:
        self.task = task
        self._grids: dict[str, tuple[str, Regridder]] = {}
        self._seen: dict[np.datetime64, str] = {}
        self._windows = task.config.read_window and takes_window(task.reader)
        self._read = frame_reader(task.reader)

    def _regridder(self, grid_json: str) -> tuple[str, Regridder]:
        if grid_json not in self._grids:
            grid = _grid_of(grid_json)
            regridder = regridder_for(grid, self.task.box, self.task.cache_dir)
            self._grids[grid_json] = (grid.grid_id, regridder)
        return self._grids[grid_json]

    def _plan(self, file: RadarFile) -> WindowPlan | None:
        """The window plan of the file's inventory grid, if it is to be read on a window."""
        if not self._windows or file.grid is None:
            return None
        try:
            grid = _grid_of(file.grid)
        except (ValueError, KeyError, TypeError):
            return None  # not a grid definition: read the whole frame
        if file.grid_id is not None and _grid_id_of(file.grid) != file.grid_id:
            return None  # the inventory contradicts itself: the whole frame shows which
        return window_plan_for(grid, self.task.box, self.task.cache_dir)

    def _load(self, file: RadarFile) -> tuple[Frame, Regridder]:
        """The file's frame(s), and the regridder of the grid they are on."""
        plan = self._plan(file)
        if plan is None:
            da = self._read(file.path)
            if "grid" not in da.attrs:
                raise ValueError("the frame has no 'grid' attribute (georeferencing)")
            grid_id, regridder = self._regridder(da.attrs["grid"])
            if file.grid_id is not None and grid_id != file.grid_id:
                raise ValueError(f"the file's grid {grid_id} is not the inventory's {file.grid_id}")
            return da, regridder
        da = self._read(file.path, window=plan.window)
        file_grid_id = da.attrs.get("file_grid_id")
        if file_grid_id is None:
            raise ValueError(
                "the reader was asked for a window but gave no 'file_grid_id' attribute "
                "(the grid of the whole file)"
            )
        if file_grid_id != plan.file_grid_id:
            raise ValueError(
                f"the file's grid {file_grid_id} is not the inventory's {plan.file_grid_id}"
            )
        if "grid" not in da.attrs:
            raise ValueError("the frame has no 'grid' attribute (georeferencing)")
        if _grid_id_of(da.attrs["grid"]) != plan.grid_id:
            raise ValueError(
                f"the frame's grid {_grid_id_of(da.attrs['grid'])} is not the window "
                f"{plan.window} ({plan.grid_id}) asked for"
            )
        return da, plan.regridder

    def _check_values(self, da: Frame) -> int:
        """The reader's count of impossible values, if they are few enough to be masked.

        Raises:
            ImpossibleValues: Any negative value (``n_negative``), or more than
                ``max_impossible_fraction`` of the data pixels above ``max_rate``.
        """
        n_impossible = int(da.attrs.get("n_impossible", 0))
        n_negative = int(da.attrs.get("n_negative", 0))
        if n_negative:
            raise ImpossibleValues(
                "negative_values",
                f"{n_negative} negative value(s) (gain {da.attrs.get('gain', '?')}, offset "
                f"{da.attrs.get('offset', '?')}): the scaling is wrong, the file is dropped",
            )
        if n_impossible:
            n_data = int(np.count_nonzero(np.isfinite(da.values))) + n_impossible
            share = n_impossible / n_data
            if share > self.task.config.max_impossible_fraction:
                raise ImpossibleValues(
                    "above_max_rate",
                    f"{n_impossible} of {n_data} data pixels ({share:.1%}) above max_rate "
                    f"{self.task.config.max_rate:g} mm/h, more than max_impossible_fraction "
                    f"{self.task.config.max_impossible_fraction:g}: the file is dropped",
                )
        return n_impossible

    def read(
        self, file: RadarFile
    ) -> tuple[list[tuple[int, np.ndarray, np.ndarray, int]], tuple[int, int] | None]:
        """The (half-hour index, rate, valid fraction, weight) of each pairing of the file's
        frames with a half hour of the block (a rate snapshot on a half-hour boundary pairs
        with both half hours it bounds), and ``(half-hour index, count)`` of the reader's
        impossible values (its ``n_impossible`` attribute) if the file's first pairing is in
        the block (a file read by several blocks is counted once), else None. Raises on
        anything wrong with the file, including :class:`ImpossibleValues`.
        """
        task, config = self.task, self.task.config
        da, regridder = self._load(file)
        n_impossible = self._check_values(da)
        model = task.frames
        factor = rate_factor(da.attrs, model)
        ends, frames = da.ends, da.values
        if frames.ndim == 2:
            if ends[0] != file.end_time:
                raise ValueError(f"the frame ends at {ends[0]}, the inventory says {file.end_time}")
            frames = frames[None]
        when = frame_times(da.attrs, ends, model.kind)
        if file.frame_time is not None and when.min() != file.frame_time:
            raise ValueError(  # it would be planned into the wrong blocks
                f"the frame's time is {when.min()}, the inventory says {file.frame_time} "
                "(rate snapshots are paired by their nominal time: rebuild the inventory)"
            )
        model.check_times(when)
        pairs = model.pair(when, config.lag_minutes)
        k = (pairs.half_hour - task.times[0]) // HALF_HOUR
        inside = (k >= 0) & (k < len(task.times))  # other pairings belong to other blocks
        out = []
        regridded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for f, index, position in zip(
            pairs.frame[inside], k[inside], pairs.position[inside], strict=True
        ):
            if f not in regridded:
                if when[f] in self._seen:
                    raise ValueError(
                        f"a frame at {when[f]} was already read from {self._seen[when[f]]}"
                    )
                mean, fraction = regridder.regrid(frames[f])
                regridded[f] = (mean * factor, fraction)
            rate, fraction = regridded[f]
            out.append((int(index), rate, fraction, model.weights[position]))
        for t in when:
            self._seen[t] = file.path
        counted = None
        if 0 <= k.min() < len(task.times):
            counted = (int(k.min()), n_impossible)
        return out, counted


def describe(path: str, err: BaseException) -> str:
    """``"<Type>: <message>"`` of an error, without a leading ``"<path>: "``."""
    message = str(err).removeprefix(f"{path}: ")
    return f"{type(err).__name__}: {message}"


def reason_of(err: BaseException) -> str:
    """The short code of why a file could not be used: the error's own ``reason``
    (:class:`~rainscore.io.errors.ReaderError`, :class:`ImpossibleValues`), ``inconsistent``
    for a file that contradicts the inventory or the frame lattice, else ``unreadable``.
    """
    reason = getattr(err, "reason", None)
    if isinstance(reason, str):
        return reason
    return "inconsistent" if isinstance(err, ValueError) else "unreadable"


def _file_notes(
    file: RadarFile,
    regridded: list[tuple[int, np.ndarray, np.ndarray, int]],
    impossible: tuple[int, int] | None,
    config: ColocationConfig,
) -> list[BadFrame]:
    """What to report about a file that was used: masked values, or no data in the box."""
    notes = []
    if impossible is not None and impossible[1]:
        notes.append(
            BadFrame(
                file.path,
                f"{impossible[1]} value(s) above max_rate {config.max_rate:g} mm/h masked",
                "above_max_rate",
                "masked",
            )
        )
    if regridded and not any(fraction.any() for _, _, fraction, _ in regridded):
        notes.append(
            BadFrame(file.path, "no valid pixel where the box is", "all_nodata", "no_data")
        )
    return notes


def run_block(task: BlockTask, on_file: Callable[[], object] | None = None) -> BlockResult:
    """Colocate one time block.

    Args:
        task: The block.
        on_file: Called after each file (progress).

    Returns:
        The block's half-hour fields and its reported files (skipped, partly masked, or
        without data in the box).

    Raises:
        ColocationError: In strict mode, for the first file that would be reported.
    """
    config = task.config
    sums = HalfHourSums(len(task.times), task.box.shape, task.frames.total_weight)
    frames = _Frames(task)
    bad: list[BadFrame] = []
    n_impossible = np.zeros(len(task.times), dtype=np.int64)
    for file in task.files:
        try:
            regridded, impossible = frames.read(file)
        except MemoryError:
            raise
        except Exception as err:  # a raw file may fail in any way; it must not stop the run
            note = BadFrame(file.path, describe(file.path, err), reason_of(err))
            if config.strict:
                raise ColocationError(f"{file.path}: {note.reason}: {note.error}") from err
            bad.append(note)
            logger.warning("Skipping radar file %s (%s): %s", file.path, note.reason, note.error)
        else:
            notes = _file_notes(file, regridded, impossible, config)
            if notes and config.strict:
                raise ColocationError(f"{file.path}: {notes[0].reason}: {notes[0].error}")
            bad.extend(notes)
            for k, rate, fraction, weight in regridded:
                sums.add(k, rate, fraction, weight)
            if impossible is not None:  # the whole file's count, at its first frame
                n_impossible[impossible[0]] += impossible[1]
        if on_file is not None:
            on_file()
    rain, fraction, n_frames, n_valid_frames = sums.compute()
    return BlockResult(
        times=task.times,
        rain=rain,
        valid_fraction=fraction,
        n_frames=n_frames,
        n_valid_frames=n_valid_frames,
        n_impossible=n_impossible,
        bad_frames=bad,
        n_files=len(task.files),
    )
