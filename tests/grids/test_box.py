"""The IMERG lattice and boxes on it."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.grids import (
    DEFAULT_BOX,
    IMERG_NLAT,
    IMERG_NLON,
    Box,
    imerg_global_lat,
    imerg_global_lon,
    round_coords,
)


def test_global_lattice_centres():
    lon, lat = imerg_global_lon(), imerg_global_lat()
    assert lon.shape == (IMERG_NLON,)
    assert lat.shape == (IMERG_NLAT,)
    assert lon.dtype == lat.dtype == np.float64
    assert (lon[0], lon[-1]) == (-179.95, 179.95)
    assert (lat[0], lat[-1]) == (-89.95, 89.95)
    np.testing.assert_allclose(np.diff(lat), 0.1, atol=1e-9)


def test_default_box_is_the_france_box():
    box = DEFAULT_BOX
    assert box.shape == (72, 104)
    assert box.lat_index == slice(1328, 1400)
    assert box.lon_index == slice(1772, 1876)
    assert (box.lat[0], box.lat[-1]) == (42.85, 49.95)
    assert (box.lon[0], box.lon[-1]) == (-2.75, 7.55)
    assert (box.lat_edges[0], box.lat_edges[-1]) == (42.8, 50.0)
    assert (box.lon_edges[0], box.lon_edges[-1]) == (-2.8, 7.6)
    # The centres are the global lattice's, so a box cut from a global array lines up.
    np.testing.assert_array_equal(box.lat, imerg_global_lat()[1328:1400])
    np.testing.assert_array_equal(box.lon, imerg_global_lon()[1772:1876])


def test_centres_are_rounded_float64():
    lat = DEFAULT_BOX.lat
    assert lat.dtype == np.float64
    assert 46.05 in lat  # exactly the float nearest 46.05, not 46.050000000000004
    np.testing.assert_array_equal(lat, np.round(lat, 6))


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ((42.83, 49.97, -2.77, 7.55), (42.8, 50.0, -2.8, 7.6)),  # snapped outwards
        ((42.8, 50.0, -2.8, 7.6), (42.8, 50.0, -2.8, 7.6)),  # on the lattice: unchanged
        ((46.0, 46.05, 2.0, 2.01), (46.0, 46.1, 2.0, 2.1)),  # less than a cell: one cell
    ],
)
def test_edges_snap_outwards(edges, expected):
    box = Box(*edges)
    got = (box.lat_edges[0], box.lat_edges[-1], box.lon_edges[0], box.lon_edges[-1])
    assert got == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ((50.0, 42.8, -2.8, 7.6), "lat_min < lat_max"),
        ((-91.0, 0.0, 0.0, 1.0), "-90 <= lat_min"),
        ((0.0, 1.0, 179.0, -179.0), "antimeridian"),
    ],
)
def test_invalid_boxes_are_refused(edges, message):
    with pytest.raises(ValueError, match=message):
        Box(*edges)


def test_from_dict_round_trip_and_missing_key():
    assert Box.from_dict(DEFAULT_BOX.to_dict()) == DEFAULT_BOX
    assert Box.from_dict({"lat_min": "42.8", "lat_max": 50, "lon_min": -2.8, "lon_max": 7.6}) == (
        DEFAULT_BOX
    )
    with pytest.raises(ValueError, match="lacks the key 'lon_max'"):
        Box.from_dict({"lat_min": 42.8, "lat_max": 50.0, "lon_min": -2.8})


def test_boundary_runs_along_the_outer_edges():
    lon, lat = DEFAULT_BOX.boundary(25)
    assert lon.shape == lat.shape == (100,)
    on_edge = np.isclose(lon, -2.8) | np.isclose(lon, 7.6) | np.isclose(lat, 42.8)
    on_edge |= np.isclose(lat, 50.0)
    assert on_edge.all()
    assert lon.min() == pytest.approx(-2.8)
    assert lat.max() == pytest.approx(50.0)


def test_coords_are_cf():
    coords = DEFAULT_BOX.coords()
    assert coords["lat"].attrs == {"units": "degrees_north", "standard_name": "latitude"}
    assert coords["lon"].attrs["units"] == "degrees_east"
    np.testing.assert_array_equal(coords["lat"].values, DEFAULT_BOX.lat)


def test_round_coords_aligns_float32_coordinates():
    box = Box(46.0, 46.3, 2.0, 2.2)
    f32 = xr.DataArray(
        np.zeros(box.shape),
        dims=("lat", "lon"),
        coords={"lat": box.lat.astype(np.float32), "lon": box.lon.astype(np.float32)},
    )
    assert not np.array_equal(f32.lat.values, box.lat)  # 46.05 as float32 is 46.0499992
    fixed = round_coords(f32)
    assert fixed.lat.dtype == np.float64
    np.testing.assert_array_equal(fixed.lat.values, box.lat)
    np.testing.assert_array_equal(fixed.lon.values, box.lon)
