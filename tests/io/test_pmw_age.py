"""PMW age: hand-computed cases (gaps, Early vs Final) and a loop reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.io import pmw_age

NAN = np.nan


def _ds(source, minutes, times, product="Final"):
    """A (time, lat=1, lon=1) dataset with one pixel's history."""
    shape = (len(times), 1, 1)
    return xr.Dataset(
        {
            "mw_source": (("time", "lat", "lon"), np.reshape(source, shape).astype("f4")),
            "mw_observation_time": (
                ("time", "lat", "lon"),
                np.reshape(minutes, shape).astype("f4"),
            ),
        },
        coords={"time": pd.DatetimeIndex(times), "lat": [45.05], "lon": [2.05]},
        attrs={"product": product},
    )


HALF_HOURS = pd.date_range("2018-01-01T00:00", periods=6, freq="30min")
# Observed at 00:40 (00:30 + 10 min) and 02:25 (02:00 + 25 min).
SOURCE = [0, 3, 0, 0, 5, 0]
MINUTES = [NAN, 10, NAN, NAN, 25, NAN]


def test_final_forward_and_backward():
    ages = pmw_age(_ds(SOURCE, MINUTES, HALF_HOURS))
    # forward = 0 if observed in the half hour, else its start - last observation
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [NAN, 0, 20, 50, 0, 5])
    # backward = 0 if observed in the half hour, else next observation - its end
    np.testing.assert_array_equal(ages["pmw_age_backward"].values.ravel(), [10, 0, 55, 25, 0, NAN])
    assert ages["pmw_age_forward"].attrs["units"] == "min"
    assert ages["pmw_age_forward"].dims == ("time", "lat", "lon")
    assert ages["pmw_age_forward"].dtype == np.float32


def test_early_has_no_backward_age():
    ages = pmw_age(_ds(SOURCE, MINUTES, HALF_HOURS, product="Early"))
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [NAN, 0, 20, 50, 0, 5])
    assert np.isnan(ages["pmw_age_backward"].values).all()
    assert ages.attrs["product"] == "Early"


def test_product_argument_overrides_attrs():
    ages = pmw_age(_ds(SOURCE, MINUTES, HALF_HOURS, product="Final"), product="Early")
    assert np.isnan(ages["pmw_age_backward"].values).all()


def test_missing_half_hour_is_unknown_not_no_pmw():
    # 01:00 is missing: the pixel may have been seen then.
    keep = [0, 1, 3, 4, 5]
    ds = _ds(np.take(SOURCE, keep), np.take(MINUTES, keep), HALF_HOURS[keep])
    ages = pmw_age(ds)
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [NAN, 0, NAN, 0, 5])
    np.testing.assert_array_equal(ages["pmw_age_backward"].values.ravel(), [10, 0, 25, 0, NAN])


def test_gap_between_query_and_next_observation():
    times = HALF_HOURS[[0, 2, 3]]  # 00:30 missing
    ages = pmw_age(_ds([0, 0, 7], [NAN, NAN, 0], times))
    np.testing.assert_array_equal(ages["pmw_age_backward"].values.ravel(), [NAN, 0, 0])
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [NAN, NAN, 0])


def test_missing_source_value_is_unknown():
    ages = pmw_age(_ds([3, NAN, 0], [0, NAN, NAN], HALF_HOURS[:3]))
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [0, NAN, NAN])


def test_observation_without_time_counts_from_the_centre():
    ages = pmw_age(_ds([0, 9], [NAN, NAN], HALF_HOURS[:2]))
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.ravel(), [NAN, 0])
    np.testing.assert_array_equal(ages["pmw_age_backward"].values.ravel(), [15, 0])


def _reference(source, minutes, slots):
    """Loop over pixels and half hours: the definition, written plainly."""
    n_t, n_p = source.shape
    fwd = np.full((n_t, n_p), np.nan)
    bwd = np.full((n_t, n_p), np.nan)
    for p in range(n_p):
        for k in range(n_t):
            if source[k, p] > 0:  # observed during the half hour
                fwd[k, p] = bwd[k, p] = 0.0
                continue
            last = np.nan
            for j in range(k, -1, -1):
                if (j < k and slots[j + 1] - slots[j] > 1) or np.isnan(source[j, p]):
                    break
                if source[j, p] > 0:
                    m = 15 if np.isnan(minutes[j, p]) else minutes[j, p]
                    last = 30 * slots[j] + m
                    break
            fwd[k, p] = 30 * slots[k] - last
            nxt = np.nan
            for j in range(k, n_t):
                if (j > k and slots[j] - slots[j - 1] > 1) or np.isnan(source[j, p]):
                    break
                if source[j, p] > 0:
                    m = 15 if np.isnan(minutes[j, p]) else minutes[j, p]
                    nxt = 30 * slots[j] + m
                    break
            bwd[k, p] = nxt - (30 * slots[k] + 30)
    return fwd, bwd


def test_vectorised_matches_loop_reference():
    rng = np.random.default_rng(42)
    slots = np.sort(rng.choice(60, size=45, replace=False))
    slots -= slots[0]
    n_t, n_lat, n_lon = slots.size, 3, 4
    source = np.where(rng.random((n_t, n_lat, n_lon)) < 0.15, 5.0, 0.0)
    source[rng.random(source.shape) < 0.03] = np.nan
    minutes = np.where(source > 0, rng.integers(0, 30, source.shape), np.nan)
    minutes[(source > 0) & (rng.random(source.shape) < 0.1)] = np.nan
    times = pd.Timestamp("2019-07-01") + pd.to_timedelta(30 * slots, unit="min")
    ds = xr.Dataset(
        {
            "mw_source": (("time", "lat", "lon"), source.astype("f4")),
            "mw_observation_time": (("time", "lat", "lon"), minutes.astype("f4")),
        },
        coords={"time": times},
        attrs={"product": "Late"},
    )
    ages = pmw_age(ds)
    fwd, bwd = _reference(source.reshape(n_t, -1), minutes.reshape(n_t, -1), slots)
    np.testing.assert_array_equal(ages["pmw_age_forward"].values.reshape(n_t, -1), fwd)
    np.testing.assert_array_equal(ages["pmw_age_backward"].values.reshape(n_t, -1), bwd)
    assert np.isfinite(fwd).mean() > 0.3  # the case exercises real ages, not only NaN


def test_dask_chunks_in_space_give_the_same_result():
    ds = _ds(SOURCE, MINUTES, HALF_HOURS)
    tiled = xr.concat([ds] * 4, dim="lon").assign_coords(lon=[0.05, 0.15, 0.25, 0.35])
    eager = pmw_age(tiled)
    lazy = pmw_age(tiled.chunk({"lon": 2}))
    xr.testing.assert_identical(lazy.compute(), eager)


@pytest.mark.parametrize(
    ("times", "message"),
    [
        (HALF_HOURS[[1, 0, 2]], "strictly increasing"),
        (
            pd.DatetimeIndex(["2018-01-01T00:00", "2018-01-01T00:45", "2018-01-01T01:00"]),
            "whole number of half hours",
        ),
    ],
)
def test_bad_time_axes(times, message):
    with pytest.raises(ValueError, match=message):
        pmw_age(_ds([0, 0, 0], [NAN] * 3, times))


def test_unknown_product():
    with pytest.raises(ValueError, match="product must be one of"):
        pmw_age(_ds([0], [NAN], HALF_HOURS[:1], product=""))
