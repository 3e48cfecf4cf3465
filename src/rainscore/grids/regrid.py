"""Area-conservative remapping of a projected (or lat/lon) raster onto IMERG 0.1° cells.

The weight of a source pixel in a target cell is the area, on the WGS84 ellipsoid, of their
intersection. Weights form a sparse matrix ``W`` (cells × pixels) computed once per source
grid and box, and cached on disk keyed by the grid's definition. Remapping a frame is then
two sparse matrix–vector products: the area-weighted sum of the valid pixels and the valid
area, whose ratio is the cell mean and whose quotient by the cell area is the
``valid_fraction``.

How intersections are computed. A pixel whose four corners fall in the same cell lies wholly
inside it (cell edges are parallels and meridians; over one pixel they are straight to well
below a millimetre) and gives that cell its whole area. A pixel straddling cell edges is
shared exactly: over one pixel the map from pixel coordinates to (lon, lat) is affine to a
part in 1e7, so each cell is a parallelogram in pixel coordinates, and clipping the pixel
square by it (Sutherland–Hodgman) gives the fraction of the pixel's area in the cell. Each
pixel's fractions sum to one, so the remapping conserves the total; the tests compare the
resulting cell areas with the exact ellipsoidal cell areas.

Pixel areas come from the projection's areal scale factor at the pixel centre (conformal
projections such as the Météo-France polar stereographic one), or from the exact ellipsoidal
formula for lat/lon source grids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pyproj import CRS, Geod, Proj, Transformer

from rainscore.grids.imerg import IMERG_RES, Box
from rainscore.grids.projected import ProjectedGrid

logger = logging.getLogger(__name__)

WEIGHTS_FORMAT_VERSION = 1
_WGS84 = Geod(ellps="WGS84")
_A = _WGS84.a
_E2 = _WGS84.es
_E = np.sqrt(_E2)


def _authalic_q(lat_deg: np.ndarray) -> np.ndarray:
    """The function q(φ) whose differences give exact areas on the ellipsoid (Snyder 3-12)."""
    s = np.sin(np.radians(lat_deg))
    return (1 - _E2) * (s / (1 - _E2 * s**2) - np.log((1 - _E * s) / (1 + _E * s)) / (2 * _E))


def lonlat_cell_area(
    lat_south: np.ndarray, lat_north: np.ndarray, dlon_deg: np.ndarray | float
) -> np.ndarray:
    """Exact area (m²) of lat/lon rectangles on the WGS84 ellipsoid.

    Args:
        lat_south: Southern edges, degrees.
        lat_north: Northern edges, degrees.
        dlon_deg: Longitude extents, degrees.

    Returns:
        Areas in m², broadcast over the inputs.
    """
    dq = _authalic_q(np.asarray(lat_north)) - _authalic_q(np.asarray(lat_south))
    return 0.5 * _A**2 * np.radians(dlon_deg) * dq


def box_cell_area(box: Box) -> np.ndarray:
    """Exact ellipsoidal area (m²) of every cell of ``box``, shape (n_lat, n_lon)."""
    edges = box.lat_edges
    rows = lonlat_cell_area(edges[:-1], edges[1:], IMERG_RES)
    return np.repeat(rows[:, None], box.shape[1], axis=1)


def _is_geographic(grid: ProjectedGrid) -> bool:
    return CRS.from_user_input(grid.crs).is_geographic


def _pixel_areas(grid: ProjectedGrid, lon_c: np.ndarray, lat_c: np.ndarray) -> np.ndarray:
    """Ellipsoidal area (m²) of each pixel, from its centre's lon/lat."""
    if _is_geographic(grid):
        return lonlat_cell_area(lat_c - grid.dy / 2, lat_c + grid.dy / 2, grid.dx)
    factors = Proj(grid.crs).get_factors(lon_c, lat_c)
    return grid.dx * grid.dy / np.asarray(factors.areal_scale)


