"""Projected radar grids: coordinates, windows, identity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pyproj import Transformer

from rainscore.grids import DEFAULT_BOX, METEOFRANCE_1KM, METEOFRANCE_500M, ProjectedGrid


def test_meteofrance_grid_extent_matches_the_design():
    g = METEOFRANCE_1KM
    assert g.shape == (1536, 1536)
    assert (g.x_min, g.x_max) == (-619652.0, 916348.0)
    assert (g.y_min, g.y_max) == (-5062818.0, -3526818.0)
    assert METEOFRANCE_500M.x_max == g.x_max
    assert METEOFRANCE_500M.y_min == g.y_min


def test_pixel_centres():
    g = METEOFRANCE_1KM
    assert g.x[0] == -619152.0
    assert g.y[0] == -3527318.0  # row 0 is the northernmost
    assert np.all(np.diff(g.x) == 1000.0)
    assert np.all(np.diff(g.y) == -1000.0)
    lon, lat = g.lonlat()
    assert lon.shape == lat.shape == g.shape
    # North-west corner pixel of the mosaic, over the Atlantic west of Ireland's latitude.
    assert lon[0, 0] == pytest.approx(-9.9557, abs=1e-4)
    assert lat[0, 0] == pytest.approx(53.6661, abs=1e-4)
    assert lat[0, 768] > lat[-1, 768]


def test_window_and_locate_round_trip():
    g = METEOFRANCE_1KM
    sub = g.window(slice(100, 140), slice(700, 750))
    assert sub.shape == (40, 50)
    assert sub.x_min == g.x_min + 700_000.0
    assert sub.y_max == g.y_max - 100_000.0
    assert sub.locate(g) == (slice(100, 140), slice(700, 750))
    np.testing.assert_array_equal(sub.x, g.x[700:750])
    np.testing.assert_array_equal(sub.y, g.y[100:140])


def test_locate_refuses_a_misaligned_grid():
    shifted = dataclasses.replace(
        METEOFRANCE_1KM.window(slice(0, 10), slice(0, 10)), x_min=-619652.0 + 500.0
    )
    with pytest.raises(ValueError, match="not an aligned window"):
        shifted.locate(METEOFRANCE_1KM)


def test_empty_window_and_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="Empty window"):
        METEOFRANCE_1KM.window(slice(10, 10), slice(0, 5))
    with pytest.raises(ValueError, match="shape must be positive"):
        ProjectedGrid(crs="EPSG:4326", nx=0, ny=1, x_min=0, y_max=0, dx=1, dy=1)
    with pytest.raises(ValueError, match="pixel size must be positive"):
        ProjectedGrid(crs="EPSG:4326", nx=1, ny=1, x_min=0, y_max=0, dx=-1, dy=1)


def test_window_covering_holds_the_whole_box():
    g = METEOFRANCE_1KM
    sub = g.window_covering(*DEFAULT_BOX.boundary(200), margin=2000.0)
    to_xy = Transformer.from_crs("EPSG:4326", g.crs, always_xy=True)
    x, y = to_xy.transform(*DEFAULT_BOX.boundary(200))
    assert sub.x_min <= x.min() - 2000.0 + 1000.0
    assert sub.x_max >= x.max() + 2000.0 - 1000.0
    assert sub.y_min <= y.min() - 1000.0
    assert sub.y_max >= y.max() + 1000.0
    rows, cols = sub.locate(g)
    assert 0 < rows.start < rows.stop < g.ny
    assert 0 < cols.start < cols.stop < g.nx


def test_grid_id_is_the_definition_not_the_name_or_spelling():
    g = METEOFRANCE_1KM
    # Pinned: weights caches and inventories are keyed by it; a change invalidates them.
    assert g.grid_id == "e466eaeee7ddcbbf"
    assert dataclasses.replace(g, name="renamed").grid_id == g.grid_id
    respelled = "+proj=stere +lat_0=90.0 +lon_0=0.0 +lat_ts=45.0 +ellps=WGS84 +units=m"
    assert dataclasses.replace(g, crs=respelled).grid_id == g.grid_id
    assert dataclasses.replace(g, x_min=g.x_min + 1.0).grid_id != g.grid_id
    assert dataclasses.replace(g, nx=1535).grid_id != g.grid_id
    assert METEOFRANCE_500M.grid_id != g.grid_id


def test_dict_round_trip():
    g = METEOFRANCE_1KM.window(slice(3, 9), slice(4, 20), name="w")
    assert ProjectedGrid.from_dict(g.to_dict()) == g
