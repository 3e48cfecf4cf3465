"""OPERA-style ODIM HDF5 rain-rate composites (``RATE``), as ODYSSEY and NIMBUS write them.

Layout (ODIM_H5, object ``COMP``, quantity ``RATE``, like the real files in
``../shared/data/opera``)::

    /                       Conventions = "ODIM_H5/V2_0"
    /what                   object, version, date, time (the NOMINAL time), source
    /where                  projdef, xsize, ysize, xscale, yscale, UL/UR/LL/LR lon/lat
                            (outer corners of the raster written)
    /how                    software, comment (synthetic)
    /dataset1/what          product, quantity RATE, start/end date/time of the observation
                            window, gain 1, offset 0, nodata −9 999 000, undetect −8 888 000
    /dataset1/data1/data    float64 (ysize, xsize), mm/h, rows north → south

The observation window is the product's: ODYSSEY runs 10 minutes before to 5 minutes after
the nominal time (17:50–18:05 for the 18:00 composite); NIMBUS has start = end = nominal
(a snapshot). A rate of exactly 0 is written as ``undetect``, as the real composites do.
Only a window of the 1900 × 2200 OPERA 2 km grid is written; ``where`` describes exactly
that window.

:class:`OperaView` lets the synthetic world write its radar as such composites (demo
parameter ``radar_product: odyssey`` or ``nimbus``): every 15 minutes, the rate of the
5-minute radar frame ending at the nominal time, seen on the OPERA grid (each 2 km pixel is
the mean of the 1 km Météo-France-grid pixels under its four quarter centres, nodata where
any of them is).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from pyproj import Transformer

from rainscore.atomic import atomic_path
from rainscore.grids import Box, ProjectedGrid
from rainscore.synthetic.hdf5 import odim_where, set_attrs
from rainscore.synthetic.radar import FRAME_MINUTES, GAIN_MM
from rainscore.synthetic.radar import NODATA as COUNTS_NODATA
from rainscore.synthetic.radar_file import SOFTWARE, corner_lonlat

OPERA_PROJ = (
    "+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84"
)
OPERA_2KM = ProjectedGrid(
    crs=OPERA_PROJ, nx=1900, ny=2200, x_min=0.0, y_max=0.0, dx=2000.0, dy=2000.0, name="opera-2km"
)
"""The OPERA composites' 2 km LAEA grid (upper-left outer corner at (0, 0))."""
NODATA = -9_999_000.0
UNDETECT = -8_888_000.0


@dataclass(frozen=True)
class OperaProduct:
    """What tells one OPERA rate product from another.

    Attributes:
        name: ``odyssey`` or ``nimbus``.
        header: WMO header of the file name (``PAAH21`` ODYSSEY, ``PAAH22`` NIMBUS).
        window_before: Minutes of the observation window before the nominal time.
        window_after: Minutes of it after the nominal time.
        conventions: The ``Conventions`` attribute.
    """

    name: str
    header: str
    window_before: int
    window_after: int
    conventions: str


OPERA_PRODUCTS = {
    "odyssey": OperaProduct("odyssey", "PAAH21", 10, 5, "ODIM_H5/V2_0"),
    "nimbus": OperaProduct("nimbus", "PAAH22", 0, 0, "ODIM_H5/V2_4"),
}


def opera_product(name: str) -> OperaProduct:
    """The product called ``name`` (``odyssey`` or ``nimbus``).

    Raises:
        ValueError: For another name.
    """
    try:
        return OPERA_PRODUCTS[name]
    except KeyError:
        raise ValueError(
            f"OPERA product must be one of {sorted(OPERA_PRODUCTS)}, got {name!r}"
        ) from None


def opera_filename(nominal: np.datetime64, product: str = "odyssey") -> str:
    """File name of the composite of ``nominal`` time: ``T_PAAH21_C_EUOC_<YYYYmmddHHMMSS>.hdf``."""
    stamp = np.datetime_as_string(np.datetime64(nominal, "s"), unit="s")
    digits = stamp.replace("-", "").replace("T", "").replace(":", "")
    return f"T_{opera_product(product).header}_C_EUOC_{digits}.hdf"


def _bytes(value: str) -> np.bytes_:
    return np.bytes_(value.encode("ascii"))


def _date_time(t: np.datetime64) -> tuple[np.bytes_, np.bytes_]:
    s = np.datetime_as_string(np.datetime64(t, "s"), unit="s")
    return _bytes(s[:10].replace("-", "")), _bytes(s[11:].replace(":", ""))


