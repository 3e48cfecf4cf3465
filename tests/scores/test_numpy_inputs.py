"""Plain NumPy fields in, plain NumPy results out: the same values as the labelled calls."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.scores import ContingencyAccumulator, categorical_scores, fss

from .conftest import as_maps, rain_arrays


def special_maps() -> tuple[np.ndarray, np.ndarray]:
    """Five maps: wet with NaN holes, too dry, both dry, no data (all NaN), plainly wet."""
    fc, obs = rain_arrays(5, (24, 32), seed=3)
    fc[0, 2:6, 3:9] = np.nan
    obs[0, 10:12, :] = np.nan
    fc[1], obs[1] = 0.0, 0.0
    fc[1, 0, 0] = 3.0  # one wet pixel of 768: too dry
    fc[2], obs[2] = 0.0, 0.0  # both dry
    fc[3] = np.nan  # no data
    return fc, obs


def assert_same_bits(arrays: dict[str, np.ndarray], labelled: xr.Dataset) -> None:
    assert set(arrays) == set(labelled.data_vars)
    for name, values in arrays.items():
        expected = labelled[name].values
        assert isinstance(values, np.ndarray | np.generic), name
        assert np.shape(values) == expected.shape, name
        assert np.asarray(values).dtype == expected.dtype, name
        np.testing.assert_array_equal(values, expected, strict=True, err_msg=name)
        assert np.asarray(values).tobytes() == expected.tobytes(), name


MASK = np.ones((24, 32), dtype=bool)
MASK[:, :5] = False


@pytest.mark.parametrize("mask", [None, MASK], ids=["no mask", "mask"])
@pytest.mark.parametrize(
    "options",
    [
        {"thresholds": (1.0,), "windows": (5,)},
        {"thresholds": (0.0, 0.5, 2.0), "windows": (1, 3, 9)},
        {},
    ],
    ids=["one", "several with 0", "defaults"],
)
def test_fss_of_numpy_fields_equals_the_labelled_call_bit_for_bit(options, mask) -> None:
    fc, obs = special_maps()
    labelled_mask = None if mask is None else xr.DataArray(mask, dims=("lat", "lon"))
    labelled = fss(as_maps(fc), as_maps(obs), mask=labelled_mask, **options)
    assert_same_bits(fss(fc, obs, mask=mask, **options), labelled)
    for i in range(fc.shape[0]):  # one 2-D map: the map axis is dropped
        one = fss(fc[i], obs[i], mask=mask, **options)
        assert_same_bits(one, labelled.isel(time=i, drop=True))


@pytest.mark.parametrize("mask", [None, MASK], ids=["no mask", "mask"])
@pytest.mark.parametrize("thresholds", [(1.0,), (0.0, 0.1, 1.0, 5.0)])
def test_categorical_scores_of_numpy_fields_equal_the_labelled_call(thresholds, mask) -> None:
    fc, obs = special_maps()
    labelled_mask = None if mask is None else xr.DataArray(mask, dims=("lat", "lon"))
    labelled = categorical_scores(
        as_maps(fc), as_maps(obs), mask=labelled_mask, thresholds=thresholds
    )
    assert_same_bits(categorical_scores(fc, obs, mask=mask, thresholds=thresholds), labelled)
    for i in range(fc.shape[0]):
        one = categorical_scores(fc[i], obs[i], mask=mask, thresholds=thresholds)
        assert_same_bits(one, labelled.isel(time=i, drop=True))


@pytest.mark.parametrize("mask", [None, MASK], ids=["no mask", "mask"])
def test_contingency_accumulator_takes_numpy_fields(mask) -> None:
    fc, obs = special_maps()
    labelled_mask = None if mask is None else xr.DataArray(mask, dims=("lat", "lon"))
    labelled = ContingencyAccumulator((0.0, 1.0)).accumulate(
        as_maps(fc), as_maps(obs), mask=labelled_mask
    )
    plain = ContingencyAccumulator((0.0, 1.0)).accumulate(fc, obs, mask=mask)
    by_map = ContingencyAccumulator((0.0, 1.0))
    for i in range(fc.shape[0]):
        by_map.accumulate(fc[i], obs[i], mask=mask)
    for name, counts in labelled.counts.items():
        np.testing.assert_array_equal(plain.counts[name], counts, strict=True)
        np.testing.assert_array_equal(by_map.counts[name], counts, strict=True)
    assert_same_bits(plain.compute_arrays(), labelled.compute())


def test_numpy_fields_are_checked_naming_the_argument() -> None:
    fc, obs = rain_arrays(2, (8, 10), seed=0)
    with pytest.raises(TypeError, match="both DataArrays or both numpy"):
        fss(as_maps(fc), obs)
    with pytest.raises(ValueError, match=r"obs has shape \(2, 8, 9\)"):
        fss(fc, obs[..., :9])
    with pytest.raises(ValueError, match=r"forecast must be 2-D .* got shape \(16, 10, 1, 1\)"):
        categorical_scores(fc.reshape(16, 10, 1, 1), obs.reshape(16, 10, 1, 1))
    with pytest.raises(ValueError, match=r"mask of shape \(8, 9\)"):
        fss(fc, obs, mask=np.ones((8, 9), dtype=bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        fss(fc, obs, mask=np.ones((8, 10)))
    with pytest.raises(ValueError, match="reduce_dims applies to DataArrays"):
        categorical_scores(fc, obs, reduce_dims=("lat",))
    obs[1, 2, 3] = -1.0
    with pytest.raises(ValueError, match="obs has 1 valid pixels with a negative rain rate"):
        fss(fc, obs)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"thresholds": ()}, r"thresholds must be a non-empty 1-D list of finite numbers"),
        ({"thresholds": (1.0, np.nan)}, r"finite numbers, got \(1.0, nan\)"),
        ({"thresholds": (2.0, 1.0)}, r"thresholds must be strictly increasing, got \[2.0, 1.0\]"),
        ({"thresholds": (1.0, 1.0)}, r"strictly increasing, got \[1.0, 1.0\]"),
        ({"windows": (3.0,)}, r"windows must be a non-empty 1-D list of integers"),
        ({"windows": (4,)}, r"windows must be positive odd numbers of cells, got \[4\]"),
        ({"windows": (-1, 3)}, r"positive odd numbers of cells, got \[-1, 3\]"),
        ({"windows": (5, 3)}, r"windows must be strictly increasing, got \[5, 3\]"),
    ],
)
def test_thresholds_and_windows_are_checked_with_their_values(options, match) -> None:
    fc, obs = rain_arrays(1, (8, 10), seed=0)
    with pytest.raises(ValueError, match=match):
        fss(fc, obs, **options)
    with pytest.raises(ValueError, match=match):
        fss(as_maps(fc), as_maps(obs), **options)
