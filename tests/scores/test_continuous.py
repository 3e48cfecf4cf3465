"""Continuous scores: hand-computed cases and properties (pysteps: test_pysteps_agreement)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from rainscore.scores import continuous_scores

from .conftest import as_maps, rain_arrays

FC = np.array([[[1.0, 2.0], [0.0, 4.0]]])
OBS = np.array([[[2.0, 2.0], [0.0, 1.0]]])
R = 1.25 / np.sqrt(8.75 * 2.75)
ALPHA, BETA = np.sqrt(8.75 / 2.75), 1.75 / 1.25

HAND = {
    "me": 0.5,
    "rel_bias": 0.4,
    "mae": 1.0,
    "rmse": np.sqrt(2.5),
    "pearson": R,
    "spearman": 1.5 / np.sqrt(5.0 * 4.5),  # ranks f (2, 3, 1, 4), o (3.5, 3.5, 1, 2)
    "kge": 1.0 - np.sqrt((R - 1) ** 2 + (ALPHA - 1) ** 2 + (BETA - 1) ** 2),
    # wet pixels: the (0 mm/h, 0 mm/h) pixel is dropped
    "me_wet": 2.0 / 3.0,
    "rel_bias_wet": 0.4,
    "mae_wet": 4.0 / 3.0,
    "rmse_wet": np.sqrt(10.0 / 3.0),
    "spearman_wet": -1.5 / np.sqrt(2.0 * 1.5),  # ranks f (1, 2, 3), o (2.5, 2.5, 1)
    "n_valid": 4,
    "n_wet": 3,
}


@pytest.mark.parametrize(("name", "expected"), HAND.items())
def test_hand_computed_case(name: str, expected: float) -> None:
    ds = continuous_scores(as_maps(FC), as_maps(OBS))
    np.testing.assert_allclose(ds[name].values, [expected], rtol=1e-12)


def test_field_against_itself_is_perfect(pair) -> None:
    _, obs = pair
    ds = continuous_scores(obs, obs)
    for name in ("me", "mae", "rmse", "me_wet", "mae_wet", "rmse_wet", "rel_bias"):
        np.testing.assert_allclose(ds[name], 0.0, atol=1e-15)
    for name in ("pearson", "spearman", "kge", "pearson_wet", "spearman_wet", "kge_wet"):
        np.testing.assert_allclose(ds[name], 1.0, rtol=1e-12)


def test_swapping_fields_flips_me_and_keeps_symmetric_scores(pair) -> None:
    fc, obs = pair
    a = continuous_scores(fc, obs)
    b = continuous_scores(obs, fc)
    for name in ("me", "me_wet"):
        np.testing.assert_allclose(a[name], -b[name], rtol=1e-12)
    for name in ("mae", "rmse", "pearson", "spearman", "mae_wet", "pearson_wet", "spearman_wet"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12)
    np.testing.assert_array_equal(a["n_wet"], b["n_wet"])


def test_both_dry_maps_get_nan_ratio_scores_and_a_flag() -> None:
    fc = np.zeros((2, 3, 3))
    obs = np.zeros((2, 3, 3))
    obs[0, 0, 0] = 0.05  # drizzle below the wet threshold: still both dry
    obs[1, 1, 1] = 2.0
    ds = continuous_scores(as_maps(fc), as_maps(obs))
    assert ds["both_dry"].values.tolist() == [True, False]
    for name in ("rel_bias", "pearson", "spearman", "kge", "me_wet", "pearson_wet"):
        assert np.isnan(ds[name].values[0]), name
    np.testing.assert_allclose(ds["me"].values[0], -0.05 / 9)
    np.testing.assert_allclose(ds["rel_bias"].values[1], -1.0)
    assert np.isnan(ds["pearson"].values[1])  # constant forecast: undefined, not 0


def test_reduce_dims_over_everything_pools_all_maps(pair) -> None:
    fc, obs = pair
    pooled = continuous_scores(fc, obs, reduce_dims=("time", "lat", "lon"))
    flat = continuous_scores(
        fc.stack(cell=("time", "lat", "lon")).expand_dims("one"),
        obs.stack(cell=("time", "lat", "lon")).expand_dims("one"),
        reduce_dims=("cell",),
    )
    assert pooled["me"].dims == ()
    for name in ("me", "rmse", "pearson", "spearman", "kge_wet"):
        np.testing.assert_allclose(pooled[name].values, flat[name].values[0], rtol=1e-12)


def test_masked_pixels_are_excluded(pair) -> None:
    fc, obs = pair
    mask = xr.ones_like(obs.isel(time=0), dtype=bool)
    mask[:20] = False
    masked = continuous_scores(fc, obs, mask=mask)
    cropped = continuous_scores(fc.isel(lat=slice(20, None)), obs.isel(lat=slice(20, None)))
    xr.testing.assert_allclose(masked, cropped)


@pytest.mark.parametrize("decimals", [None, 1])
def test_correlations_match_scipy_on_masked_fields_with_ties(decimals) -> None:
    fc, obs = rain_arrays(6, (30, 40), seed=9)
    if decimals is not None:  # quantised rates: many ties among the positive values
        fc, obs = np.round(fc, decimals), np.round(obs, decimals)
    fc[1] = 0.0  # a dry forecast: the wet-pixel scores still exist
    fc[2] = np.where(fc[2] > 0, 1.5, 0.0)  # two values only
    rng = np.random.default_rng(4)
    mask = rng.random(fc.shape) > 0.25
    ds = continuous_scores(as_maps(fc), as_maps(obs), mask=as_maps(mask).drop_attrs())
    wet = mask & ((fc >= 0.1) | (obs >= 0.1))
    for i in range(fc.shape[0]):
        for suffix, sel in (("", mask[i]), ("_wet", wet[i])):
            f, o = fc[i][sel], obs[i][sel]
            if np.ptp(f) == 0 or np.ptp(o) == 0:
                assert np.isnan(ds["spearman" + suffix].values[i])
                assert np.isnan(ds["pearson" + suffix].values[i])
                continue
            spearman = stats.spearmanr(f, o).statistic
            pearson = stats.pearsonr(f, o).statistic
            np.testing.assert_allclose(ds["spearman" + suffix].values[i], spearman, rtol=1e-12)
            np.testing.assert_allclose(ds["pearson" + suffix].values[i], pearson, rtol=1e-10)