def write_opera_rate_file(
    path: str | os.PathLike,
    rate: np.ndarray,
    grid: ProjectedGrid,
    nominal: np.datetime64,
    *,
    product: str = "odyssey",
    corners: dict[str, float] | None = None,
) -> None:
    """Write one OPERA rate composite atomically.

    Args:
        path: Final path of the file.
        rate: Instantaneous rain rate in mm/h (ny, nx), rows north → south; NaN where no
            radar sees (written as ``nodata``), 0 written as ``undetect``.
        grid: The window the raster covers (of :data:`OPERA_2KM`, or any projected grid).
        nominal: The composite's nominal time.
        product: ``odyssey`` (window nominal − 10 min … + 5 min) or ``nimbus`` (start = end).
        corners: Precomputed :func:`corner_lonlat` of ``grid`` (computed if ``None``).

    Raises:
        ValueError: If ``rate`` does not match the grid, is negative, or ``product`` is
            unknown.
    """
    spec = opera_product(product)
    rate = np.asarray(rate, dtype=np.float64)
    if rate.shape != grid.shape:
        raise ValueError(f"OPERA rate for {path}: expected {grid.shape}, got {rate.shape}")
    if (rate < 0).any():
        raise ValueError(f"OPERA rate for {path}: negative rates (min {np.nanmin(rate)})")
    raw = np.where(np.isnan(rate), NODATA, np.where(rate == 0, UNDETECT, rate))
    corners = corners if corners is not None else corner_lonlat(grid)
    nominal = np.datetime64(nominal, "s")
    date, time = _date_time(nominal)
    start_date, start_time = _date_time(nominal - np.timedelta64(spec.window_before, "m"))
    end_date, end_time = _date_time(nominal + np.timedelta64(spec.window_after, "m"))
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        set_attrs(f, {"Conventions": _bytes(spec.conventions)})
        set_attrs(
            f.create_group("what"),
            {
                "object": _bytes("COMP"),
                "version": _bytes("H5rad 2.0"),
                "date": date,
                "time": time,
                "source": _bytes("ORG:247,CMT:synthetic"),
            },
        )
        set_attrs(f.create_group("where"), odim_where(grid, corners))
        set_attrs(
            f.create_group("how"),
            {
                "software": _bytes(SOFTWARE),
                "comment": _bytes(
                    f"SYNTHETIC DATA: an OPERA {spec.name.upper()}-style rain-rate composite "
                    "written by the rainscore synthetic world; not an OPERA product"
                ),
            },
        )
        set_attrs(
            f.create_group("dataset1/what"),
            {
                "product": _bytes("COMP"),
                "quantity": _bytes("RATE"),
                "startdate": start_date,
                "starttime": start_time,
                "enddate": end_date,
                "endtime": end_time,
                "gain": np.float64(1.0),
                "offset": np.float64(0.0),
                "nodata": np.float64(NODATA),
                "undetect": np.float64(UNDETECT),
            },
        )
        data = f.create_dataset(
            "dataset1/data1/data",
            data=raw,
            chunks=(min(256, grid.ny), min(256, grid.nx)),
            compression="gzip",
            compression_opts=4,
        )
        set_attrs(data, {"CLASS": _bytes("IMAGE"), "IMAGE_VERSION": _bytes("1.2")})


OPERA_MINUTES = 15
"""Spacing of the OPERA rate composites."""


class OperaView:
    """The synthetic radar seen as OPERA rate composites on a window of :data:`OPERA_2KM`.

    Args:
        source: The grid of the world's radar frames (a window of the Météo-France grid).
        box: The world's box; the OPERA window covers it plus ``margin_m``.
        product: ``odyssey`` or ``nimbus``.
        margin_m: Margin around the box, metres.
    """

    def __init__(self, source: ProjectedGrid, box: Box, product: str, margin_m: float) -> None:
        self.product = opera_product(product).name
        self.grid = OPERA_2KM.window_covering(*box.boundary(), margin=margin_m, name="opera-2km")
        xx, yy = np.meshgrid(self.grid.x, self.grid.y)
        quarter = np.array([-0.25, 0.25])  # the centres of the pixel's four quarters
        dx, dy = (a.ravel() for a in np.meshgrid(quarter * self.grid.dx, quarter * self.grid.dy))
        to_source = Transformer.from_crs(self.grid.pyproj_crs, source.pyproj_crs, always_xy=True)
        x, y = to_source.transform(xx[..., None] + dx, yy[..., None] + dy)
        col = np.floor((x - source.x_min) / source.dx).astype(np.int64)
        row = np.floor((source.y_max - y) / source.dy).astype(np.int64)
        self._inside = (col >= 0) & (col < source.nx) & (row >= 0) & (row < source.ny)
        self._index = np.where(self._inside, row * source.nx + col, 0)
        self.corners = corner_lonlat(self.grid)

    @staticmethod
    def is_nominal(end: np.datetime64) -> bool:
        """Whether a 5-minute frame ending at ``end`` gives a composite (every 15 minutes)."""
        minutes = np.datetime64(end, "m").astype(np.int64)
        return bool(minutes % OPERA_MINUTES == 0)

    def relpath(self, nominal: np.datetime64) -> Path:
        """Path of the composite relative to the world's root: ``radar/YYYY/MM/DD/<name>``."""
        day = np.datetime_as_string(np.datetime64(nominal, "D")).split("-")
        return Path("radar", *day, opera_filename(nominal, self.product))

    def rate(self, counts: np.ndarray) -> np.ndarray:
        """The OPERA-grid rate (mm/h, NaN = nodata) of a frame of 5-minute counts (0.01 mm)."""
        values = counts.ravel()[self._index]
        valid = (self._inside & (values != COUNTS_NODATA)).all(axis=-1)
        rate = values.mean(axis=-1) * (GAIN_MM * 60.0 / FRAME_MINUTES)
        return np.where(valid, rate, np.nan)

    def write(self, path: str | os.PathLike, counts: np.ndarray, nominal: np.datetime64) -> int:
        """Write the composite of the frame ``counts`` ending at ``nominal``; return its size."""
        write_opera_rate_file(
            path, self.rate(counts), self.grid, nominal, product=self.product, corners=self.corners
        )
        return Path(path).stat().st_size
