"""FSS over valid pixels: hand-computed truncated windows, UFSS, skilful scale, properties."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.scores import fss

from .conftest import as_maps


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
