"""Input checks, alignment by name and the validity mask."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.scores import check_pair, continuous_scores, pairing
from rainscore.scores.pairing import pair_fields

from .conftest import fake_pair


def test_obs_may_come_transposed_and_mask_is_broadcast_by_name() -> None:
    fc, obs = fake_pair(3, (8, 9))
    mask = xr.DataArray(
        np.ones((9, 8), bool), dims=("lon", "lat"), coords={"lon": fc.lon, "lat": fc.lat}
    )
    mask[0, 0] = False
    pair = pair_fields(fc, obs.transpose("lon", "time", "lat"), mask=mask)
    assert pair.forecast.shape == (3, 8, 9)
    assert pair.map_dims == ("time",)
    np.testing.assert_array_equal(pair.obs, np.where(pair.valid, obs.values, 0.0))
    assert not pair.valid[:, 0, 0].any() and pair.valid.sum() == 3 * (72 - 1)


def test_invalid_pixels_are_nan_or_masked_and_zeroed() -> None:
    fc, obs = fake_pair(2, (5, 6))
    fc[0, 1, 1] = np.nan
    obs[1, 2, 2] = np.inf
    pair = pair_fields(fc, obs)
    assert not pair.valid[0, 1, 1] and not pair.valid[1, 2, 2]
    assert pair.forecast[0, 1, 1] == 0.0 and pair.obs[1, 2, 2] == 0.0
    assert pair.valid.sum() == 2 * 30 - 2


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda f, o: (f.values, o, None), TypeError, "forecast must be an xarray.DataArray"),
        (lambda f, o: (f, o.rename(lat="y"), None), ValueError, "same dims"),
        (lambda f, o: (f, o.assign_coords(lat=o.lat + 0.1), None), ValueError, "coordinates"),
        (lambda f, o: (f, o.assign_attrs(units="mm"), None), ValueError, "units 'mm'"),
        (lambda f, o: (f, o, xr.ones_like(f)), TypeError, "mask must be boolean"),
        (lambda f, o: (f, o, xr.DataArray(np.ones(3, bool), dims="x")), ValueError, "not in"),
    ],
)
def test_bad_inputs_raise_with_a_precise_message(change, error, match) -> None:
    fc, obs = fake_pair(2, (4, 5))
    forecast, observed, mask = change(fc, obs)
    with pytest.raises(error, match=match):
        check_pair(forecast, observed, mask=mask)


def test_negative_rain_rates_are_refused_naming_the_field() -> None:
    fc, obs = fake_pair(2, (4, 5))
    obs[0, 0, 0] = -1.0
    with pytest.raises(ValueError, match="obs has 1 valid pixels with a negative"):
        continuous_scores(fc, obs)


def test_negative_values_under_the_mask_are_ignored() -> None:
    fc, obs = fake_pair(2, (4, 5))
    obs[0, 0, 0] = -1.0
    mask = xr.ones_like(obs, dtype=bool)
    mask[0, 0, 0] = False
    assert continuous_scores(fc, obs, mask=mask)["n_valid"].values.tolist() == [19, 20]


def test_reduce_dims_must_exist() -> None:
    fc, obs = fake_pair(2, (4, 5))
    with pytest.raises(ValueError, match="not in forecast dims"):
        continuous_scores(fc, obs, reduce_dims=("lat", "height"))


@pytest.mark.parametrize("direct", [True, False])
def test_to_dataset_is_the_dataset_xarray_builds_from_the_same_dataarrays(
    direct: bool, monkeypatch
) -> None:
    if not direct:  # the public constructor, should xarray drop Dataset._construct_direct
        monkeypatch.setattr(pairing, "_CONSTRUCT_DIRECT", None)
    fc, obs = fake_pair(3, (4, 5))
    fc = fc.assign_coords(run=("time", [1, 2, 3]), source="imerg")
    fc.time.attrs["long_name"] = "time"
    pair = pair_fields(fc, obs)
    thresholds = np.array([0.5, 1.0])
    results = {
        "score": np.arange(6.0).reshape(3, 2),
        "count": np.array([1, 2, 3]),
        "flag": np.array([True, False, True]),
    }
    attrs = {"score": {"units": "1"}}
    ds = pair.to_dataset(
        results,
        extra_coords={"threshold": (thresholds, "mm/h")},
        attrs=attrs,
        dataset_attrs={"a": 1},
    )
    coords = {name: fc.coords[name] for name in ("time", "run", "source")}
    expected = xr.Dataset(
        {
            "score": xr.DataArray(
                results["score"],
                dims=("time", "threshold"),
                coords={**coords, "threshold": ("threshold", thresholds, {"units": "mm/h"})},
                attrs=attrs["score"],
            ),
            "count": xr.DataArray(results["count"], dims="time", coords=coords),
            "flag": xr.DataArray(results["flag"], dims="time", coords=coords),
        },
        attrs={"a": 1},
    )
    xr.testing.assert_identical(ds, expected)
    xr.testing._assert_internal_invariants(ds, check_default_indexes=True)
    assert list(ds.variables) == list(expected.variables)
    assert ds.time.attrs == {"long_name": "time"} and ds.time.attrs is not fc.time.attrs
    ds["score"].attrs["units"] = "changed"
    ds["threshold"].attrs["units"] = "changed"
    assert attrs["score"] == {"units": "1"}
    again = pair.to_dataset(results, extra_coords={"threshold": (thresholds, "mm/h")})
    assert again["threshold"].attrs == {"units": "mm/h"}  # the cached coordinate is intact


def test_all_valid_fields_are_read_only_views_and_never_copied() -> None:
    fc, obs = fake_pair(2, (4, 5))
    pair = pair_fields(fc, obs)
    assert np.shares_memory(pair.forecast, fc.values) and not pair.forecast.flags.writeable
    assert fc.values.flags.writeable
