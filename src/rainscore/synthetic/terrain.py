"""Synthetic terrain and land/sea mask of France and its neighbours.

The terrain is the pointwise maximum of elongated Gaussian ridges placed at
the real positions of the Alps, Pyrenees, Massif Central (with the Cévennes), Jura, Vosges
and Black Forest, with heights close to the real mean crest heights. It drives orographic
rain enhancement and radar beam blockage; it is not a digital elevation model.

The land/sea mask comes from two coarse coastline polygons (Atlantic–Channel and
Mediterranean, about 20 km accuracy): enough to place radar coverage holes at sea.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer

from rainscore.grids import ProjectedGrid


@dataclass(frozen=True)
class Ridge:
    """An elongated Gaussian mountain ridge.

    Attributes:
        name: Name of the range.
        lon: Longitude of the ridge centre, degrees east.
        lat: Latitude of the ridge centre, degrees north.
        height_m: Crest height above the plains, metres.
        half_length_km: e-folding half length along the crest.
        half_width_km: e-folding half width across the crest.
        azimuth_deg: Direction of the crest line, degrees clockwise from north.
    """

    name: str
    lon: float
    lat: float
    height_m: float
    half_length_km: float
    half_width_km: float
    azimuth_deg: float


RIDGES: tuple[Ridge, ...] = (
    Ridge("Alps (Maritime)", 6.9, 44.2, 1800.0, 80.0, 40.0, 110.0),
    Ridge("Alps (Dauphiné-Savoie)", 6.45, 45.15, 2500.0, 110.0, 45.0, 20.0),
    Ridge("Alps (Mont Blanc-Valais)", 7.45, 45.95, 2800.0, 90.0, 35.0, 70.0),
    Ridge("Alps (Bernese)", 8.1, 46.55, 2500.0, 110.0, 35.0, 75.0),
    Ridge("Prealps (Vercors-Chartreuse)", 5.7, 45.3, 1500.0, 70.0, 20.0, 20.0),
    Ridge("Pyrenees", 0.8, 42.75, 2200.0, 220.0, 40.0, 100.0),
    Ridge("Massif Central", 3.0, 45.3, 1000.0, 120.0, 80.0, 160.0),
    Ridge("Cévennes", 3.7, 44.3, 1200.0, 60.0, 25.0, 45.0),
    Ridge("Jura", 6.2, 46.7, 1100.0, 110.0, 20.0, 40.0),
    Ridge("Vosges", 7.0, 48.1, 1000.0, 70.0, 25.0, 15.0),
    Ridge("Black Forest", 8.1, 48.0, 1000.0, 70.0, 25.0, 10.0),
)
"""The ridges of the synthetic terrain (approximate real positions and crest heights)."""

# Coastlines as closed polygons of SEA (lon, lat), about 20 km accuracy.
_ATLANTIC_SEA = np.array(
    [
        (-12.0, 40.0),
        (-9.0, 43.0),
        (-8.0, 43.7),
        (-4.5, 43.45),
        (-1.8, 43.4),
        (-1.45, 43.6),
        (-1.25, 44.65),
        (-1.25, 45.7),
        (-1.6, 46.2),
        (-2.2, 46.85),
        (-2.55, 47.3),
        (-3.3, 47.65),
        (-4.4, 47.8),
        (-4.75, 48.35),
        (-4.6, 48.65),
        (-3.6, 48.8),
        (-2.8, 48.55),
        (-2.0, 48.65),
        (-1.55, 48.7),
        (-1.65, 49.65),
        (-1.25, 49.7),
        (-1.1, 49.35),
        (-0.2, 49.3),
        (0.2, 49.45),
        (0.6, 49.87),
        (1.5, 50.1),
        (1.6, 50.95),
        (2.55, 51.1),
        (3.6, 51.45),
        (4.5, 52.5),
        (4.8, 53.3),
        (8.0, 53.6),
        (8.0, 58.0),
        (-12.0, 58.0),
    ]
)
_MEDITERRANEAN_SEA = np.array(
    [
        (0.0, 38.0),
        (0.8, 40.8),
        (2.2, 41.35),
        (3.2, 41.9),
        (3.3, 42.3),
        (3.05, 42.55),
        (3.05, 43.0),
        (3.5, 43.27),
        (4.0, 43.53),
        (4.6, 43.35),
        (5.35, 43.3),
        (6.0, 43.05),
        (6.65, 43.15),
        (7.25, 43.66),
        (7.7, 43.78),
        (8.2, 43.92),
        (8.85, 44.4),
        (9.7, 44.05),
        (10.3, 43.5),
        (10.5, 42.9),
        (12.0, 41.0),
        (12.0, 38.0),
    ]
)


def ridge_height(lon: np.ndarray, lat: np.ndarray, grid: ProjectedGrid) -> np.ndarray:
    """Height (m) of the synthetic terrain at points given in the grid's projection.

    Args:
        lon: Longitudes of the points (any shape).
        lat: Latitudes of the points (same shape).
        grid: Grid whose projection measures distances (conformal, so local distances
            are true to the scale factor, below 2 % over France for the radar grid).

    Returns:
        Heights in metres, float32, shape of ``lon``.
    """
    to_xy = Transformer.from_crs("EPSG:4326", grid.pyproj_crs, always_xy=True)
    x, y = to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
    height = np.zeros(np.shape(x), dtype=np.float32)
    for ridge in RIDGES:
        cx, cy = to_xy.transform(ridge.lon, ridge.lat)
        # Crest direction in map coordinates: north on the grid turns with longitude.
        north_x, north_y = to_xy.transform(ridge.lon, ridge.lat + 0.1)
        grid_north = np.arctan2(north_x - cx, north_y - cy)
        az = np.radians(ridge.azimuth_deg) + grid_north
        along = ((x - cx) * np.sin(az) + (y - cy) * np.cos(az)) / (ridge.half_length_km * 1e3)
        across = ((x - cx) * np.cos(az) - (y - cy) * np.sin(az)) / (ridge.half_width_km * 1e3)
        h = ridge.height_m * np.exp(-(along**2) - across**2)
        np.maximum(height, h.astype(np.float32), out=height)
    return height


def terrain_height(grid: ProjectedGrid) -> np.ndarray:
    """Synthetic terrain height (m) at every pixel centre of ``grid``, float32 (ny, nx)."""
    lon, lat = grid.lonlat()
    return ridge_height(lon, lat, grid)


def _inside(poly: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Even–odd rule point-in-polygon test, vectorised over points."""
    inside = np.zeros(lon.shape, dtype=bool)
    x0, y0 = poly[-1]
    for x1, y1 in poly:
        crosses = (y1 > lat) != (y0 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (lat - y1) * (x0 - x1) / (y0 - y1)
        inside ^= crosses & (lon < x_at)
        x0, y0 = x1, y1
    return inside


def land_mask(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """True over land (coarse coastlines of France and its neighbours).

    Args:
        lon: Longitudes (any shape).
        lat: Latitudes (same shape).

    Returns:
        Boolean array, shape of ``lon``.
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    sea = _inside(_ATLANTIC_SEA, lon, lat) | _inside(_MEDITERRANEAN_SEA, lon, lat)
    return ~sea
