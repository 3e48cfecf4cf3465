"""SAL: hand-computed objects, symmetries, dry maps."""

from __future__ import annotations

import numpy as np
import pytest

from rainscore.scores import sal

from .conftest import as_maps, rain_arrays

DIAGONAL = np.hypot(10, 10)


def _block(rows: slice, cols: slice, value: float = 1.0) -> np.ndarray:
    field = np.zeros((1, 10, 10))
    field[0, rows, cols] = value
    return field


OBS = _block(slice(2, 4), slice(2, 4))

CASES = {
    # name: (forecast, S, A, L1, L2)
    "shifted": (_block(slice(2, 4), slice(6, 8)), 0.0, 0.0, 4.0 / DIAGONAL, 0.0),
    "doubled": (_block(slice(2, 4), slice(2, 4), 2.0), 0.0, 2.0 / 3.0, 0.0, 0.0),
    # Two diagonal pixels are two 4-connected objects of volume 1 each (V = 1 against 4),
    # each 0.5 sqrt(2) cells from the common centre of mass.
    "split": (
        np.where(np.eye(10, dtype=bool)[None] & (OBS > 0), 1.0, 0.0),
        (1.0 - 4.0) / 2.5,
        -2.0 / 3.0,
        0.0,
        2.0 * np.sqrt(0.5) / DIAGONAL,
    ),
}


@pytest.mark.parametrize(("forecast", "s", "a", "l1", "l2"), CASES.values(), ids=CASES.keys())
def test_hand_computed_cases(forecast, s, a, l1, l2) -> None:
    ds = sal(as_maps(forecast), as_maps(OBS))
    got = [ds[k].values[0] for k in ("structure", "amplitude", "location_l1", "location_l2")]
    np.testing.assert_allclose(got, [s, a, l1, l2], atol=1e-14)
    np.testing.assert_allclose(ds["location"].values[0], l1 + l2, atol=1e-14)


def test_field_against_itself_is_perfect(pair) -> None:
    _, obs = pair
    ds = sal(obs, obs)
    for name in ("structure", "amplitude", "location"):
        np.testing.assert_allclose(ds[name], 0.0, atol=1e-15)


def test_swapping_fields_flips_s_and_a_and_keeps_l(pair) -> None:
    fc, obs = pair
    a = sal(fc, obs)
    b = sal(obs, fc)
    np.testing.assert_allclose(a["structure"], -b["structure"], rtol=1e-12)
    np.testing.assert_allclose(a["amplitude"], -b["amplitude"], rtol=1e-12)
    np.testing.assert_allclose(a["location"], b["location"], rtol=1e-12)
    np.testing.assert_array_equal(a["n_objects_forecast"], b["n_objects_obs"])


def test_dry_maps() -> None:
    dry = np.zeros((1, 10, 10))
    both = sal(as_maps(dry), as_maps(dry))
    assert both["both_dry"].values[0]
    assert np.isnan([both[k].values[0] for k in ("structure", "amplitude", "location")]).all()
    one = sal(as_maps(dry), as_maps(OBS))
    assert not one["both_dry"].values[0]
    np.testing.assert_allclose([one["structure"].values[0], one["amplitude"].values[0]], -2.0)
    assert np.isnan(one["location"].values[0])  # no forecast object: L2 undefined


def test_small_objects_are_dropped() -> None:
    fc = OBS.copy()
    fc[0, 8, 8] = 1.0  # a lone pixel
    kept = sal(as_maps(fc), as_maps(OBS))
    dropped = sal(as_maps(fc), as_maps(OBS), min_object_pixels=2)
    assert kept["n_objects_forecast"].values[0] == 2
    assert dropped["n_objects_forecast"].values[0] == 1
    assert dropped["structure"].values[0] == 0.0


def test_object_threshold_is_a_fraction_of_the_wet_quantile() -> None:
    values = np.zeros((1, 10, 10))
    values[0, 0, :] = np.arange(1, 11)  # wet pixels 1..10 mm/h
    values[0, 1, 0] = 0.05  # below the wet threshold: not in the quantile
    ds = sal(as_maps(values), as_maps(values), threshold_ratio=0.5, quantile=0.5)
    np.testing.assert_allclose(ds["object_threshold_obs"].values, [0.5 * 5.5])


@pytest.mark.parametrize("q", [0.01, 0.3, 0.95, 1.0])
def test_object_threshold_is_numpys_quantile_of_the_wet_pixels(q: float) -> None:
    fc, obs = rain_arrays(8, (20, 30), seed=12)
    obs[3] = 0.0  # no wet pixel: no threshold
    obs[4] = np.round(obs[4])  # ties
    mask = np.random.default_rng(5).random(obs.shape) > 0.3
    ds = sal(as_maps(fc), as_maps(obs), mask=as_maps(mask).drop_attrs(), quantile=q)
    for i in range(obs.shape[0]):
        wet = obs[i][mask[i] & (obs[i] >= 0.1)]
        expected = np.quantile(wet, q) / 15.0 if wet.size else np.nan
        np.testing.assert_allclose(ds["object_threshold_obs"].values[i], expected, rtol=1e-15)
