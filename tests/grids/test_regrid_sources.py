"""Regridding from other source grids: MeteoNet-like lat/lon, OPERA-like LAEA."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Proj

from rainscore.grids import ProjectedGrid
from rainscore.grids.regrid import AreaWeights, box_cell_area, lonlat_cell_area


def meteonet_like(lon_west: float, lat_north: float, n: int = 200) -> ProjectedGrid:
    """A 0.01° lat/lon grid (MeteoNet style) of n × n pixels from its north-west corner."""
    return ProjectedGrid(
        crs="EPSG:4326", nx=n, ny=n, x_min=lon_west, y_max=lat_north, dx=0.01, dy=0.01
    )


@pytest.mark.parametrize(
    ("lon_west", "lat_north"),
    [(1.5, 47.5), (1.505, 47.505)],
    ids=["aligned-with-the-cells", "half-a-pixel-off"],
)
def test_a_lat_lon_source_grid(small_box, lon_west, lat_north):
    grid = meteonet_like(lon_west, lat_north)
    weights = AreaWeights.build(grid, small_box)
    # Cell areas: exact pixel areas, split by parallels in proportion to latitude (not
    # area, which is 4e-9 off for a 0.01° pixel).
    covered = np.asarray(weights.matrix.sum(axis=1)).reshape(small_box.shape)
    np.testing.assert_allclose(covered, box_cell_area(small_box), rtol=1e-8)
    mean, fraction = weights.regrid(np.full(grid.shape, 0.25))
    np.testing.assert_allclose(mean, 0.25, rtol=1e-12)
    np.testing.assert_array_equal(fraction, 1.0)
    _, lat = grid.lonlat()
    mean_lat, _ = weights.regrid(lat)
    # Area weighting puts the mean latitude of a 0.1° cell 1.4e-5° south of its centre.
    np.testing.assert_allclose(mean_lat, small_box.lat[:, None] + 0 * mean_lat, atol=5e-5)


def test_an_aligned_lat_lon_grid_gives_each_pixel_to_one_cell(small_box):
    grid = meteonet_like(1.5, 47.5)
    weights = AreaWeights.build(grid, small_box)
    # 100 whole pixels per cell: rounding of corners on cell edges makes no slivers.
    assert weights.matrix.nnz == weights.pixels.size == 100 * 100
    per_column = weights.matrix.tocsc()
    biggest = np.maximum.reduceat(per_column.data, per_column.indptr[:-1])
    lat_c = grid.lonlat()[1].ravel()[weights.pixels]
    pixel_area = lonlat_cell_area(lat_c - 0.005, lat_c + 0.005, 0.01)
    np.testing.assert_allclose(biggest, pixel_area, rtol=1e-9)
    # Means of a field constant per pixel are exact area-weighted pixel averages.
    rng = np.random.default_rng(0)
    frame = rng.random(grid.shape)
    mean, _ = weights.regrid(frame)
    # Cell (0, 0) is 46.0-46.1 N, 2.0-2.1 E: rows 140-150 and columns 50-60 of the grid.
    block = frame[140:150, 50:60]
    areas = lonlat_cell_area(grid.y[140:150] - 0.005, grid.y[140:150] + 0.005, 0.01)
    expected = (block * areas[:, None]).sum() / (areas.sum() * 10)
    assert mean[0, 0] == pytest.approx(expected, rel=1e-9)


def test_an_equal_area_laea_grid(small_box, opera_grid):
    grid = opera_grid.window_covering(*small_box.boundary(), margin=8000.0, name="opera-win")
    weights = AreaWeights.build(grid, small_box)
    factors = Proj(grid.crs).get_factors(2.5, 46.5)
    assert factors.areal_scale == pytest.approx(1.0, abs=1e-9)  # equal area: 4 km² pixels
    # Pieces of pixels cut by cell edges are exact to second order in the pixel size: cell
    # areas within 1e-6 at 1 km, 1.7e-6 measured here at 2 km.
    covered = np.asarray(weights.matrix.sum(axis=1)).reshape(small_box.shape)
    np.testing.assert_allclose(covered, box_cell_area(small_box), rtol=2.5e-6)
    mean, fraction = weights.regrid(np.full(grid.shape, 7.0, dtype=np.float32))
    np.testing.assert_allclose(mean, 7.0, rtol=2e-6)
    np.testing.assert_array_equal(fraction, 1.0)
    _, lat = grid.lonlat()
    mean_lat, _ = weights.regrid(lat)
    # Pixel centres stand for the pieces of pixels cut by the cell edges: with 2 km pixels
    # the cell means shift by up to 2.8e-4° (31 m, 1/60 of a pixel) measured.
    np.testing.assert_allclose(mean_lat, small_box.lat[:, None] + 0 * mean_lat, atol=5e-4)
