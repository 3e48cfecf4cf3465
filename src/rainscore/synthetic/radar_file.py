"""Météo-France 5-minute radar mosaics in ODIM HDF5 (``MFRADAR_LAMEEAU_5MIN_1KM_*.h5``).

Layout (ODIM_H5 V2.1, product ``COMP``, quantity ``ACRR``)::

    /                       Conventions = "ODIM_H5/V2_1"
    /what                   object, version, date, time (end of accumulation), source
    /where                  projdef, xsize, ysize, xscale, yscale, UL/UR/LL/LR lon/lat
                            (outer corners of the raster written)
    /how                    software, comment (synthetic)
    /dataset1/what          product, quantity, start/end date/time, gain, offset,
                            nodata, undetect
    /dataset1/data1/data    uint16 (ysize, xsize), rows north → south, 0.01 mm,
                            65535 = no coverage; chunked, deflate

Only a window of the 1536 × 1536 mosaic is written; ``where`` describes exactly that window.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
from pyproj import Transformer

from rainscore.atomic import atomic_path
from rainscore.grids import ProjectedGrid
from rainscore.synthetic.hdf5 import odim_where, set_attrs, write_chunked
from rainscore.synthetic.radar import GAIN_MM, NODATA

SOFTWARE = "rainscore.synthetic"


def radar_filename(end: np.datetime64) -> str:
    """File name of the mosaic whose accumulation ends at ``end``."""
    stamp = np.datetime_as_string(np.datetime64(end, "m"), unit="m")
    return f"MFRADAR_LAMEEAU_5MIN_1KM_{stamp.replace('-', '').replace('T', '').replace(':', '')}.h5"


def radar_relpath(end: np.datetime64) -> Path:
    """Path of the mosaic relative to the world's root: ``radar/YYYY/MM/DD/<name>``."""
    day = np.datetime_as_string(np.datetime64(end, "D")).split("-")
    return Path("radar", *day, radar_filename(end))


def _bytes(value: str) -> np.bytes_:
    return np.bytes_(value.encode("ascii"))


def _date_time(t: np.datetime64) -> tuple[np.bytes_, np.bytes_]:
    s = np.datetime_as_string(np.datetime64(t, "s"), unit="s")
    return _bytes(s[:10].replace("-", "")), _bytes(s[11:].replace(":", ""))


def corner_lonlat(grid: ProjectedGrid) -> dict[str, float]:
    """Longitude/latitude of the four OUTER corners of ``grid`` (ODIM ``where`` names)."""
    to_ll = Transformer.from_crs(grid.pyproj_crs, "EPSG:4326", always_xy=True)
    corners = {
        "UL": (grid.x_min, grid.y_max),
        "UR": (grid.x_max, grid.y_max),
        "LL": (grid.x_min, grid.y_min),
        "LR": (grid.x_max, grid.y_min),
    }
    out: dict[str, float] = {}
    for name, (x, y) in corners.items():
        lon, lat = to_ll.transform(x, y)
        out[f"{name}_lon"] = float(lon)
        out[f"{name}_lat"] = float(lat)
    return out


def write_radar_file(
    path: str | os.PathLike,
    counts: np.ndarray,
    grid: ProjectedGrid,
    end: np.datetime64,
    *,
    gzip_level: int = 4,
    chunk: int = 256,
    corners: dict[str, float] | None = None,
) -> None:
    """Write one mosaic atomically.

    Args:
        path: Final path of the file.
        counts: ``uint16`` accumulation in 0.01 mm (ny, nx), rows north → south.
        grid: The window the raster covers.
        end: End of the 5-minute accumulation.
        gzip_level: Deflate level.
        chunk: Chunk edge in pixels.
        corners: Precomputed :func:`corner_lonlat` of ``grid`` (computed if ``None``).

    Raises:
        ValueError: If ``counts`` does not match the grid or is not ``uint16``.
    """
    if counts.shape != grid.shape or counts.dtype != np.uint16:
        raise ValueError(
            f"Radar frame for {path}: expected uint16 {grid.shape}, got {counts.dtype} "
            f"{counts.shape}"
        )
    corners = corners if corners is not None else corner_lonlat(grid)
    start = np.datetime64(end, "s") - np.timedelta64(5, "m")
    start_date, start_time = _date_time(start)
    end_date, end_time = _date_time(end)
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        set_attrs(f, {"Conventions": _bytes("ODIM_H5/V2_1")})
        set_attrs(
            f.create_group("what"),
            {
                "object": _bytes("COMP"),
                "version": _bytes("H5rad 2.1"),
                "date": end_date,
                "time": end_time,
                "source": _bytes("ORG:85"),
            },
        )
        set_attrs(f.create_group("where"), odim_where(grid, corners))
        set_attrs(
            f.create_group("how"),
            {
                "software": _bytes(SOFTWARE),
                "comment": _bytes(
                    "SYNTHETIC DATA: simulated radar view of a synthetic truth (rainscore "
                    "demo world); not a Meteo-France product"
                ),
            },
        )
        set_attrs(
            f.create_group("dataset1/what"),
            {
                "product": _bytes("COMP"),
                "quantity": _bytes("ACRR"),
                "startdate": start_date,
                "starttime": start_time,
                "enddate": end_date,
                "endtime": end_time,
                "gain": np.float64(GAIN_MM),
                "offset": np.float64(0.0),
                "nodata": np.float64(NODATA),
                "undetect": np.float64(0.0),
            },
        )
        data = f.create_dataset(
            "dataset1/data1/data",
            shape=counts.shape,
            dtype=np.uint16,
            chunks=(min(chunk, grid.ny), min(chunk, grid.nx)),
            compression="gzip",
            compression_opts=gzip_level,
            shuffle=True,
            fillvalue=np.uint16(NODATA),
        )
        write_chunked(data, counts, gzip_level, shuffle=True)
        set_attrs(data, {"CLASS": _bytes("IMAGE"), "IMAGE_VERSION": _bytes("1.2")})
