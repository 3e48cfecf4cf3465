"""MeteoNet radar rainfall archives (``.npz``): many 5-minute frames on a 0.01° grid.

A MeteoNet file ``rainfall_<ZONE>_<YYYY>_<MM>.<part>.npz`` holds ``data`` (frames, rows,
columns) int16 in 1/100 mm over the 5 minutes ending at each of ``dates`` (−1 = missing),
and ``miss_dates`` (slots absent from the archive). Pixel-centre coordinates are in a
separate ``radar_coords_<ZONE>.npz`` (``lats``, ``lons``), found beside the data file by
default. Rows run north to south.

``dates`` is an object array of Python datetimes, stored with pickle. It is read with a
restricted unpickler that only rebuilds numpy arrays and datetimes, so a crafted file
cannot run code (``numpy.load(allow_pickle=True)`` would).
"""

from __future__ import annotations

import datetime as dt
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import xarray as xr

from rainscore.grids import ProjectedGrid
from rainscore.io.errors import ReaderError
from rainscore.io.hdf5 import check_not_empty
from rainscore.io.radar_field import (
    ACCUMULATION_UNITS,
    RadarMetadata,
    build_radar_array,
    check_grid,
    check_window,
    impossible_limit,
    mask_impossible,
    window_attrs,
    window_metadata,
)

MINUTES = 5.0
"""Accumulation period of every MeteoNet frame."""

_MISSING = -1
_SCALE = 0.01  # 1/100 mm → mm
_ZONE_RE = re.compile(r"^rainfall[_-](?P<zone>[A-Za-z]+)[_-]")
_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("datetime", "datetime"): dt.datetime,
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def _member(path: Path, zf: zipfile.ZipFile, name: str, *, header_only: bool = False):
    """One array of an ``.npz`` (object arrays through the restricted unpickler).

    With ``header_only``, only the array's shape is read.
    """
    try:
        f = zf.open(f"{name}.npy")
    except KeyError:
        raise ReaderError(
            path, "missing_variable", f"no array {name!r} (arrays: {zf.namelist()})"
        ) from None
    try:
        with f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, fortran, dtype = read_header(f)
            if header_only:
                return shape
            if dtype.hasobject:
                array = _SafeUnpickler(f).load()
            else:
                order = "F" if fortran else "C"
                array = np.frombuffer(f.read(), dtype=dtype).reshape(shape, order=order)
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, pickle.UnpicklingError) as err:
        raise ReaderError(path, "unreadable", f"cannot read array {name!r}: {err}") from None
    if not isinstance(array, np.ndarray) or array.shape != shape:
        raise ReaderError(path, "inconsistent", f"array {name!r} does not match its header")
    return array


def _open_zip(path: Path) -> zipfile.ZipFile:
    check_not_empty(path)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ReaderError(path, "unreadable", f"not a readable .npz archive: {err}") from None


def coords_file(path: str | Path) -> Path:
    """The ``radar_coords_<ZONE>.npz`` beside a MeteoNet rainfall file.

    Raises:
        ReaderError: ``missing_variable`` if the zone cannot be told or the file is absent.
    """
    path = Path(path)
    m = _ZONE_RE.match(path.name)
    if m is not None:
        candidate = path.with_name(f"radar_coords_{m['zone']}.npz")
    else:
        found = sorted(path.parent.glob("radar_coords_*.npz"))
        if len(found) != 1:
            raise ReaderError(
                path,
                "missing_variable",
                "cannot tell the MeteoNet zone from the file name and there is not exactly "
                f"one radar_coords_*.npz beside it (found {[p.name for p in found]}); "
                "pass coords_path",
            )
        candidate = found[0]
    if not candidate.is_file():
        raise ReaderError(
            path, "missing_variable", f"coordinate file {candidate} not found; pass coords_path"
        )
    return candidate


def _grid(coords_path: Path, shape: tuple[int, int], zone: str) -> ProjectedGrid:
    with _open_zip(coords_path) as zf:
        lats = np.asarray(_member(coords_path, zf, "lats"), dtype=np.float64)
        lons = np.asarray(_member(coords_path, zf, "lons"), dtype=np.float64)
    if lats.shape != shape or lons.shape != shape:
        raise ReaderError(
            coords_path,
            "grid_mismatch",
            f"lats {lats.shape} / lons {lons.shape} do not match the data frames {shape}",
        )
    col_lat, row_lon = lats[:, 0], lons[0, :]
    steps_y, steps_x = -np.diff(col_lat), np.diff(row_lon)
    dy, dx = float(np.round(np.median(steps_y), 6)), float(np.round(np.median(steps_x), 6))
    regular = (
        dy > 0
        and dx > 0
        and np.allclose(steps_y, dy, atol=1e-6)
        and np.allclose(steps_x, dx, atol=1e-6)
        and np.allclose(lats, col_lat[:, None], atol=1e-6)
        and np.allclose(lons, row_lon[None, :], atol=1e-6)
    )
    if not regular:
        raise ReaderError(
            coords_path,
            "inconsistent",
            "lats/lons are not a regular lat/lon grid with rows north to south",
        )
    return ProjectedGrid(
        crs="EPSG:4326",
        nx=shape[1],
        ny=shape[0],
        x_min=round(float(row_lon[0]) - dx / 2, 6),
        y_max=round(float(col_lat[0]) + dy / 2, 6),
        dx=dx,
        dy=dy,
        name=f"meteonet-{zone}-{dx:g}deg",
    )


