"""Regular grids in a map projection (radar composites).

A :class:`ProjectedGrid` is the georeferencing of a 2-D raster: a PROJ string, the
top-left corner (outer edge), the pixel size and the shape. Rows run north to south (the
order of Météo-France and ODIM files), so row 0 is the top row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
from pyproj import CRS, Transformer

METEOFRANCE_PROJ = "+proj=stere +lat_0=90 +lon_0=0 +lat_ts=45 +ellps=WGS84 +units=m +no_defs"


@dataclass(frozen=True)
class ProjectedGrid:
    """A regular raster in a projected coordinate system, rows north to south.

    Attributes:
        crs: PROJ string (or WKT) of the projection.
        nx: Number of columns.
        ny: Number of rows.
        x_min: Western outer edge of column 0, in projection units (m).
        y_max: Northern outer edge of row 0, in projection units (m).
        dx: Pixel width (m, > 0).
        dy: Pixel height (m, > 0).
        name: Human-readable name (not part of the grid identity).
    """

    crs: str
    nx: int
    ny: int
    x_min: float
    y_max: float
    dx: float
    dy: float
    name: str = ""

    def __post_init__(self) -> None:
        if self.nx <= 0 or self.ny <= 0:
            raise ValueError(f"Grid {self.name or self.crs!r}: shape must be positive")
        if self.dx <= 0 or self.dy <= 0:
            raise ValueError(f"Grid {self.name or self.crs!r}: pixel size must be positive")

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx)."""
        return (self.ny, self.nx)

    @property
    def x_max(self) -> float:
        """Eastern outer edge."""
        return self.x_min + self.nx * self.dx

    @property
    def y_min(self) -> float:
        """Southern outer edge."""
        return self.y_max - self.ny * self.dy

    @property
    def x(self) -> np.ndarray:
        """Column-centre x coordinates, ascending."""
        return self.x_min + self.dx * (np.arange(self.nx) + 0.5)

    @property
    def y(self) -> np.ndarray:
        """Row-centre y coordinates, descending (row 0 is the northernmost)."""
        return self.y_max - self.dy * (np.arange(self.ny) + 0.5)

    @cached_property
    def pyproj_crs(self) -> CRS:
        """The projection as a :class:`pyproj.CRS`."""
        return CRS.from_user_input(self.crs)

    @property
    def grid_id(self) -> str:
        """Stable identifier of the grid's definition (hash of CRS, corner, step, shape)."""
        key = json.dumps(
            {
                "crs": self.pyproj_crs.to_wkt(),
                "nx": self.nx,
                "ny": self.ny,
                # + 0.0 turns -0.0 into 0.0, so both spellings of a zero give one id
                "x_min": round(self.x_min, 3) + 0.0,
                "y_max": round(self.y_max, 3) + 0.0,
                "dx": round(self.dx, 6) + 0.0,
                "dy": round(self.dy, 6) + 0.0,
            },
            sort_keys=True,
        )
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    def window(self, rows: slice, cols: slice, name: str | None = None) -> ProjectedGrid:
        """The sub-grid of rows ``rows`` and columns ``cols`` (steps of 1 only)."""
        r0, r1, _ = rows.indices(self.ny)
        c0, c1, _ = cols.indices(self.nx)
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"Empty window rows={rows}, cols={cols} of grid {self.name!r}")
        return ProjectedGrid(
            crs=self.crs,
            nx=c1 - c0,
            ny=r1 - r0,
            x_min=self.x_min + c0 * self.dx,
            y_max=self.y_max - r0 * self.dy,
            dx=self.dx,
            dy=self.dy,
            name=name if name is not None else f"{self.name}[{r0}:{r1},{c0}:{c1}]",
        )

    def locate(self, parent: ProjectedGrid) -> tuple[slice, slice]:
        """Rows and columns of ``parent`` that this grid (a window of it) covers.

        Raises:
            ValueError: If this grid is not an aligned window of ``parent``.
        """
        c0 = (self.x_min - parent.x_min) / parent.dx
        r0 = (parent.y_max - self.y_max) / parent.dy
        ok = (
            self.dx == parent.dx
            and self.dy == parent.dy
            and abs(c0 - round(c0)) < 1e-6
            and abs(r0 - round(r0)) < 1e-6
            and 0 <= round(c0) <= parent.nx - self.nx
            and 0 <= round(r0) <= parent.ny - self.ny
        )
        if not ok:
            raise ValueError(f"Grid {self.name!r} is not an aligned window of {parent.name!r}")
        r0, c0 = round(r0), round(c0)
        return slice(r0, r0 + self.ny), slice(c0, c0 + self.nx)

    def window_covering(
        self, lon: np.ndarray, lat: np.ndarray, margin: float = 0.0, name: str | None = None
    ) -> ProjectedGrid:
        """The smallest window of this grid covering points (lon, lat) plus ``margin`` metres."""
        to_xy = Transformer.from_crs("EPSG:4326", self.pyproj_crs, always_xy=True)
        x, y = to_xy.transform(np.asarray(lon, float), np.asarray(lat, float))
        c0 = int(np.floor((np.min(x) - margin - self.x_min) / self.dx))
        c1 = int(np.ceil((np.max(x) + margin - self.x_min) / self.dx))
        r0 = int(np.floor((self.y_max - np.max(y) - margin) / self.dy))
        r1 = int(np.ceil((self.y_max - np.min(y) + margin) / self.dy))
        return self.window(
            slice(max(r0, 0), min(r1, self.ny)), slice(max(c0, 0), min(c1, self.nx)), name=name
        )

    def lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude of every pixel centre, arrays of shape (ny, nx)."""
        to_ll = Transformer.from_crs(self.pyproj_crs, "EPSG:4326", always_xy=True)
        xx, yy = np.meshgrid(self.x, self.y)
        return to_ll.transform(xx, yy)

    def to_dict(self) -> dict:
        """The grid as a plain mapping (JSON/attrs friendly)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ProjectedGrid:
        """Inverse of :meth:`to_dict`."""
        keys = ("crs", "nx", "ny", "x_min", "y_max", "dx", "dy")
        return cls(**{k: d[k] for k in keys}, name=d.get("name", ""))


METEOFRANCE_1KM = ProjectedGrid(
    crs=METEOFRANCE_PROJ,
    nx=1536,
    ny=1536,
    x_min=-619652.0,
    y_max=-3526818.0,
    dx=1000.0,
    dy=1000.0,
    name="meteofrance-1km",
)
"""The Météo-France metropolitan mosaic grid at 1 km (1536 × 1536)."""

METEOFRANCE_500M = ProjectedGrid(
    crs=METEOFRANCE_PROJ,
    nx=3072,
    ny=3072,
    x_min=-619652.0,
    y_max=-3526818.0,
    dx=500.0,
    dy=500.0,
    name="meteofrance-500m",
)
"""The Météo-France metropolitan mosaic grid at 500 m (3072 × 3072)."""
