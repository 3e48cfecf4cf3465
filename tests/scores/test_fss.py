"""FSS over valid pixels: hand-computed truncated windows, UFSS, skilful scale, properties."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.scores import fss
from rainscore.scores.neighbourhood import (
    _box_counts,
    _count_dtype,
    _inverse_window_sizes,
    _neighbourhood_sums,
    _summed_area_table,
    _table_width,
    _window_counts,
    neighbourhood_fractions,
)
from rainscore.scores.wetness import pixel_counts

from .conftest import as_maps, rain_arrays


def _one_event(ny: int, nx: int, row: int, col: int) -> np.ndarray:
    field = np.zeros((1, ny, nx))
    field[0, row, col] = 2.0
    return field


def test_hand_computed_truncated_windows() -> None:
    # 3 x 3 map; obs event at the centre, forecast event one cell to the right.
    obs = _one_event(3, 3, 1, 1)
    fc = _one_event(3, 3, 1, 2)
    ds = fss(as_maps(fc), as_maps(obs), thresholds=[1.0], windows=[1, 3], min_wet_fraction=0)
    # Window 3: valid pixels per window are 4 (corner), 6 (edge), 9 (centre). The obs fraction
    # is 1/V everywhere; the forecast fraction is 1/V in columns 1-2, 0 in column 0.
    numerator = 1 / 16 + 1 / 36 + 1 / 16
    denominator = (4 / 16 + 4 / 36 + 1 / 81) + (2 / 16 + 3 / 36 + 1 / 81)
    expected = [0.0, 1.0 - numerator / denominator]
    np.testing.assert_allclose(ds["fss"].values[0, 0], expected, rtol=1e-12)
    np.testing.assert_allclose(ds["base_rate"].values, [[1 / 9]])
    np.testing.assert_allclose(ds["fss_uniform"].values, [[0.5 + 1 / 18]])
    assert ds["skilful_scale"].values[0, 0] == 3


def test_masked_cells_leave_the_window_denominator() -> None:
    # 1 x 3 strip [event, masked, event]: with the middle cell masked, each valid cell's
    # 3-window holds itself and no other valid cell; zero-padding would give 1/9.
    obs = np.array([[[2.0, 0.0, 2.0]]])
    mask = xr.DataArray(np.array([[True, False, True]]), dims=("lat", "lon"))
    maps = as_maps(obs)
    mask = mask.assign_coords(lat=maps.lat, lon=maps.lon)
    ds = fss(
        maps,
        maps.copy(data=obs[:, :, ::-1].copy()),
        thresholds=[1.0],
        windows=[3],
        mask=mask,
        min_wet_fraction=0,
    )
    np.testing.assert_allclose(ds["fss"].values, [[[1.0]]])
    np.testing.assert_allclose(ds["base_rate"].values, [[1.0]])


def test_field_against_itself_is_perfect_and_fss_is_symmetric(pair) -> None:
    fc, obs = pair
    perfect = fss(obs, obs, min_wet_fraction=0)
    no_event = (perfect["base_rate"] == 0).values
    np.testing.assert_allclose(perfect["fss"].values[~no_event], 1.0, rtol=1e-12)
    assert np.isnan(perfect["fss"].values[no_event]).all()
    a = fss(fc, obs)
    b = fss(obs, fc)
    np.testing.assert_allclose(a["fss"], b["fss"], rtol=1e-12)


def test_fss_grows_towards_one_for_a_displaced_field() -> None:
    obs = np.zeros((1, 40, 40))
    obs[0, 15:25, 15:25] = 3.0
    fc = np.roll(obs, 4, axis=2)
    ds = fss(as_maps(fc), as_maps(obs), thresholds=[1.0], windows=[1, 3, 5, 9, 15])
    values = ds["fss"].values[0, 0]
    assert np.all(np.diff(values) > 0)
    assert (
        ds["skilful_scale"].values[0, 0]
        == ds["window"].values[np.argmax(values >= ds["fss_uniform"].values[0, 0])]
    )


def test_skilful_scale_is_nan_when_no_window_reaches_ufss() -> None:
    obs = _one_event(20, 20, 2, 2)
    fc = _one_event(20, 20, 17, 17)
    ds = fss(as_maps(fc), as_maps(obs), thresholds=[1.0], windows=[1, 3], min_wet_fraction=0)
    np.testing.assert_allclose(ds["fss"].values, 0.0)
    assert np.isnan(ds["skilful_scale"].values[0, 0])


def test_dry_and_near_dry_maps_get_nan_and_flags() -> None:
    obs = np.zeros((3, 10, 10))
    fc = np.zeros((3, 10, 10))
    obs[1, 5, 5] = 1.0
    obs[2, :5, :5] = fc[2, 1:6, 1:6] = 1.0
    ds = fss(as_maps(fc), as_maps(obs), thresholds=[0.5], min_wet_fraction=0.05)
    assert ds["both_dry"].values.tolist() == [True, False, False]
    assert ds["too_dry"].values.tolist() == [False, True, False]
    assert np.isnan(ds["fss"].values[:2]).all()
    assert np.isnan(ds["skilful_scale"].values[:2]).all()
    assert np.isfinite(ds["fss"].values[2]).all()


@pytest.mark.parametrize("windows", [(2, 3), (3, 1), (0, 1), (1.5,)])
def test_bad_windows_raise(pair, windows) -> None:
    fc, obs = pair
    with pytest.raises(ValueError, match="windows"):
        fss(fc, obs, thresholds=[1.0], windows=windows)


def _float_box_counts(values: np.ndarray, half: int) -> np.ndarray:
    """Sums of ``(n, ny, nx)`` values in truncated ``(2 half + 1)^2`` windows, in float64."""
    n, ny, nx = values.shape
    padded = np.zeros((n, ny + 2 * half + 1, nx + 2 * half + 1))
    padded[:, half + 1 : half + 1 + ny, half + 1 : half + 1 + nx] = values
    table = padded.cumsum(axis=1).cumsum(axis=2)
    w = 2 * half + 1
    return (
        table[:, w : w + ny, w : w + nx]
        - table[:, :ny, w : w + nx]
        - table[:, w : w + ny, :nx]
        + table[:, :ny, :nx]
    )


def _reference_fss(fc, obs, valid, thresholds, windows) -> np.ndarray:
    """FSS the direct way: float64 summed-area tables, fractions, then the three sums."""
    out = np.full((fc.shape[0], len(thresholds), len(windows)), np.nan)
    for j, window in enumerate(windows):
        n_valid = _float_box_counts(valid.astype(float), window // 2)
        inverse = np.where(valid, 1.0 / np.maximum(n_valid, 1.0), 0.0)
        for k, threshold in enumerate(thresholds):
            p_f = _float_box_counts((fc >= threshold) & valid, window // 2) * inverse
            p_o = _float_box_counts((obs >= threshold) & valid, window // 2) * inverse
            numerator = (p_f * p_o).sum(axis=(1, 2))
            denominator = (p_f**2 + p_o**2).sum(axis=(1, 2))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, k, j] = np.where(denominator > 0, 2.0 * numerator / denominator, np.nan)
    return out


@pytest.mark.parametrize(
    ("shape", "thresholds", "windows"),
    [
        ((72, 104), (0.1, 0.5, 1.0, 2.0, 5.0), (1, 3, 5, 9, 15)),  # 8-bit counts
        ((23, 37), (0.0, 0.3, 2.0), (3, 17, 31)),  # 16-bit counts; a threshold of 0
        ((6, 300), (0.2, 1.0), (3, 5)),  # rows too long for 8-bit row sums
    ],
)
def test_fss_equals_the_direct_formulation_on_masked_fields(shape, thresholds, windows) -> None:
    fc, obs = rain_arrays(7, shape, seed=11)
    rng = np.random.default_rng(3)
    mask = rng.random(fc.shape) > 0.15
    mask[:, : shape[0] // 3, : shape[1] // 4] = False  # a radar hole in a corner
    fc[rng.random(fc.shape) < 0.02] = np.nan
    valid = mask & np.isfinite(fc)
    ds = fss(
        as_maps(fc),
        as_maps(obs),
        mask=as_maps(mask).drop_attrs(),
        thresholds=thresholds,
        windows=windows,
        min_wet_fraction=0,
    )
    expected = _reference_fss(np.nan_to_num(fc), obs, valid, thresholds, windows)
    np.testing.assert_allclose(ds["fss"].values, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("window", [1, 3, 15, 17, 41])
def test_neighbourhood_fractions_are_exact_count_ratios(window: int) -> None:
    fc, _ = rain_arrays(3, (30, 45), seed=8)
    valid = np.random.default_rng(2).random(fc.shape) > 0.2
    got = neighbourhood_fractions(fc, valid, threshold=0.5, window=window)
    events = _float_box_counts((fc >= 0.5) & valid, window // 2)
    n_valid = _float_box_counts(valid.astype(float), window // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = np.where(valid, events / n_valid, np.nan)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(
        neighbourhood_fractions(fc[0], valid[0], threshold=0.5, window=window), expected[0]
    )


@pytest.mark.parametrize(
    ("window", "shape", "dtype"),
    [(15, (72, 104), np.uint8), (17, (72, 104), np.uint16), (3, (6, 300), np.uint16)],
)
def test_window_counts_use_the_narrowest_exact_integers(window, shape, dtype) -> None:
    assert _count_dtype(window, *shape) == np.dtype(dtype)


@pytest.mark.parametrize("windows", [(1, 3, 5, 9, 15), (5,), (1, 9)])  # table; sliding sums
@pytest.mark.parametrize("hole", [False, True])  # every pixel valid; a missing pixel per map
def test_unscored_maps_do_not_change_the_scored_ones(windows, hole) -> None:
    fc, obs = rain_arrays(9, (40, 50), seed=6)
    fc[[2, 5]] = obs[[2, 5]] = 0.0  # both dry
    fc[7] = obs[7] = np.where(np.arange(2000).reshape(40, 50) == 0, 3.0, 0.0)  # too dry
    if hole:
        fc[:, 20, 30] = np.nan
    together = fss(as_maps(fc), as_maps(obs), windows=windows)
    for i in range(9):
        alone = fss(as_maps(fc[i : i + 1]), as_maps(obs[i : i + 1]), windows=windows)
        for name in ("fss", "skilful_scale", "base_rate"):
            np.testing.assert_array_equal(together[name].values[i], alone[name].values[0])
    assert together["both_dry"].values[[2, 5]].all() and together["too_dry"].values[7]
    assert np.isnan(together["fss"].values[[2, 5, 7]]).all()
    assert np.isfinite(together["fss"].values[[0, 1, 3], 0]).all()


@pytest.mark.parametrize(("n_fields", "n_maps"), [(3, 1), (3, 21), (11, 8)])  # scan; scan; rows
@pytest.mark.parametrize(("pad", "dtype"), [(2, np.uint8), (9, np.uint16)])
def test_summed_area_tables_are_the_cumulative_sums_modulo_their_bits(
    n_fields, n_maps, pad, dtype
) -> None:
    stack = np.random.default_rng(5).random((n_fields, n_maps, 23, 37)) < 0.6
    table = _summed_area_table(stack, pad, np.dtype(dtype))
    padded = np.zeros((n_fields, n_maps, 23 + 2 * pad + 1, 37 + 2 * pad + 1), dtype=np.int64)
    padded[:, :, pad + 1 : pad + 24, pad + 1 : pad + 38] = stack
    expected = padded.cumsum(axis=2).cumsum(axis=3) % (np.iinfo(dtype).max + 1)
    np.testing.assert_array_equal(table[..., : expected.shape[-1]], expected)


@pytest.mark.parametrize(
    ("window", "shape"),
    [(3, (23, 37)), (5, (72, 104)), (15, (9, 12)), (17, (23, 37)), (5, (6, 300))],
)
def test_box_counts_of_one_window_are_the_window_counts_of_the_table(window, shape) -> None:
    # One window: sliding sums instead of a summed-area table, the same counts in the same
    # layout (8- and 16-bit counts, windows wider than the map).
    stack = np.random.default_rng(4).random((3, 2, *shape)) < 0.4
    half, dtype = window // 2, _count_dtype(window, *shape)
    width = _table_width(shape[1], half, dtype)
    table = _summed_area_table(stack, half, dtype)
    rows = np.empty((3, 2, shape[0], width), dtype=dtype)
    expected = _window_counts(table, half, half, shape[0], rows, np.empty_like(rows))
    got = _box_counts(stack, half, width, dtype)
    assert got.shape == expected.shape and got.dtype == dtype
    np.testing.assert_array_equal(got[..., : shape[1]], expected[..., : shape[1]])
    np.testing.assert_array_equal(
        got[..., : shape[1]],
        _float_box_counts(stack.reshape(6, *shape), half).reshape(got[..., : shape[1]].shape),
    )


@pytest.mark.parametrize("windows", [(5,), (3, 9), (15,), (3, 17)])
def test_all_valid_maps_skip_the_validity_field_for_the_same_sums(windows) -> None:
    # Every pixel valid: the window sizes come from the shape (cached), not from a table
    # of the validity; the sums are the same to the last bit.
    fc, obs = rain_arrays(3, (30, 41), seed=12)
    thresholds = (0.5, 2.0)
    events = [fc >= t for t in thresholds] + [obs >= t for t in thresholds]
    with_valid = np.stack([*events, np.ones_like(fc, dtype=bool)])
    windows = np.asarray(windows)
    expected = _neighbourhood_sums(with_valid, windows, 2)
    got = _neighbourhood_sums(with_valid[:-1], windows, 2, all_valid=True)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_inverse_window_sizes_of_a_full_map() -> None:
    inverse = _inverse_window_sizes(4, 5, 8, 1).reshape(4, 8)
    sizes = _float_box_counts(np.ones((1, 4, 5)), 1)[0]
    np.testing.assert_array_equal(inverse[:, :5], 1.0 / sizes)
    assert not inverse[:, 5:].any() and not inverse.flags.writeable


def test_fss_of_full_and_holed_maps_matches_the_direct_formulation() -> None:
    # Every pixel valid (no validity field) and one pixel missing (the validity field).
    fc, obs = rain_arrays(4, (40, 50), seed=13)
    mask = np.ones(fc.shape, dtype=bool)
    mask[:, 0, 0] = False
    masked_fc = fc.copy()
    masked_fc[:, 0, 0] = np.nan
    full = fss(as_maps(fc), as_maps(obs), thresholds=(1.0,), windows=(5,))
    holed = fss(as_maps(masked_fc), as_maps(obs), thresholds=(1.0,), windows=(5,))
    direct = _reference_fss(fc, obs, np.ones(fc.shape, bool), (1.0,), (5,))
    np.testing.assert_allclose(full["fss"].values, direct, rtol=1e-12)
    direct_holed = _reference_fss(np.nan_to_num(masked_fc), obs * mask, mask, (1.0,), (5,))
    np.testing.assert_allclose(holed["fss"].values, direct_holed, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4, 50), (7, 0), (2, 5, 1)])
def test_pixel_counts_count_along_the_last_axis(shape) -> None:
    pixels = np.random.default_rng(0).random(shape) < 0.5
    got = pixel_counts(pixels)
    np.testing.assert_array_equal(got, np.count_nonzero(pixels, axis=-1))
    assert got.dtype == np.int64 and got.shape == shape[:-1]
