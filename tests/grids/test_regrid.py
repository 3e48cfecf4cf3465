"""Area-conservative regridding: analytic fields, areas, coverage, precision, fast paths."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod, Transformer

from rainscore.grids import DEFAULT_BOX, METEOFRANCE_1KM, Box, ProjectedGrid
from rainscore.grids.regrid import AreaWeights, box_cell_area, lonlat_cell_area

GEOD = Geod(ellps="WGS84")
SMALL_BOX = Box(lat_min=46.0, lat_max=47.0, lon_min=2.0, lon_max=3.0)  # as in conftest
# A NaN line or a step drawn on pixel centres departs from the true line by at most half a
# pixel: 0.5 km of an 11.1 km cell (0.045 of its height).
HALF_PIXEL_OF_CELL = 0.5 / 11.1


def pixel_corners(grid: ProjectedGrid) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes of the pixel corners, (ny + 1, nx + 1)."""
    xx, yy = np.meshgrid(
        grid.x_min + grid.dx * np.arange(grid.nx + 1),
        grid.y_max - grid.dy * np.arange(grid.ny + 1),
    )
    return Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True).transform(xx, yy)


def inside_box(grid: ProjectedGrid, box: Box) -> np.ndarray:
    """Pixels whose four corners lie in the box (so the whole pixel does), (ny, nx)."""
    lon, lat = pixel_corners(grid)
    ok = (
        (lon >= box.lon_edges[0])
        & (lon <= box.lon_edges[-1])
        & (lat >= box.lat_edges[0])
        & (lat <= box.lat_edges[-1])
    )
    return ok[:-1, :-1] & ok[1:, :-1] & ok[:-1, 1:] & ok[1:, 1:]


def exact_pixel_areas(grid, mask):
    """Geodesic area (m²) of each masked pixel's corner polygon: independent of the code."""
    lon, lat = pixel_corners(grid)
    rows, cols = np.nonzero(mask)
    areas = np.empty(rows.size)
    for k, (r, c) in enumerate(zip(rows, cols, strict=True)):
        plon = [lon[r, c], lon[r, c + 1], lon[r + 1, c + 1], lon[r + 1, c]]
        plat = [lat[r, c], lat[r, c + 1], lat[r + 1, c + 1], lat[r + 1, c]]
        areas[k] = abs(GEOD.polygon_area_perimeter(plon, plat)[0])
    out = np.zeros(grid.shape)
    out[rows, cols] = areas
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_constant_stays_constant(mf_weights, mf_grid, dtype):
    frame = np.full(mf_grid.shape, 3.7, dtype=dtype)
    mean, fraction = mf_weights.regrid(frame)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(mean, 3.7, rtol=rtol)
    np.testing.assert_array_equal(fraction, 1.0)  # the source covers every cell
    assert mean.dtype == fraction.dtype == np.float64


def test_the_area_weighted_total_is_conserved(mf_weights, mf_grid):
    # A random field on the pixels wholly inside the box (so wholly inside fully covered
    # cells), with invalid pixels, and 0 elsewhere. Then exactly:
    #   sum over cells of mean * valid_fraction * cell_area
    #     = sum over valid pixels of value * pixel_area,
    # because every pixel's pieces add up to the whole pixel. Pixel areas here are the
    # geodesic areas of their corner polygons, computed independently of the regridder.
    rng = np.random.default_rng(1)
    inside = inside_box(mf_grid, SMALL_BOX)
    frame = np.where(inside, rng.gamma(0.5, 4.0, mf_grid.shape), 0.0)
    invalid = inside & (rng.random(mf_grid.shape) < 0.2)
    frame[invalid] = np.nan
    mean, fraction = mf_weights.regrid(frame)
    cells = np.nansum(mean * fraction * box_cell_area(SMALL_BOX))
    pixels = np.nansum(frame * exact_pixel_areas(mf_grid, inside & ~invalid))
    assert cells == pytest.approx(pixels, rel=1e-6)
    assert np.all(fraction < 1.0)  # every cell lost about a fifth of its area
    assert fraction.mean() == pytest.approx(0.8, abs=0.02)


def test_a_field_of_latitude_lands_where_it_should(mf_weights, mf_grid):
    lon, lat = mf_grid.lonlat()
    mean_lat, _ = mf_weights.regrid(lat)
    mean_lon, _ = mf_weights.regrid(lon)
    # Cell means of the pixel-centre latitudes are the cell-centre latitudes, to within the
    # centroid shift of the pixels cut by the edges (measured 2.5e-5° = 3 m).
    np.testing.assert_allclose(
        mean_lat, np.broadcast_to(SMALL_BOX.lat[:, None], (10, 10)), atol=1e-4
    )
    np.testing.assert_allclose(
        mean_lon, np.broadcast_to(SMALL_BOX.lon[None, :], (10, 10)), atol=3e-4
    )