def _cell_index(box: Box, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Flat index (row-major over (lat, lon)) of the box cell holding each point, −1 outside."""
    n_lat, n_lon = box.shape
    j = np.floor((lat - box.lat_edges[0]) / IMERG_RES).astype(np.int64)
    i = np.floor((lon - box.lon_edges[0]) / IMERG_RES).astype(np.int64)
    inside = (j >= 0) & (j < n_lat) & (i >= 0) & (i < n_lon)
    return np.where(inside, j * n_lon + i, -1)


@dataclass(frozen=True)
class AreaWeights:
    """Sparse intersection areas between a source raster and the cells of a box.

    Attributes:
        matrix: CSR matrix (n_cells, n_pixels) of intersection areas in m²; cells are
            row-major over (lat ascending, lon), pixels row-major over the source raster.
        source: The source grid.
        box: The target box.
    """

    matrix: sp.csr_matrix
    source: ProjectedGrid
    box: Box

    @property
    def cell_area(self) -> np.ndarray:
        """Exact ellipsoidal area (m²) of each target cell, (n_lat, n_lon)."""
        return box_cell_area(self.box)

    @property
    def coverage(self) -> np.ndarray:
        """Fraction of each cell's area covered by source pixels (valid or not)."""
        covered = np.asarray(self.matrix.sum(axis=1)).reshape(self.box.shape)
        return np.clip(covered / self.cell_area, 0.0, 1.0)

    @property
    def key(self) -> str:
        """Cache key: the source grid, the box, the method and its parameters."""
        return weights_key(self.source, self.box)

    @classmethod
    def build(cls, source: ProjectedGrid, box: Box) -> AreaWeights:
        """Compute the weights of ``source`` pixels in the cells of ``box``.

        Args:
            source: The source raster's grid.
            box: The target IMERG box.

        Returns:
            The weights.
        """
        to_ll = Transformer.from_crs(source.pyproj_crs, "EPSG:4326", always_xy=True)
        ny, nx = source.shape
        # Pixel corners, exactly projected: (ny + 1, nx + 1).
        xc = source.x_min + source.dx * np.arange(nx + 1)
        yc = source.y_max - source.dy * np.arange(ny + 1)
        cx, cy = np.meshgrid(xc, yc)
        clon, clat = to_ll.transform(cx, cy)
        corner_cell = _cell_index(box, clon, clat)
        c00 = corner_cell[:-1, :-1]
        same = (
            (c00 == corner_cell[:-1, 1:])
            & (c00 == corner_cell[1:, :-1])
            & (c00 == corner_cell[1:, 1:])
        )
        lon_c, lat_c = to_ll.transform(*np.meshgrid(source.x, source.y))

        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []

        # Pixels wholly inside one cell.
        whole = same & (c00 >= 0)
        pix = np.flatnonzero(whole)
        rows.append(c00.ravel()[pix])
        cols.append(pix)
        vals.append(_pixel_areas(source, lon_c.ravel()[pix], lat_c.ravel()[pix]))

        # Pixels straddling cell edges, or partly outside the box: exact clipping.
        touches = (
            (c00 >= 0)
            | (corner_cell[:-1, 1:] >= 0)
            | (corner_cell[1:, :-1] >= 0)
            | (corner_cell[1:, 1:] >= 0)
        )
        split = np.flatnonzero(~same & touches)
        if split.size:
            r, c = np.divmod(split, nx)
            area = _pixel_areas(source, lon_c.ravel()[split], lat_c.ravel()[split])
            cell, frac = _split_pixels(box, clon, clat, r, c)
            keep = frac > 0
            rows.append(cell[keep])
            cols.append(np.broadcast_to(split[:, None], cell.shape)[keep])
            vals.append((frac * area[:, None])[keep])

        n_cells = box.shape[0] * box.shape[1]
        matrix = sp.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_cells, ny * nx),
        ).tocsr()  # duplicates (sub-pixels of one pixel in one cell) are summed
        matrix.sort_indices()
        return cls(matrix=matrix, source=source, box=box)

    @classmethod
    def cached(
        cls,
        source: ProjectedGrid,
        box: Box,
        *,
        cache_dir: str | os.PathLike,
    ) -> AreaWeights:
        """Load the weights from ``cache_dir`` or build and store them there.

        The file name is a hash of the grid definition, the box and the method, so a changed
        grid never picks up stale weights. Writes are atomic.
        """
        cache_dir = Path(cache_dir)
        path = cache_dir / f"area-weights-{weights_key(source, box)}.npz"
        if path.exists():
            try:
                return cls.load(path)
            except (OSError, ValueError, KeyError) as err:
                logger.warning("Ignoring unreadable weights cache %s (%s); rebuilding", path, err)
        logger.info("Computing area weights for %s -> %s", source.name or source.grid_id, box)
        weights = cls.build(source, box)
        weights.save(path)
        return weights

    def save(self, path: str | os.PathLike) -> None:
        """Write the weights to ``path`` (``.npz``) atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        m = self.matrix
        meta = json.dumps(
            {
                "format_version": WEIGHTS_FORMAT_VERSION,
                "source": self.source.to_dict(),
                "box": self.box.to_dict(),
            }
        )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(
                    fh,
                    data=m.data,
                    indices=m.indices,
                    indptr=m.indptr,
                    shape=np.asarray(m.shape),
                    meta=np.asarray(meta),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> AreaWeights:
        """Read weights written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format_version") != WEIGHTS_FORMAT_VERSION:
                raise ValueError(f"{path}: weights format {meta.get('format_version')} is stale")
            matrix = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return cls(
            matrix=matrix,
            source=ProjectedGrid.from_dict(meta["source"]),
            box=Box.from_dict(meta["box"]),
        )

    def regrid(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Area-weighted mean of the valid pixels in each cell, and the valid fraction.

        Args:
            values: Array (ny, nx) or (n, ny, nx) on the source grid; NaN marks invalid
                pixels, which carry no weight.

        Returns:
            ``(mean, valid_fraction)``, each (n_lat, n_lon) or (n, n_lat, n_lon); ``mean`` is
            NaN where a cell has no valid pixel.
        """
        values = np.asarray(values)
        if values.shape[-2:] != self.source.shape:
            raise ValueError(
                f"Frame of shape {values.shape[-2:]} does not match the source grid "
                f"{self.source.name!r} of shape {self.source.shape}"
            )
        lead = values.shape[:-2]
        flat = values.reshape(-1, self.source.nx * self.source.ny).T  # (pixels, n)
        valid = np.isfinite(flat)
        total = self.matrix @ np.where(valid, flat, 0.0)
        valid_area = self.matrix @ valid.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(valid_area > 0, total / valid_area, np.nan)
        cell_area = self.cell_area.reshape(-1, 1)
        fraction = np.clip(valid_area / cell_area, 0.0, 1.0)
        shape = (*lead, *self.box.shape)
        return (
            np.moveaxis(mean, -1, 0).reshape(shape),
            np.moveaxis(fraction, -1, 0).reshape(shape),
        )


def _split_pixels(
    box: Box, clon: np.ndarray, clat: np.ndarray, r: np.ndarray, c: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Share pixels (r, c) exactly between the cells they overlap.

    Over one pixel the map from pixel coordinates (u, v) ∈ [0, 1]² to (lon, lat) is affine
    to within a part in 1e7, so each candidate cell is a parallelogram in (u, v); clipping
    the unit square by its four edges gives the exact fraction of the pixel in the cell.

    Returns:
        ``(cell, fraction)``, each (n_pixels, n_candidates): flat cell index (−1 for none)
        and the fraction of the pixel's area in that cell.
    """
    n_lat, n_lon = box.shape
    corners_lon = np.stack([clon[r, c], clon[r, c + 1], clon[r + 1, c], clon[r + 1, c + 1]])
    corners_lat = np.stack([clat[r, c], clat[r, c + 1], clat[r + 1, c], clat[r + 1, c + 1]])
    # Affine fit through the four corners: value = centre + d_u (u − ½) + d_v (v − ½).
    planes = []
    for corners in (corners_lon, corners_lat):
        a00, a10, a01, a11 = corners  # (u, v) = (0,0), (1,0), (0,1), (1,1)
        centre = corners.mean(axis=0)
        d_u = 0.5 * ((a10 - a00) + (a11 - a01))
        d_v = 0.5 * ((a01 - a00) + (a11 - a10))
        planes.append((centre - 0.5 * d_u - 0.5 * d_v, d_u, d_v))
    (lon0, lon_u, lon_v), (lat0, lat_u, lat_v) = planes

    lon_e, lat_e = box.lon_edges, box.lat_edges
    i_lo = np.floor((corners_lon.min(axis=0) - lon_e[0]) / IMERG_RES).astype(np.int64)
    i_hi = np.floor((corners_lon.max(axis=0) - lon_e[0]) / IMERG_RES).astype(np.int64)
    j_lo = np.floor((corners_lat.min(axis=0) - lat_e[0]) / IMERG_RES).astype(np.int64)
    j_hi = np.floor((corners_lat.max(axis=0) - lat_e[0]) / IMERG_RES).astype(np.int64)
    span = int(max((i_hi - i_lo).max(), (j_hi - j_lo).max())) + 1

    cells, fracs = [], []
    for dj in range(span):
        for di in range(span):
            j, i = j_lo + dj, i_lo + di
            ok = (j <= j_hi) & (i <= i_hi) & (j >= 0) & (j < n_lat) & (i >= 0) & (i < n_lon)
            lon_w = lon_e[0] + IMERG_RES * i
            lat_s = lat_e[0] + IMERG_RES * j
            # Half-planes a u + b v + k >= 0 bounding the cell in pixel coordinates.
            halfplanes = [
                (lon_u, lon_v, lon0 - lon_w),
                (-lon_u, -lon_v, lon_w + IMERG_RES - lon0),
                (lat_u, lat_v, lat0 - lat_s),
                (-lat_u, -lat_v, lat_s + IMERG_RES - lat0),
            ]
            frac = _clipped_unit_square_area(halfplanes)
            cells.append(np.where(ok, j * n_lon + i, -1))
            fracs.append(np.where(ok, frac, 0.0))
    return np.stack(cells, axis=1), np.stack(fracs, axis=1)


def _clipped_unit_square_area(
    halfplanes: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> np.ndarray:
    """Area of the unit square clipped by half-planes ``a u + b v + k >= 0``, vectorised.

    Sutherland–Hodgman clipping on a batch of polygons stored with a fixed maximum number
    of vertices (a square clipped by four half-planes has at most eight).
    """
    m = halfplanes[0][0].shape[0]
    kmax = 4 + len(halfplanes)
    px = np.zeros((m, kmax))
    py = np.zeros((m, kmax))
    px[:, :4] = [0.0, 1.0, 1.0, 0.0]
    py[:, :4] = [0.0, 0.0, 1.0, 1.0]
    nv = np.full(m, 4)
    rows = np.arange(m)
    for a, b, k in halfplanes:
        qx = np.zeros_like(px)
        qy = np.zeros_like(py)
        nq = np.zeros(m, dtype=np.int64)
        for e in range(kmax):
            active = e < nv
            nxt = np.where(e + 1 < nv, e + 1, 0)
            x0, y0 = px[:, e], py[:, e]
            x1, y1 = px[rows, nxt], py[rows, nxt]
            h0 = a * x0 + b * y0 + k
            h1 = a * x1 + b * y1 + k
            in0, in1 = h0 >= 0, h1 >= 0
            emit = active & in0
            qx[rows[emit], nq[emit]] = x0[emit]
            qy[rows[emit], nq[emit]] = y0[emit]
            nq += emit
            cross = active & (in0 != in1)
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(cross, h0 / (h0 - h1), 0.0)
            qx[rows[cross], nq[cross]] = (x0 + t * (x1 - x0))[cross]
            qy[rows[cross], nq[cross]] = (y0 + t * (y1 - y0))[cross]
            nq += cross
        px, py, nv = qx, qy, nq
    # Shoelace formula over the first nv vertices.
    idx = np.arange(kmax)
    nxt = np.where(idx[None, :] + 1 < nv[:, None], idx[None, :] + 1, 0)
    valid = idx[None, :] < nv[:, None]
    cross = px * np.take_along_axis(py, nxt, 1) - np.take_along_axis(px, nxt, 1) * py
    return 0.5 * np.abs(np.where(valid, cross, 0.0).sum(axis=1))


def weights_key(source: ProjectedGrid, box: Box) -> str:
    """A short stable hash of everything the weights depend on."""
    key = json.dumps(
        {
            "grid": source.grid_id,
            "box": box.to_dict(),
            "format": WEIGHTS_FORMAT_VERSION,
        },
        sort_keys=True,
    )
    return hashlib.sha1(key.encode()).hexdigest()[:16]
