"""Area-conservative remapping of a projected (or lat/lon) raster onto IMERG 0.1° cells.

The weight of a source pixel in a target cell is the area, on the WGS84 ellipsoid, of their
intersection. Weights form a sparse matrix ``W`` (cells × pixels) computed once per source
grid and box, and cached on disk keyed by the grid's definition. Only the columns of pixels
that touch the box are kept (with their indices in the raster), so remapping costs in
proportion to the box, not to the file. Remapping a frame is then sparse matrix–vector
products: the area-weighted sum of the valid pixels and the valid area, whose ratio is the
cell mean and whose quotient by the cell area is the ``valid_fraction``. A
:class:`Regridder` streams frames through it, reusing the valid areas (and a copy of ``W``
without the invalid pixels) while the nodata mask does not change.

How intersections are computed. A pixel whose four corners fall in the same cell lies wholly
inside it (cell edges are parallels and meridians; over one pixel they are straight to well
below a millimetre) and gives that cell its whole area. A pixel straddling cell edges is
shared: over one pixel the map from pixel coordinates to (lon, lat) is nearly affine, so
each cell is a parallelogram in pixel coordinates, and clipping the pixel square by it
(Sutherland–Hodgman) gives the fraction of the pixel's area in the cell, exact to second
order in the pixel size. Each pixel's fractions sum to one, so the remapping conserves the
total exactly; the tests compare the resulting cell areas with the exact ellipsoidal cell
areas: within 1e-6 relative for 1 km pixels, 2e-6 for 2 km pixels.

Pixel areas come from the projection's areal scale factor at the pixel centre (conformal
projections such as the Météo-France polar stereographic one), or from the exact ellipsoidal
formula for lat/lon source grids.

Precision. float32 frames are remapped with float32 weights and sums (relative error about
1e-6, far below the 0.01 mm quantisation of radar accumulations, and half the memory
traffic); float64 and integer frames with float64 weights.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from pyproj import CRS, Geod, Proj, Transformer

from rainscore.grids.imerg import IMERG_RES, Box
from rainscore.grids.projected import ProjectedGrid

logger = logging.getLogger(__name__)

WEIGHTS_FORMAT_VERSION = 2
COVERAGE_TOLERANCE = 1e-5
"""Relative error bound of the pixel areas: a cell covered to within it is fully covered."""
MIN_PIECE = 1e-9
"""Pieces of a pixel smaller than this fraction of it are dropped: they come from rounding
of corner coordinates that lie on a cell edge (lat/lon grids aligned with the cells)."""
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


@dataclass(frozen=True, eq=False)
class AreaWeights:
    """Sparse intersection areas between a source raster and the cells of a box.

    Only the pixels that touch the box are stored: ``pixels`` lists their flat indices in
    the source raster (ascending) and ``matrix`` has one column per listed pixel, so the
    work of :meth:`regrid` is proportional to the box, not to the file.

    Attributes:
        matrix: CSR matrix (n_cells, n_pixels_used) of intersection areas in m²; cells are
            row-major over (lat ascending, lon).
        pixels: Flat (row-major) indices in the source raster of the matrix's columns,
            int64, ascending.
        source: The source grid.
        box: The target box.
    """

    matrix: sp.csr_matrix
    pixels: np.ndarray
    source: ProjectedGrid
    box: Box

    def __post_init__(self) -> None:
        n_cells = self.box.shape[0] * self.box.shape[1]
        if self.matrix.shape != (n_cells, self.pixels.size):
            raise ValueError(
                f"Weights matrix of shape {self.matrix.shape} does not match the box "
                f"({n_cells} cells) and the {self.pixels.size} listed pixels"
            )

    @cached_property
    def cell_area(self) -> np.ndarray:
        """Exact ellipsoidal area (m²) of each target cell, (n_lat, n_lon)."""
        return box_cell_area(self.box)

    @cached_property
    def _covered64(self) -> np.ndarray:
        return self.matrix @ np.ones(self.pixels.size)

    @cached_property
    def _covered32(self) -> np.ndarray:
        return self._matrix32 @ np.ones(self.pixels.size, np.float32)

    def _covered_area(self, dtype: np.dtype) -> np.ndarray:
        """Area (m²) of each cell covered by pixels, flat, summed like the valid areas."""
        return self._covered32 if dtype == np.float32 else self._covered64

    @cached_property
    def coverage(self) -> np.ndarray:
        """Fraction (0–1) of each cell's area covered by source pixels, (n_lat, n_lon).

        Values within :data:`COVERAGE_TOLERANCE` of one (the error of the pixel areas) are
        exactly one.
        """
        ratio = self._covered64.reshape(self.box.shape) / self.cell_area
        return np.where(ratio > 1.0 - COVERAGE_TOLERANCE, 1.0, np.clip(ratio, 0.0, 1.0))

    @property
    def key(self) -> str:
        """Cache key: the source grid, the box, the method and its parameters."""
        return weights_key(self.source, self.box)

    @property
    def window(self) -> tuple[slice, slice] | None:
        """Rows and columns of the source raster that hold every used pixel (None if none).

        Frames read on this window are regridded by :meth:`on_window` with the same numbers
        as whole frames.
        """
        if self.pixels.size == 0:
            return None
        r, c = np.divmod(self.pixels, self.source.nx)
        return slice(int(r.min()), int(r.max()) + 1), slice(int(c.min()), int(c.max()) + 1)

    def on_window(self, rows: slice, cols: slice) -> AreaWeights:
        """The same weights for frames that hold only a window of the source raster.

        The matrix is shared and only the pixel indices change (from the raster to the
        window), so regridding a window frame sums the same terms in the same order as
        regridding the whole frame: the results are identical, bit for bit.

        Args:
            rows: Rows of the source raster in the window (step 1).
            cols: Columns of the source raster in the window (step 1).

        Returns:
            Weights whose ``source`` is ``self.source.window(rows, cols)``.

        Raises:
            ValueError: If a pixel that touches the box lies outside the window.
        """
        grid = self.source.window(rows, cols)
        (r0, r1), (c0, c1) = rows.indices(self.source.ny)[:2], cols.indices(self.source.nx)[:2]
        r, c = np.divmod(self.pixels, self.source.nx)
        if self.pixels.size and (r.min() < r0 or r.max() >= r1 or c.min() < c0 or c.max() >= c1):
            raise ValueError(
                f"Window rows {r0}:{r1}, cols {c0}:{c1} of grid {self.source.name!r} misses "
                f"pixels that touch the box (rows {r.min()}:{r.max() + 1}, cols "
                f"{c.min()}:{c.max() + 1})"
            )
        windowed = AreaWeights(
            matrix=self.matrix, pixels=(r - r0) * grid.nx + (c - c0), source=grid, box=self.box
        )
        for name in ("_matrix32", "_covered32", "_covered64", "coverage", "cell_area"):
            if name in self.__dict__:  # computed already: share it
                windowed.__dict__[name] = self.__dict__[name]
        return windowed

    @classmethod
    def build(cls, source: ProjectedGrid, box: Box) -> AreaWeights:
        """Compute the weights of ``source`` pixels in the cells of ``box``.

        Args:
            source: The source raster's grid.
            box: The target IMERG box.

        Returns:
            The weights (an empty matrix when the grid does not reach the box).
        """
        n_cells = box.shape[0] * box.shape[1]
        window = _window_around(source, box)
        if window is None:
            return cls(
                matrix=sp.csr_matrix((n_cells, 0)),
                pixels=np.zeros(0, np.int64),
                source=source,
                box=box,
            )
        rows, cols = window
        sub = source.window(rows, cols)
        cell, pix, area = _intersections(sub, box)
        # Window pixel index -> flat index in the full raster -> compact column.
        r, c = np.divmod(pix, sub.nx)
        full = (r + rows.start) * source.nx + (c + cols.start)
        pixels = np.unique(full)
        matrix = sp.coo_matrix(
            (area, (cell, np.searchsorted(pixels, full))), shape=(n_cells, pixels.size)
        ).tocsr()  # duplicates (sub-pixels of one pixel in one cell) are summed
        matrix.sort_indices()
        return cls(matrix=matrix, pixels=pixels, source=source, box=box)

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
        grid never picks up stale weights. An unreadable, stale or mismatched file is
        rebuilt (with a warning). Writes are atomic.

        Args:
            source: The source raster's grid.
            box: The target IMERG box.
            cache_dir: Folder of the cache files (created if needed).

        Returns:
            The weights.
        """
        path = cache_path(source, box, cache_dir)
        if path.exists():
            try:
                weights = cls.load(path)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
                logger.warning("Ignoring unreadable weights cache %s (%s); rebuilding", path, err)
            else:
                if weights.key == weights_key(source, box):
                    return weights
                logger.warning("Weights cache %s holds another grid or box; rebuilding", path)
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
                    pixels=self.pixels,
                    meta=np.asarray(meta),
                )
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike) -> AreaWeights:
        """Read weights written by :meth:`save`.

        Raises:
            ValueError: If the file is of another format version or inconsistent.
        """
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta.get("format_version") != WEIGHTS_FORMAT_VERSION:
                raise ValueError(f"{path}: weights format {meta.get('format_version')} is stale")
            matrix = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            pixels = z["pixels"].astype(np.int64)
        return cls(
            matrix=matrix,
            pixels=pixels,
            source=ProjectedGrid.from_dict(meta["source"]),
            box=Box.from_dict(meta["box"]),
        )

    def regrid(
        self, values: np.ndarray, *, nodata: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Area-weighted mean of the valid pixels in each cell, and the valid fraction.

        Only the pixels that touch the box are read from ``values``, and no full-frame
        temporary is made when ``values`` is C-contiguous. A batch of frames goes through one
        :class:`Regridder`, so frames that share a validity mask take its fast path.

        Args:
            values: Array (ny, nx), or (n, ny, nx) for a batch of frames, on the source
                grid. NaN and ±inf mark invalid pixels, which carry no weight. float32
                frames are computed in float32, other frames (float64, integers) in float64.
            nodata: A further value that marks invalid pixels (e.g. 65535 in raw counts).

        Returns:
            ``(mean, valid_fraction)``, float64, each (n_lat, n_lon) or (n, n_lat, n_lon).
            ``mean`` is NaN where a cell has no valid pixel; ``valid_fraction`` is the valid
            area over the cell's area (0 outside the source grid).

        Raises:
            ValueError: If the frames do not have the source grid's shape.
        """
        values = np.asarray(values)
        if values.ndim not in (2, 3):
            raise ValueError(
                f"Expected one frame (ny, nx) or frames (n, ny, nx), got {values.shape}"
            )
        regridder = self.regridder()
        frames = values.reshape(-1, *values.shape[-2:])
        mean = np.empty((frames.shape[0], *self.box.shape))
        fraction = np.empty_like(mean)
        for k, frame in enumerate(frames):
            mean[k], fraction[k] = regridder.regrid(frame, nodata=nodata)
        shape = (*values.shape[:-2], *self.box.shape)
        return mean.reshape(shape), fraction.reshape(shape)

    def regridder(self) -> Regridder:
        """A :class:`Regridder` for a stream of frames of this source grid."""
        return Regridder(self)

    @cached_property
    def _matrix32(self) -> sp.csr_matrix:
        """The weights in float32, for float32 frames."""
        return self.matrix.astype(np.float32)

    @cached_property
    def _entry_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """For each matrix entry, its compact column (intp) and its full-frame pixel."""
        compact = self.matrix.indices.astype(np.intp)
        n_full = self.source.nx * self.source.ny
        full_dtype = np.int32 if n_full < np.iinfo(np.int32).max else np.int64
        return compact, self.pixels[compact].astype(full_dtype)

    def _matrix_for(self, dtype: np.dtype) -> sp.csr_matrix:
        return self._matrix32 if dtype == np.float32 else self.matrix


@dataclass
class _MaskMemo:
    """What a :class:`Regridder` keeps of the last validity mask (see its docstring)."""

    dtype: np.dtype
    valid: np.ndarray  # over the used pixels
    valid_area: np.ndarray  # flat, in ``dtype``
    matrix: sp.csr_matrix | None = None  # valid columns only, indexed by full-frame pixel
    invalid: np.ndarray | None = None  # full-frame indices of the invalid used pixels


class Regridder:
    """Regrids a stream of frames of one source grid, remembering the last validity mask.

    Radar nodata masks (the network's coverage) change rarely from one frame to the next.
    Once two frames in a row share a mask, the regridder keeps a copy of the weights without
    the invalid pixels, whose columns index the full frame. A following frame is then one
    sparse product read straight from the frame, with no gather and no temporary: its
    invalid pixels are never read, pixels that were invalid are checked to still be NaN,
    and a pixel that became invalid shows up as a non-finite cell total. Any change of mask
    falls back to the general path, which gathers the used pixels and zeroes the invalid
    ones. Both paths give the same numbers (they sum the same terms in the same order).

    Not thread safe: use one regridder per thread (they are cheap).

    Args:
        weights: The area weights of the source grid on the box.
    """

    def __init__(self, weights: AreaWeights) -> None:
        self.weights = weights
        self._memo: _MaskMemo | None = None

    def regrid(
        self, frame: np.ndarray, *, nodata: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Regrid one frame; see :meth:`AreaWeights.regrid`.

        Args:
            frame: Array (ny, nx) on the source grid; NaN and ±inf are invalid.
            nodata: A further value that marks invalid pixels.

        Returns:
            ``(mean, valid_fraction)``, float64, each (n_lat, n_lon).

        Raises:
            ValueError: If the frame does not have the source grid's shape.
        """
        w = self.weights
        frame = np.asarray(frame)
        if frame.shape != w.source.shape:
            raise ValueError(
                f"Frame of shape {frame.shape} does not match the source grid "
                f"{w.source.name!r} of shape {w.source.shape}"
            )
        flat = frame.reshape(-1)
        dtype = np.dtype(np.float32 if flat.dtype == np.float32 else np.float64)
        sums = self._fast_sums(flat, dtype) if nodata is None else None
        total, valid_area = sums if sums is not None else self._sums(flat, dtype, nodata)
        covered = w._covered_area(dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(valid_area > 0, total / valid_area, np.nan)
            fraction = np.where(covered > 0, valid_area / covered, 0.0) * w.coverage.ravel()
        return mean.reshape(w.box.shape), fraction.reshape(w.box.shape)

    def _fast_sums(self, flat: np.ndarray, dtype: np.dtype) -> tuple[np.ndarray, ...] | None:
        """Sums through the memorised mask, or None when the mask may have changed."""
        memo = self._memo
        if memo is None or memo.matrix is None or memo.dtype != dtype or flat.dtype.kind != "f":
            return None
        if not np.isnan(flat[memo.invalid]).all():  # a pixel came back
            return None
        total = memo.matrix @ flat
        if not np.isfinite(total).all():  # a pixel went missing
            return None
        return total, memo.valid_area

    def _sums(
        self, flat: np.ndarray, dtype: np.dtype, nodata: float | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sums by gathering the used pixels; updates the memorised mask."""
        w = self.weights
        matrix = w._matrix_for(dtype)
        raw = flat.take(w.pixels)
        valid = np.isfinite(raw) if raw.dtype.kind in "fc" else np.ones(raw.shape, dtype=bool)
        if nodata is not None:
            valid &= raw != nodata
        x = raw.astype(dtype, copy=False)
        np.copyto(x, 0, where=~valid)
        total = matrix @ x
        memo = self._memo
        if memo is not None and memo.dtype == dtype and np.array_equal(memo.valid, valid):
            if memo.matrix is None and nodata is None:
                memo.matrix, memo.invalid = _drop_columns(w, matrix, valid)
            return total, memo.valid_area
        valid_area = matrix @ valid.astype(dtype)
        self._memo = _MaskMemo(dtype=dtype, valid=valid, valid_area=valid_area)
        return total, valid_area


def _drop_columns(
    weights: AreaWeights, matrix: sp.csr_matrix, valid: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """The weights on valid pixels only, with full-frame column indices; invalid pixels.

    Args:
        weights: The area weights (for the pixel of each matrix entry).
        matrix: ``weights.matrix`` in the precision of the frames.
        valid: Validity of each used pixel.
    """
    compact, full = weights._entry_pixels
    keep = valid[compact]
    kept_before = np.zeros(keep.size + 1, dtype=full.dtype)  # entries kept before each one
    np.cumsum(keep, dtype=full.dtype, out=kept_before[1:])
    dropped = sp.csr_matrix(
        (matrix.data[keep], full[keep], kept_before[matrix.indptr]),
        shape=(matrix.shape[0], weights.source.nx * weights.source.ny),
    )
    return dropped, weights.pixels[~valid]


def cache_path(source: ProjectedGrid, box: Box, cache_dir: str | os.PathLike) -> Path:
    """Where :meth:`AreaWeights.cached` keeps the weights of ``source`` on ``box``."""
    return Path(cache_dir) / f"area-weights-{weights_key(source, box)}.npz"


def _window_around(source: ProjectedGrid, box: Box) -> tuple[slice, slice] | None:
    """Rows and columns of ``source`` around ``box`` (two pixels of margin), or None."""
    n = 4 * max(box.shape)
    try:
        sub = source.window_covering(*box.boundary(n), margin=2 * max(source.dx, source.dy))
    except (ValueError, OverflowError):  # the grid does not reach the box
        return None
    return sub.locate(source)


def _intersections(source: ProjectedGrid, box: Box) -> tuple[np.ndarray, ...]:
    """Every (cell, pixel, area) with a non-empty intersection; pixels flat in ``source``.

    A pixel may appear several times for one cell (its pieces); they add up.
    """
    to_ll = Transformer.from_crs(source.pyproj_crs, "EPSG:4326", always_xy=True)
    ny, nx = source.shape
    # Pixel corners, exactly projected: (ny + 1, nx + 1).
    cx, cy = np.meshgrid(
        source.x_min + source.dx * np.arange(nx + 1), source.y_max - source.dy * np.arange(ny + 1)
    )
    clon, clat = to_ll.transform(cx, cy)
    corner_cell = _cell_index(box, clon, clat)
    c00 = corner_cell[:-1, :-1]
    same = (
        (c00 == corner_cell[:-1, 1:]) & (c00 == corner_cell[1:, :-1]) & (c00 == corner_cell[1:, 1:])
    )
    lon_c, lat_c = to_ll.transform(*np.meshgrid(source.x, source.y))

    # Pixels wholly inside one cell.
    whole = np.flatnonzero(same & (c00 >= 0))
    cells = [c00.ravel()[whole]]
    pixels = [whole]
    areas = [_pixel_areas(source, lon_c.ravel()[whole], lat_c.ravel()[whole])]

    # Every other pixel with a corner in the box, or next to one (the box's own corners
    # may cut a pixel none of whose corners is inside): exact clipping.
    touches = np.zeros((ny + 2, nx + 2), dtype=bool)
    touches[1:-1, 1:-1] = (
        (c00 >= 0)
        | (corner_cell[:-1, 1:] >= 0)
        | (corner_cell[1:, :-1] >= 0)
        | (corner_cell[1:, 1:] >= 0)
    )
    near = touches[1:-1, 1:-1].copy()
    for dr, dc in ((0, 1), (2, 1), (1, 0), (1, 2)):
        near |= touches[dr : dr + ny, dc : dc + nx]
    split = np.flatnonzero(near & ~(same & (c00 >= 0)))
    if split.size:
        r, c = np.divmod(split, nx)
        area = _pixel_areas(source, lon_c.ravel()[split], lat_c.ravel()[split])
        cell, frac = _split_pixels(box, clon, clat, r, c)
        keep = frac > MIN_PIECE
        cells.append(cell[keep])
        pixels.append(np.broadcast_to(split[:, None], cell.shape)[keep])
        areas.append((frac * area[:, None])[keep])
    return np.concatenate(cells), np.concatenate(pixels), np.concatenate(areas)


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
