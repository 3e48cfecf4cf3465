"""The IMERG 0.1° global lattice and rectangular boxes on it.

IMERG files hold global arrays of 3600 (lon) × 1800 (lat) cells whose centres are
``-179.95 + 0.1 i`` and ``-89.95 + 0.1 j``. A :class:`Box` is a rectangle whose edges lie
on cell edges of that lattice; it knows its index window in the global arrays (so that
readers can read a hyperslab) and its cell centres (float64, rounded to 1e-6, ascending).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import xarray as xr

IMERG_RES = 0.1
IMERG_CRS = "EPSG:4326"
"""The CRS of the IMERG grid (and of every dataset on it): lon/lat on WGS 84."""
IMERG_NLON = 3600
IMERG_NLAT = 1800
COORD_DECIMALS = 6
SNAP_DECIMALS = 4
_EPS = 1e-6


def imerg_global_lon() -> np.ndarray:
    """Longitudes of the centres of the 3600 IMERG columns, float64, ascending."""
    return np.round(-179.95 + IMERG_RES * np.arange(IMERG_NLON), COORD_DECIMALS)


def imerg_global_lat() -> np.ndarray:
    """Latitudes of the centres of the 1800 IMERG rows, float64, ascending."""
    return np.round(-89.95 + IMERG_RES * np.arange(IMERG_NLAT), COORD_DECIMALS)


def round_coords(obj: xr.Dataset | xr.DataArray, dims: tuple[str, ...] = ("lat", "lon")):
    """Return ``obj`` with its ``lat``/``lon`` coordinates snapped to float64 values.

    IMERG stores coordinates as float32: 46.05 comes back as 46.04999923706055, and near
    ±180° a float32 is off by up to 8e-6°. Aligning such coordinates with float64 ones
    silently drops cells. Every coordinate on the 0.1° lattice has two decimals, so rounding
    to ``SNAP_DECIMALS`` (4) recovers it exactly from float32 anywhere on the globe; the
    result is float64 and equal to its own rounding to 1e-6 (the stored convention).

    Args:
        obj: Dataset or DataArray with the coordinates to round.
        dims: Names of the coordinates to round (missing ones are ignored).

    Returns:
        A new object with snapped float64 coordinates.
    """
    new = {
        d: np.round(np.round(obj[d].values.astype(np.float64), SNAP_DECIMALS), COORD_DECIMALS)
        for d in dims
        if d in obj.coords
    }
    return obj.assign_coords(new)


@dataclass(frozen=True)
class Box:
    """A latitude/longitude rectangle on the IMERG lattice.

    Edges that are not on the 0.1° lattice are snapped outwards, so the box always covers the
    requested area.

    Attributes:
        lat_min: Southern edge, degrees north.
        lat_max: Northern edge, degrees north.
        lon_min: Western edge, degrees east (−180…180).
        lon_max: Eastern edge, degrees east (−180…180).
    """

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float

    def __post_init__(self) -> None:
        if not -90.0 <= self.lat_min < self.lat_max <= 90.0:
            raise ValueError(
                f"Box latitudes must satisfy -90 <= lat_min < lat_max <= 90, "
                f"got lat_min={self.lat_min}, lat_max={self.lat_max}"
            )
        if not -180.0 <= self.lon_min < self.lon_max <= 180.0:
            raise ValueError(
                f"Box longitudes must satisfy -180 <= lon_min < lon_max <= 180 "
                f"(boxes across the antimeridian are not supported), "
                f"got lon_min={self.lon_min}, lon_max={self.lon_max}"
            )

    @classmethod
    def from_dict(cls, d: dict) -> Box:
        """Build a box from a mapping with keys lat_min, lat_max, lon_min, lon_max."""
        try:
            return cls(**{k: float(d[k]) for k in ("lat_min", "lat_max", "lon_min", "lon_max")})
        except KeyError as err:
            raise ValueError(f"Box definition {d!r} lacks the key {err.args[0]!r}") from None

    @property
    def lat_index(self) -> slice:
        """Row window of the box in the global (lat ascending) IMERG arrays."""
        j0 = math.floor((self.lat_min + 90.0) / IMERG_RES + _EPS)
        j1 = math.ceil((self.lat_max + 90.0) / IMERG_RES - _EPS)
        return slice(j0, j1)

    @property
    def lon_index(self) -> slice:
        """Column window of the box in the global IMERG arrays."""
        i0 = math.floor((self.lon_min + 180.0) / IMERG_RES + _EPS)
        i1 = math.ceil((self.lon_max + 180.0) / IMERG_RES - _EPS)
        return slice(i0, i1)

    @property
    def shape(self) -> tuple[int, int]:
        """(n_lat, n_lon) of the box."""
        return (
            self.lat_index.stop - self.lat_index.start,
            self.lon_index.stop - self.lon_index.start,
        )

    @property
    def lat(self) -> np.ndarray:
        """Cell-centre latitudes, float64, ascending, rounded to 1e-6."""
        return imerg_global_lat()[self.lat_index]

    @property
    def lon(self) -> np.ndarray:
        """Cell-centre longitudes, float64, ascending, rounded to 1e-6."""
        return imerg_global_lon()[self.lon_index]

    @property
    def lat_edges(self) -> np.ndarray:
        """Cell-edge latitudes (n_lat + 1), float64."""
        return np.round(np.append(self.lat - IMERG_RES / 2, self.lat[-1] + IMERG_RES / 2), 6)

    @property
    def lon_edges(self) -> np.ndarray:
        """Cell-edge longitudes (n_lon + 1), float64."""
        return np.round(np.append(self.lon - IMERG_RES / 2, self.lon[-1] + IMERG_RES / 2), 6)

    def boundary(self, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes and latitudes of ``4 n`` points along the box's outer edge.

        Parallels and meridians are curves in most projections, so the extent of a box in a
        projection must be computed from its densified boundary, not from its corners.
        """
        lo0, lo1 = self.lon_edges[0], self.lon_edges[-1]
        la0, la1 = self.lat_edges[0], self.lat_edges[-1]
        t = np.linspace(0.0, 1.0, n, endpoint=False)
        lon = np.concatenate(
            [lo0 + (lo1 - lo0) * t, np.full(n, lo1), lo1 - (lo1 - lo0) * t, np.full(n, lo0)]
        )
        lat = np.concatenate(
            [np.full(n, la0), la0 + (la1 - la0) * t, np.full(n, la1), la1 - (la1 - la0) * t]
        )
        return lon, lat

    def coords(self) -> dict[str, xr.DataArray]:
        """CF-style ``lat``/``lon`` coordinates of the box, ready for ``assign_coords``."""
        return {
            "lat": xr.DataArray(
                self.lat,
                dims="lat",
                attrs={"units": "degrees_north", "standard_name": "latitude"},
            ),
            "lon": xr.DataArray(
                self.lon,
                dims="lon",
                attrs={"units": "degrees_east", "standard_name": "longitude"},
            ),
        }

    def to_dict(self) -> dict[str, float]:
        """The box as a plain mapping (for attrs and parameters)."""
        return {
            "lat_min": self.lat_min,
            "lat_max": self.lat_max,
            "lon_min": self.lon_min,
            "lon_max": self.lon_max,
        }


DEFAULT_BOX = Box(lat_min=42.8, lat_max=50.0, lon_min=-2.8, lon_max=7.6)
"""The default France box: 72 × 104 IMERG cells, about 800 × 800 km."""
