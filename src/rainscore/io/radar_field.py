"""What every radar reader returns: metadata, masking of impossible values, the DataArray.

The ODIM/Météo-France and MeteoNet readers decode their formats into physical values and a
:class:`RadarMetadata`; this module turns them into one normalised DataArray.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from rainscore.grids import ProjectedGrid
from rainscore.io.errors import ReaderError
from rainscore.units import ACCUMULATION_UNITS, RATE_UNITS  # output units by kind

_STAMP_RE = re.compile(r"(?<!\d)(\d{14}|\d{12})(?!\d)")


@dataclass(frozen=True)
class RadarMetadata:
    """What a radar file holds, read from its attributes only (no data decoded).

    Attributes:
        path: The file.
        kind: ``"meteofrance"`` (Météo-France mosaic), ``"odim"`` (other ODIM HDF5
            composite, e.g. OPERA) or ``"meteonet"`` (MeteoNet ``.npz`` archive).
        end_time: End of the accumulation (rates: end of the observation window), naive
            UTC. For a multi-frame MeteoNet file, the end of its last frame.
        start_time: Start of the accumulation or observation window (MeteoNet: of the
            first frame).
        accumulation_minutes: Length of the accumulation for ``mm`` fields, ``None`` for
            rates.
        quantity: The file's quantity (ODIM ``ACRR``, ``RATE``, ``DBZH``…; MeteoNet ``ACRR``).
        units: Units of the values the reader returns (``mm`` or ``mm/h``).
        grid: Georeferencing of one frame.
        shape: (ny, nx) of one frame.
        frame_times: End time of every frame (one for HDF5 files, many for MeteoNet).
        nominal_time: The file's nominal time (ODIM ``what/date``+``time``), ``None`` when
            absent.
    """

    path: str
    kind: str
    end_time: dt.datetime
    start_time: dt.datetime
    accumulation_minutes: float | None
    quantity: str
    units: str
    grid: ProjectedGrid
    shape: tuple[int, int]
    frame_times: tuple[dt.datetime, ...]
    nominal_time: dt.datetime | None = None

    @property
    def grid_id(self) -> str:
        """Stable identifier of the grid (see :attr:`ProjectedGrid.grid_id`)."""
        return grid_info(self.grid).grid_id

    @property
    def n_frames(self) -> int:
        """Number of frames in the file."""
        return len(self.frame_times)

    def as_row(self) -> dict:
        """A flat mapping for inventory tables (grid as its id and JSON)."""
        return {
            "path": self.path,
            "kind": self.kind,
            "end_time": self.end_time,
            "start_time": self.start_time,
            "accumulation_minutes": self.accumulation_minutes,
            "quantity": self.quantity,
            "units": self.units,
            "grid_id": self.grid_id,
            "grid": json.dumps(self.grid.to_dict()),
            "ny": self.shape[0],
            "nx": self.shape[1],
            "n_frames": self.n_frames,
        }


def parse_stamp(stamp: str, *, seconds: bool) -> dt.datetime:
    """``stamp`` read as ``datetime.strptime`` reads it with ``%Y%m%d%H%M%S`` (``seconds``)
    or ``%Y%m%d%H%M``.

    Twelve (fourteen with seconds) ASCII digits that make a valid time are read field by
    field, ten times faster: ``strptime`` reads them the same way, two digits per field.
    Anything else goes through ``strptime``, whose leniency and errors are the reference.

    Raises:
        ValueError: ``stamp`` is not such a time.
    """
    if len(stamp) == (14 if seconds else 12) and stamp.isascii() and stamp.isdigit():
        fields = [int(stamp[i : i + 2]) for i in range(4, len(stamp), 2)]
        try:
            return dt.datetime(int(stamp[:4]), *fields)
        except ValueError:
            pass  # e.g. a 13th month, which strptime may still read another way
    return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S" if seconds else "%Y%m%d%H%M")


def check_name_time(path: str | PathLike, allowed: list[dt.datetime]) -> None:
    """Cross-check a 12- or 14-digit time stamp in the file name against the file's times.

    Names without a parsable stamp are accepted: real archive names vary.

    Raises:
        ReaderError: ``time_mismatch`` if the stamp is none of ``allowed``.
    """
    name = Path(path).name
    for stamp in _STAMP_RE.findall(name):
        try:
            when = parse_stamp(stamp, seconds=len(stamp) == 14)
        except ValueError:
            continue
        if when not in allowed:
            inside = ", ".join(sorted({t.isoformat() for t in allowed}))
            raise ReaderError(
                path,
                "time_mismatch",
                f"time in the file name ({when.isoformat()}) disagrees with the time inside "
                f"({inside})",
            )


@dataclass(frozen=True)
class GridInfo:
    """What the DataArray of a grid needs, computed once per grid (see :func:`grid_info`).

    Attributes:
        grid: The grid.
        grid_id: Its :attr:`ProjectedGrid.grid_id`.
        json: Its :meth:`ProjectedGrid.to_dict` as JSON (the ``grid`` attribute).
        x: Pixel-centre x coordinates (rounded: 1e-3 m, or 1e-6° for lat/lon grids).
        y: Pixel-centre y coordinates, descending.
        geographic: Whether the CRS is geographic (x = longitude, y = latitude).
    """

    grid: ProjectedGrid
    grid_id: str
    json: str
    x: np.ndarray
    y: np.ndarray
    geographic: bool


@lru_cache(maxsize=256)
def grid_info(grid: ProjectedGrid) -> GridInfo:
    """:class:`GridInfo` of ``grid``, cached: a stream of files on one grid (or one window of
    it) parses its CRS and builds its coordinates once, not once per file.
    """
    geographic = grid.pyproj_crs.is_geographic
    decimals = 6 if geographic else 3
    x, y = np.round(grid.x, decimals), np.round(grid.y, decimals)
    x.flags.writeable = False
    y.flags.writeable = False
    return GridInfo(
        grid=grid,
        grid_id=grid.grid_id,
        json=json.dumps(grid.to_dict()),
        x=x,
        y=y,
        geographic=geographic,
    )


@lru_cache(maxsize=256)
def _window_grid(grid: ProjectedGrid, r0: int, r1: int, c0: int, c1: int) -> ProjectedGrid:
    return grid.window(slice(r0, r1), slice(c0, c1))


def check_window(
    path: str | PathLike, window: tuple[slice, slice], shape: tuple[int, int]
) -> tuple[slice, slice]:
    """Validate a ``(rows, cols)`` window of a raster of ``shape``; return it with explicit
    bounds.

    A window is two slices with step 1 (or None) and bounds inside the raster (None means
    the raster's edge); negative or out-of-range bounds are refused, not clipped.

    Raises:
        ReaderError: ``bad_window`` if ``window`` is not such a pair of slices.
    """
    ok = isinstance(window, tuple | list) and len(window) == 2
    bounds = []
    for part, size in zip(window if ok else (), shape, strict=False):
        if not isinstance(part, slice) or part.step not in (None, 1):
            ok = False
            break
        start = 0 if part.start is None else part.start
        stop = size if part.stop is None else part.stop
        if not (
            isinstance(start, int | np.integer)
            and isinstance(stop, int | np.integer)
            and 0 <= start < stop <= size
        ):
            ok = False
            break
        bounds.append(slice(int(start), int(stop)))
    if not ok:
        raise ReaderError(
            path,
            "bad_window",
            f"window={window!r} is not (rows, cols) slices with step 1 inside the "
            f"{shape[0]} × {shape[1]} raster",
        )
    return bounds[0], bounds[1]


def window_metadata(meta: RadarMetadata, window: tuple[slice, slice]) -> RadarMetadata:
    """``meta`` of the file restricted to a (checked) window: its grid and shape."""
    rows, cols = window
    grid = _window_grid(meta.grid, rows.start, rows.stop, cols.start, cols.stop)
    return dataclasses.replace(meta, grid=grid, shape=grid.shape)


def window_attrs(meta: RadarMetadata, window: tuple[slice, slice]) -> dict:
    """The attrs that say a frame is a window of the file's grid: ``file_grid_id`` (the
    whole file's grid) and ``window`` (first row, end row, first column, end column).
    """
    rows, cols = window
    return {
        "file_grid_id": grid_info(meta.grid).grid_id,
        "window": [rows.start, rows.stop, cols.start, cols.stop],
    }


def check_grid(path: str | PathLike, grid: ProjectedGrid, expected: ProjectedGrid | None) -> None:
    """Raise ``grid_mismatch`` if ``expected`` is given and ``grid`` is not the same grid."""
    if expected is not None and grid_info(grid).grid_id != grid_info(expected).grid_id:
        raise ReaderError(
            path,
            "grid_mismatch",
            f"grid {json.dumps(grid.to_dict())} does not match the expected grid "
            f"{json.dumps(expected.to_dict())}",
        )


def mask_impossible(values: np.ndarray, limit: float) -> tuple[int, int]:
    """Set values above ``limit`` or below 0 to NaN in place.

    Returns:
        How many values were impossible, and how many of them were negative.
    """
    with np.errstate(invalid="ignore"):
        negative = values < 0
        bad = (values > limit) | negative
    values[bad] = np.nan
    return int(bad.sum()), int(negative.sum())


def impossible_limit(units: str, accumulation_minutes: float | None, max_rate: float) -> float:
    """The largest possible value: ``max_rate`` mm/h, or its amount over the accumulation."""
    if units == RATE_UNITS:
        return max_rate
    if accumulation_minutes is None:
        raise ValueError("an accumulation needs its accumulation_minutes")
    return max_rate * accumulation_minutes / 60.0


def _xy_coords(grid: ProjectedGrid) -> dict[str, tuple]:
    info = grid_info(grid)
    if info.geographic:
        x_attrs = {"units": "degrees_east", "standard_name": "longitude"}
        y_attrs = {"units": "degrees_north", "standard_name": "latitude"}
    else:
        x_attrs = {"units": "m", "standard_name": "projection_x_coordinate"}
        y_attrs = {"units": "m", "standard_name": "projection_y_coordinate"}
    return {
        "y": ("y", info.y.copy(), {**y_attrs, "long_name": "pixel centre"}),
        "x": ("x", info.x.copy(), {**x_attrs, "long_name": "pixel centre"}),
    }


def radar_attrs(
    meta: RadarMetadata,
    *,
    n_impossible: int,
    max_rate: float,
    n_negative: int = 0,
    extra_attrs: dict | None = None,
) -> dict:
    """The attrs of the normalised radar DataArray (see :func:`build_radar_array`)."""
    accumulated = meta.units == ACCUMULATION_UNITS
    info = grid_info(meta.grid)
    attrs = {
        "long_name": (
            f"precipitation amount over {meta.accumulation_minutes:g} min"
            if accumulated
            else "precipitation rate"
        ),
        "standard_name": (
            "lwe_thickness_of_precipitation_amount" if accumulated else "lwe_precipitation_rate"
        ),
        "units": meta.units,
        "start_time": meta.start_time.isoformat(),
        "end_time": meta.end_time.isoformat(),
        "crs": meta.grid.crs,
        "grid": info.json,
        "grid_id": info.grid_id,
        "source_file": meta.path,
        "n_impossible": int(n_impossible),
        "n_negative": int(n_negative),
        "max_rate": float(max_rate),
        "kind": meta.kind,
        "quantity": meta.quantity,
    }
    if accumulated:
        attrs["accumulation_minutes"] = float(meta.accumulation_minutes)
    if meta.nominal_time is not None:
        attrs["nominal_time"] = meta.nominal_time.isoformat()
    attrs.update(extra_attrs or {})
    return attrs


@dataclass(frozen=True)
class RadarFrames:
    """A decoded radar file before it becomes a DataArray: what the colocation engine needs.

    :func:`rainscore.io.open_radar` returns :meth:`to_dataarray` of this; the engine reads
    :func:`rainscore.io.radar.read_radar_frames` and skips building the DataArray (its coordinates
    and checks cost more than a third of a window read).

    Attributes:
        values: Float32 physical values, (y, x) or (time, y, x), rows north to south.
        grid: The grid of one frame (the window's, for a window read).
        times: End of each frame's accumulation or window (``datetime64[ns]``, one per frame).
        attrs: The DataArray's attrs (:func:`radar_attrs`).
    """

    values: np.ndarray
    grid: ProjectedGrid
    times: np.ndarray
    attrs: dict

    def to_dataarray(self) -> xr.DataArray:
        """The normalised DataArray (see :func:`build_radar_array`)."""
        coords = _xy_coords(self.grid)
        time_attrs = {"standard_name": "time", "long_name": "end of the accumulation (UTC)"}
        if self.values.ndim == 3:
            coords["time"] = ("time", self.times, time_attrs)
            dims = ("time", "y", "x")
        else:
            coords["time"] = ((), self.times[0], time_attrs)
            dims = ("y", "x")
        return xr.DataArray(
            self.values, dims=dims, coords=coords, name="precipitation", attrs=self.attrs
        )


def radar_frames(
    values: np.ndarray,
    meta: RadarMetadata,
    *,
    n_impossible: int,
    max_rate: float,
    n_negative: int = 0,
    extra_attrs: dict | None = None,
) -> RadarFrames:
    """The :class:`RadarFrames` of decoded values (arguments as :func:`build_radar_array`)."""
    return RadarFrames(
        values=values.astype(np.float32, copy=False),
        grid=meta.grid,
        times=np.array([np.datetime64(t, "ns") for t in meta.frame_times]),
        attrs=radar_attrs(
            meta,
            n_impossible=n_impossible,
            max_rate=max_rate,
            n_negative=n_negative,
            extra_attrs=extra_attrs,
        ),
    )


def build_radar_array(
    values: np.ndarray,
    meta: RadarMetadata,
    *,
    n_impossible: int,
    max_rate: float,
    n_negative: int = 0,
    extra_attrs: dict | None = None,
) -> xr.DataArray:
    """The normalised radar DataArray: dims (y, x), or (time, y, x) for several frames.

    Args:
        values: Physical values (``meta.units``), NaN for missing, shape (ny, nx) or
            (n_frames, ny, nx).
        meta: The file's metadata.
        n_impossible: How many values were masked as physically impossible (negative or
            above the limit).
        max_rate: The rate limit used to find them (recorded in attrs).
        n_negative: How many of them were negative (a sign of a wrong scaling: the
            colocation drops such files).
        extra_attrs: Reader-specific attrs to add.

    Returns:
        A float32 DataArray named ``precipitation`` with pixel-centre ``x``/``y``
        coordinates (rows north to south), a ``time`` coordinate (end of accumulation),
        and attrs ``units``, ``accumulation_minutes`` (accumulations only),
        ``start_time``, ``end_time``, ``crs``, ``grid`` (JSON), ``grid_id``,
        ``source_file``, ``n_impossible``, ``n_negative``, ``kind`` and ``quantity``.
    """
    return radar_frames(
        values,
        meta,
        n_impossible=n_impossible,
        max_rate=max_rate,
        n_negative=n_negative,
        extra_attrs=extra_attrs,
    ).to_dataarray()
