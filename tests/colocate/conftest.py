"""Météo-France-layout radar files over a small box, and their inventory.

Files are written with h5py in the layout of the Météo-France mosaics (``dataset1/data1/data``
uint16 in 1/100 mm, nodata 65535, ``what``/``where`` attributes, gzip chunks) on a window of
the 1 km grid, and read by :func:`rainscore.io.open_radar`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from rainscore.grids import METEOFRANCE_1KM, Box, ProjectedGrid

BOX = Box(lat_min=46.0, lat_max=46.5, lon_min=2.0, lon_max=2.6)
"""5 × 6 IMERG cells."""
GRID = METEOFRANCE_1KM.window_covering(*BOX.boundary(), margin=3000.0, name="meteofrance-1km")
"""The window of the Météo-France 1 km grid around :data:`BOX`."""
NODATA = 65535


def write_meteofrance(path: Path, mm: np.ndarray, end: dt.datetime, grid: ProjectedGrid = GRID):
    """A 5-minute Météo-France mosaic: ``mm`` (ny, nx) in mm, NaN = outside coverage."""
    raw = np.where(np.isnan(mm), NODATA, np.round(np.nan_to_num(mm) * 100.0)).astype(np.uint16)
    start = end - dt.timedelta(minutes=5)
    to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    with h5py.File(path, "w") as h5:
        h5.attrs["Conventions"] = np.bytes_("ODIM_H5/V2_1")
        what = h5.create_group("what")
        what.attrs["object"] = np.bytes_("COMP")
        what.attrs["date"] = np.bytes_(f"{end:%Y%m%d}")
        what.attrs["time"] = np.bytes_(f"{end:%H%M%S}")
        what.attrs["source"] = np.bytes_("ORG:85")
        where = h5.create_group("where")
        where.attrs["projdef"] = np.bytes_(grid.crs)
        where.attrs["xsize"] = np.int64(grid.nx)
        where.attrs["ysize"] = np.int64(grid.ny)
        where.attrs["xscale"] = np.float64(grid.dx)
        where.attrs["yscale"] = np.float64(grid.dy)
        for label, x, y in (
            ("UL", grid.x_min, grid.y_max),
            ("UR", grid.x_max, grid.y_max),
            ("LL", grid.x_min, grid.y_min),
            ("LR", grid.x_max, grid.y_min),
        ):
            lon, lat = to_ll.transform(x, y)
            where.attrs[f"{label}_lon"], where.attrs[f"{label}_lat"] = lon, lat
        dwhat = h5.create_group("dataset1/what")
        dwhat.attrs["product"] = np.bytes_("COMP")
        dwhat.attrs["quantity"] = np.bytes_("ACRR")
        dwhat.attrs["startdate"] = np.bytes_(f"{start:%Y%m%d}")
        dwhat.attrs["starttime"] = np.bytes_(f"{start:%H%M%S}")
        dwhat.attrs["enddate"] = np.bytes_(f"{end:%Y%m%d}")
        dwhat.attrs["endtime"] = np.bytes_(f"{end:%H%M%S}")
        dwhat.attrs["gain"] = 0.01
        dwhat.attrs["offset"] = 0.0
        dwhat.attrs["nodata"] = float(NODATA)
        h5.create_dataset("dataset1/data1/data", data=raw, chunks=(32, 32), compression="gzip")
    return path


def inventory(paths: list[Path], ends: list[dt.datetime], grid: ProjectedGrid = GRID):
    """A radar inventory as the ingestion pipeline writes it (the columns the engine uses)."""
    return pd.DataFrame(
        {
            "path": [str(p) for p in paths],
            "start_time": pd.to_datetime(ends) - pd.Timedelta(minutes=5),
            "end_time": pd.to_datetime(ends),
            "accumulation_minutes": 5.0,
            "grid_id": grid.grid_id,
            "grid": json.dumps(grid.to_dict()),
            "status": "ok",
        }
    )


class RadarSeries:
    """Writes a series of frames into a folder and lists them in an inventory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: list[Path] = []
        self.ends: list[dt.datetime] = []

    def add(self, end: dt.datetime, mm: np.ndarray | float, grid: ProjectedGrid = GRID) -> Path:
        """Write the frame ending at ``end`` (``mm`` a field or a constant) on ``grid``; the
        inventory says :data:`GRID` whatever ``grid`` is."""
        field = np.broadcast_to(np.asarray(mm, dtype=float), grid.shape)
        path = self.folder / f"RADAR_{end:%Y%m%d%H%M}.h5"
        write_meteofrance(path, np.array(field), end, grid=grid)
        self.paths.append(path)
        self.ends.append(end)
        return path

    def inventory(self) -> pd.DataFrame:
        """The inventory of the frames written so far."""
        return inventory(self.paths, self.ends)


@pytest.fixture
def series(tmp_path) -> RadarSeries:
    """An empty :class:`RadarSeries` in a temporary folder."""
    folder = tmp_path / "radar"
    folder.mkdir()
    return RadarSeries(folder)


@pytest.fixture
def box() -> Box:
    """:data:`BOX`."""
    return BOX


@pytest.fixture
def grid() -> ProjectedGrid:
    """:data:`GRID`."""
    return GRID