def test_a_step_at_a_cell_edge_latitude(mf_weights, mf_grid):
    _, lat = mf_grid.lonlat()
    mean, _ = mf_weights.regrid((lat >= 46.5).astype(np.float64))
    # Rows of cells: 46.0-46.1 ... 46.9-47.0; the step is the edge between rows 4 and 5.
    np.testing.assert_array_equal(mean[:4], 0.0)
    np.testing.assert_array_equal(mean[6:], 1.0)
    assert np.all((mean[4] >= 0.0) & (mean[4] <= HALF_PIXEL_OF_CELL))
    assert np.all((mean[5] <= 1.0) & (mean[5] >= 1.0 - HALF_PIXEL_OF_CELL))


def test_valid_fraction_where_a_known_line_cuts_cells(mf_weights, mf_grid):
    _, lat = mf_grid.lonlat()
    frame = np.where(lat > 46.55, np.nan, 2.0)  # invalid north of the middle of row 5
    mean, fraction = mf_weights.regrid(frame)
    np.testing.assert_array_equal(fraction[:5], 1.0)
    np.testing.assert_allclose(fraction[5], 0.5, atol=HALF_PIXEL_OF_CELL)
    np.testing.assert_array_equal(fraction[6:], 0.0)
    np.testing.assert_allclose(mean[:6], 2.0, rtol=1e-12)  # valid pixels only
    assert np.isnan(mean[6:]).all()


def test_a_source_covering_part_of_the_box():
    # A window of the Météo-France grid that reaches only the western part of the box.
    lon, lat = SMALL_BOX.boundary()
    west = METEOFRANCE_1KM.window_covering(np.minimum(lon, 2.45), lat, name="west")
    weights = AreaWeights.build(west, SMALL_BOX)
    mean, fraction = weights.regrid(np.ones(west.shape))
    assert np.all(weights.coverage[:, :3] == 1.0)  # cells west of 2.3°E
    assert np.all(weights.coverage[:, 6:] == 0.0)  # cells east of 2.6°E
    np.testing.assert_array_equal(fraction, weights.coverage)
    assert np.isnan(mean[:, 6:]).all()
    np.testing.assert_allclose(mean[:, :3], 1.0, rtol=1e-12)


def test_a_grid_that_misses_the_box():
    far = METEOFRANCE_1KM.window(slice(0, 20), slice(0, 20), name="atlantic")
    weights = AreaWeights.build(far, SMALL_BOX)
    assert weights.pixels.size == 0
    assert weights.window is None
    mean, fraction = weights.regrid(np.ones(far.shape))
    assert np.isnan(mean).all()
    np.testing.assert_array_equal(fraction, 0.0)


def test_cell_areas_on_the_default_box():
    weights = AreaWeights.build(METEOFRANCE_1KM, DEFAULT_BOX)
    covered = np.asarray(weights.matrix.sum(axis=1)).reshape(DEFAULT_BOX.shape)
    np.testing.assert_allclose(covered, box_cell_area(DEFAULT_BOX), rtol=1e-6)
    np.testing.assert_array_equal(weights.coverage, 1.0)
    # Only pixels near the box are kept, and they lie inside the window that holds them.
    assert weights.pixels.size < 0.3 * METEOFRANCE_1KM.nx * METEOFRANCE_1KM.ny
    rows, cols = weights.window
    r, c = np.divmod(weights.pixels, METEOFRANCE_1KM.nx)
    assert rows.start == r.min() and rows.stop == r.max() + 1
    assert cols.start == c.min() and cols.stop == c.max() + 1


def test_cell_area_formula_is_exact():
    # All IMERG cells of the globe add up to the area of the WGS84 ellipsoid.
    edges = np.linspace(-90.0, 90.0, 1801)
    total = lonlat_cell_area(edges[:-1], edges[1:], 0.1).sum() * 3600
    assert total == pytest.approx(5.10065621724088e14, rel=1e-12)
    # One cell against a geodesic polygon whose parallels are densified (they are not
    # geodesics).
    t = np.linspace(0.0, 1.0, 2001)
    plon = np.concatenate([2.0 + 0.1 * t, 2.0 + 0.1 * t[::-1]])
    plat = np.concatenate([np.full_like(t, 46.0), np.full_like(t, 46.1)])
    geodesic = abs(GEOD.polygon_area_perimeter(plon, plat)[0])
    assert box_cell_area(SMALL_BOX)[0, 0] == pytest.approx(geodesic, rel=1e-7)