def _frame_times(path: Path, dates: np.ndarray, n_frames: int) -> list[dt.datetime]:
    times = []
    for d in dates.reshape(-1):
        if not isinstance(d, dt.datetime):
            raise ReaderError(path, "inconsistent", f"dates holds {d!r}, not a datetime")
        times.append(d if d.tzinfo is None else _naive_utc(d))
    if len(times) != n_frames:
        raise ReaderError(path, "inconsistent", f"{len(times)} dates for {n_frames} frames in data")
    if len(set(times)) != len(times):
        dup = sorted(t for t in set(times) if times.count(t) > 1)[0]
        raise ReaderError(path, "inconsistent", f"frame time {dup.isoformat()} repeated")
    return times


def _naive_utc(d: dt.datetime) -> dt.datetime:
    return d.astimezone(dt.UTC).replace(tzinfo=None)


def _metadata(
    path: Path, zf: zipfile.ZipFile, coords_path: Path | None
) -> tuple[RadarMetadata, list[dt.datetime]]:
    shape = _member(path, zf, "data", header_only=True)
    if len(shape) != 3:
        raise ReaderError(path, "inconsistent", f"data has shape {shape}; expected (time, y, x)")
    times = _frame_times(path, _member(path, zf, "dates"), shape[0])
    coords_path = Path(coords_path) if coords_path is not None else coords_file(path)
    zone = coords_path.stem.removeprefix("radar_coords_")
    grid = _grid(coords_path, (shape[1], shape[2]), zone)
    ordered = sorted(times)
    meta = RadarMetadata(
        path=str(path),
        kind="meteonet",
        end_time=ordered[-1],
        start_time=ordered[0] - dt.timedelta(minutes=MINUTES),
        accumulation_minutes=MINUTES,
        quantity="ACRR",
        units=ACCUMULATION_UNITS,
        grid=grid,
        shape=(shape[1], shape[2]),
        frame_times=tuple(ordered),
    )
    return meta, times


def meteonet_metadata(path: str | Path, *, coords_path: str | Path | None = None) -> RadarMetadata:
    """Metadata of a MeteoNet ``.npz`` (frame times, grid) without decoding the frames.

    Args:
        path: The rainfall ``.npz``.
        coords_path: Its coordinate file (default: ``radar_coords_<ZONE>.npz`` beside it).

    Returns:
        The file's :class:`RadarMetadata` (``frame_times`` sorted).

    Raises:
        ReaderError: Unreadable archive, missing array or coordinate file, irregular grid.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        return _metadata(path, zf, Path(coords_path) if coords_path else None)[0]


def open_meteonet(
    path: str | Path,
    *,
    max_rate: float = 300.0,
    coords_path: str | Path | None = None,
    expected_grid: ProjectedGrid | None = None,
    window: tuple[slice, slice] | None = None,
) -> xr.DataArray:
    """Read every frame of a MeteoNet rainfall archive.

    Args:
        path: The rainfall ``.npz``.
        max_rate: Physically impossible rate (mm/h); 5-minute amounts above
            ``max_rate × 5 / 60`` mm (or negative, other than the −1 missing code) are
            masked and counted.
        coords_path: Its coordinate file (default: ``radar_coords_<ZONE>.npz`` beside it).
        expected_grid: If given, the file's grid must be this one.
        window: ``(rows, cols)`` of every frame to decode (see
            :func:`rainscore.io.open_radar`; the archive is read whole).

    Returns:
        Float32 DataArray ``precipitation`` in mm, dims (time, y, x), frames sorted on
        ``time`` (end of each 5-minute accumulation); ``y`` = latitude (descending),
        ``x`` = longitude; attrs as :func:`rainscore.io.open_radar`.

    Raises:
        ReaderError: As :func:`meteonet_metadata`, ``grid_mismatch`` and ``bad_window``.
    """
    path = Path(path)
    with _open_zip(path) as zf:
        meta, times = _metadata(path, zf, Path(coords_path) if coords_path else None)
        check_grid(path, meta.grid, expected_grid)
        if window is not None:
            window = check_window(path, window, meta.shape)
        raw = _member(path, zf, "data")
    order = np.argsort(np.array(times, dtype="datetime64[s]"), kind="stable")
    raw = raw[order] if window is None else raw[order][:, window[0], window[1]]
    missing = raw == _MISSING
    values = raw.astype(np.float32) * np.float32(_SCALE)
    values[missing] = np.nan
    limit = impossible_limit(meta.units, meta.accumulation_minutes, max_rate)
    n_impossible, n_negative = mask_impossible(values, limit)
    extra = None
    if window is not None:
        extra = window_attrs(meta, window)
        meta = window_metadata(meta, window)
    return build_radar_array(
        values,
        meta,
        n_impossible=n_impossible,
        n_negative=n_negative,
        max_rate=max_rate,
        extra_attrs=extra,
    )
