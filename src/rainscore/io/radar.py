"""One entry point for radar files: ODIM HDF5 composites and MeteoNet archives.

The format is told from the file's content (HDF5 signature, zip archive), not its name.
"""

from __future__ import annotations

import json
import zipfile
from os import PathLike
from pathlib import Path

import numpy as np
import xarray as xr

from rainscore.grids import ProjectedGrid
from rainscore.io.errors import ReaderError
from rainscore.io.hdf5 import check_not_empty, is_hdf5
from rainscore.io.meteonet import meteonet_metadata, open_meteonet
from rainscore.io.odim import odim_metadata, open_odim, read_odim_frames
from rainscore.io.radar_field import RadarFrames, RadarMetadata


def _format(path: Path) -> str:
    check_not_empty(path)
    if is_hdf5(path):
        return "hdf5"
    if zipfile.is_zipfile(path) or path.suffix.lower() == ".npz":
        return "npz"
    if path.suffix.lower() in (".h5", ".hdf", ".hdf5"):
        return "hdf5"  # named HDF5 but without a signature: let the HDF5 reader say why
    raise ReaderError(
        path, "unknown_format", "neither an HDF5 file (ODIM) nor an .npz archive (MeteoNet)"
    )


def open_radar(
    path: str | PathLike,
    *,
    max_rate: float = 300.0,
    zr: tuple[float, float] = (200.0, 1.6),
    coords_path: str | PathLike | None = None,
    expected_grid: ProjectedGrid | None = None,
    quantity: str | None = None,
    window: tuple[slice, slice] | None = None,
) -> xr.DataArray:
    """Read a radar file into a normalised DataArray with its georeferencing and times.

    Formats: Météo-France HDF5 mosaics (1 km, 500 m; full grid or a window), generic ODIM
    HDF5 composites (OPERA: ``RATE`` in mm/h, ``ACRR`` in mm, ``DBZH``/``TH`` converted with
    the Z–R relation ``Z = a R^b``), and MeteoNet ``.npz`` archives (all frames, see
    :func:`rainscore.io.open_meteonet`).

    Args:
        path: The radar file.
        max_rate: Physically impossible rate in mm/h. Values above it (for accumulations:
            above its amount over the accumulation period), or negative, are set to NaN
            and counted in the ``n_impossible`` attribute; the negative ones also in
            ``n_negative`` (a sign of a wrong scaling, e.g. a negative ``gain``).
        zr: ``(a, b)`` of ``Z = a R^b`` for reflectivity fields (Marshall–Palmer default).
        coords_path: MeteoNet only: the ``radar_coords_<ZONE>.npz`` file (default: beside
            ``path``).
        expected_grid: If given, the file's grid must be this one (same CRS, corner, pixel
            size and shape).
        quantity: ODIM only: the quantity to read (default: the first of ACRR, RATE, DBZH,
            TH in the file).
        window: ``(rows, cols)`` slices (step 1, bounds inside the file's raster) to read
            only that part of the file: for HDF5, a hyperslab, so only the chunks it touches
            are read and decompressed. The result is that window of the full read, value
            for value, georeferenced as the window (``grid`` =
            ``ProjectedGrid.window(rows, cols)`` of the file's grid, and its coordinates);
            ``n_impossible`` counts the window's pixels; two more attrs, ``file_grid_id``
            (the file's whole grid) and ``window`` (first row, end row, first column, end
            column), say what it is a window of. ``expected_grid`` is checked against the
            file's whole grid.

    Returns:
        Float32 DataArray ``precipitation``, dims (y, x) (MeteoNet: (time, y, x)), rows
        north to south as in the file, pixel-centre ``x``/``y`` coordinates in the grid's
        CRS (metres, or degrees for a lat/lon grid), a ``time`` coordinate = end of the
        accumulation, nodata as NaN and undetect as 0, and attrs ``units`` (``mm`` with
        ``accumulation_minutes``, or ``mm/h``), ``start_time``, ``end_time`` (ISO),
        ``crs``, ``grid`` (:class:`ProjectedGrid` as JSON), ``grid_id``, ``source_file``,
        ``n_impossible``, ``n_negative``, ``kind`` and ``quantity``.

    Raises:
        ReaderError: Empty, unreadable or truncated file; missing group, array or
            attribute; unknown quantity; inconsistent georeferencing; grid different from
            ``expected_grid``; time in the name disagreeing with the time inside; a
            ``window`` that is not slices inside the raster (``bad_window``); data that
            cannot be read or decompressed (``corrupt_data``).
    """
    path = Path(path)
    if _format(path) == "npz":
        return open_meteonet(
            path,
            max_rate=max_rate,
            coords_path=coords_path,
            expected_grid=expected_grid,
            window=window,
        )
    return open_odim(
        path,
        max_rate=max_rate,
        zr=zr,
        quantity=quantity,
        expected_grid=expected_grid,
        window=window,
    )


def read_radar_frames(
    path: str | PathLike,
    *,
    max_rate: float = 300.0,
    zr: tuple[float, float] = (200.0, 1.6),
    coords_path: str | PathLike | None = None,
    expected_grid: ProjectedGrid | None = None,
    quantity: str | None = None,
    window: tuple[slice, slice] | None = None,
) -> RadarFrames:
    """:func:`open_radar` without the DataArray: the same values and attrs as numpy and a dict.

    For code that reads many files and needs only the numbers (the colocation engine):
    HDF5 files skip building the coordinates and the DataArray. Arguments, checks and
    errors are :func:`open_radar`'s, whose result is ``read_radar_frames(...).to_dataarray()``.

    Returns:
        The file's :class:`RadarFrames`.
    """
    path = Path(path)
    if _format(path) == "npz":
        da = open_meteonet(
            path,
            max_rate=max_rate,
            coords_path=coords_path,
            expected_grid=expected_grid,
            window=window,
        )
        return RadarFrames(
            values=da.values,
            grid=ProjectedGrid.from_dict(json.loads(da.attrs["grid"])),
            times=np.atleast_1d(da["time"].values),
            attrs=dict(da.attrs),
        )
    return read_odim_frames(
        path,
        max_rate=max_rate,
        zr=zr,
        quantity=quantity,
        expected_grid=expected_grid,
        window=window,
    )


def radar_metadata(
    path: str | PathLike,
    *,
    coords_path: str | PathLike | None = None,
    quantity: str | None = None,
) -> RadarMetadata:
    """What a radar file holds, from its attributes only (no data decoded): for inventories.

    Args:
        path: The radar file (any format :func:`open_radar` reads).
        coords_path: MeteoNet only, as in :func:`open_radar`.
        quantity: ODIM only, as in :func:`open_radar`.

    Returns:
        The file's :class:`RadarMetadata`.

    Raises:
        ReaderError: As :func:`open_radar`, for everything that can be told without the data.
    """
    path = Path(path)
    if _format(path) == "npz":
        return meteonet_metadata(path, coords_path=coords_path)
    return odim_metadata(path, quantity=quantity)