def test_regridder_fast_path_gives_the_same_numbers(mf_weights, mf_grid):
    # A stream whose nodata mask stays, loses a pixel, gets pixels back, changes.
    rng = np.random.default_rng(2)
    base = np.zeros(mf_grid.shape, dtype=bool)
    base[:30, :40] = True  # outside coverage (part of it falls in the box)
    masks = [base, base, base, base.copy(), base, np.zeros_like(base), base, base]
    masks[3][70, 50] = True  # one more invalid pixel, inside the box
    regridder = mf_weights.regridder()
    for k, mask in enumerate(masks):
        frame = rng.gamma(0.5, 2.0, mf_grid.shape).astype(np.float32)
        frame[mask] = np.nan
        got = regridder.regrid(frame)
        fresh = mf_weights.regridder().regrid(frame)  # the general path
        np.testing.assert_array_equal(got[0], fresh[0], err_msg=f"frame {k}")
        np.testing.assert_array_equal(got[1], fresh[1], err_msg=f"frame {k}")
    assert regridder._memo is not None and regridder._memo.matrix is not None


def test_float32_frames_agree_with_float64(mf_weights, mf_grid):
    rng = np.random.default_rng(3)
    frame = rng.gamma(0.5, 2.0, mf_grid.shape)
    frame[rng.random(mf_grid.shape) < 0.1] = np.nan
    m64, f64 = mf_weights.regrid(frame)
    m32, f32 = mf_weights.regrid(frame.astype(np.float32))
    np.testing.assert_allclose(m32, m64, rtol=2e-6)
    np.testing.assert_allclose(f32, f64, atol=1e-6)


def test_raw_counts_with_nodata_give_the_decoded_result(mf_weights, mf_grid):
    rng = np.random.default_rng(4)
    raw = rng.integers(0, 3000, mf_grid.shape).astype(np.uint16)
    raw[:40, :] = 65535
    decoded = np.where(raw == 65535, np.nan, raw * 0.01)
    m_raw, f_raw = mf_weights.regrid(raw, nodata=65535)
    m_dec, f_dec = mf_weights.regrid(decoded)
    np.testing.assert_allclose(m_raw * 0.01, m_dec, rtol=1e-12)  # linear: gain after
    np.testing.assert_array_equal(f_raw, f_dec)


def test_a_batch_is_the_frames_one_by_one(mf_weights, mf_grid):
    rng = np.random.default_rng(5)
    frames = rng.gamma(0.5, 2.0, (3, *mf_grid.shape)).astype(np.float32)
    frames[1, :50] = np.nan
    mean, fraction = mf_weights.regrid(frames)
    assert mean.shape == fraction.shape == (3, 10, 10)
    for k in range(3):
        one = mf_weights.regrid(frames[k])
        np.testing.assert_array_equal(mean[k], one[0])
        np.testing.assert_array_equal(fraction[k], one[1])


def test_only_the_window_is_read(mf_weights, mf_grid):
    rng = np.random.default_rng(6)
    frame = rng.random(mf_grid.shape)
    rows, cols = mf_weights.window
    outside = np.full(mf_grid.shape, np.inf)
    outside[rows, cols] = frame[rows, cols]
    np.testing.assert_array_equal(mf_weights.regrid(outside)[0], mf_weights.regrid(frame)[0])


def test_a_frame_of_another_shape_is_refused(mf_weights):
    with pytest.raises(ValueError, match=r"does not match the source grid 'mf-win'"):
        mf_weights.regrid(np.zeros((5, 5)))


def test_weights_on_the_window_give_the_numbers_of_whole_frames(mf_weights, mf_grid):
    rows, cols = mf_weights.window
    assert (rows.stop - rows.start) * (cols.stop - cols.start) < mf_grid.nx * mf_grid.ny
    windowed = mf_weights.on_window(rows, cols)
    assert windowed.source == mf_grid.window(rows, cols)
    assert windowed.matrix is mf_weights.matrix
    assert windowed.window == (slice(0, rows.stop - rows.start), slice(0, cols.stop - cols.start))
    rng = np.random.default_rng(7)
    whole, part = mf_weights.regridder(), windowed.regridder()
    # The general path, the fast path of the memorised mask, a pixel lost, the fast path.
    for k, lost in enumerate([False, False, False, True, True, True]):
        frame = rng.gamma(0.5, 2.0, mf_grid.shape).astype(np.float32)
        frame[:30, :40] = np.nan
        if lost:
            frame[70, 50] = np.nan
        expected = whole.regrid(frame)
        got = part.regrid(np.ascontiguousarray(frame[rows, cols]))
        np.testing.assert_array_equal(got[0], expected[0], err_msg=f"frame {k}")
        np.testing.assert_array_equal(got[1], expected[1], err_msg=f"frame {k}")
    assert part._memo is not None and part._memo.matrix is not None


def test_a_window_that_misses_used_pixels_is_refused(mf_weights):
    rows, cols = mf_weights.window
    with pytest.raises(ValueError, match=r"misses pixels that touch the box"):
        mf_weights.on_window(slice(rows.start + 1, rows.stop), cols)
