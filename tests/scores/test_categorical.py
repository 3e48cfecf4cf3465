"""Categorical scores: hand-computed contingency tables, dryness gates, streaming tables."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.scores import ContingencyAccumulator, categorical_scores

from .conftest import as_maps, fake_pair

# One 2 x 3 map; events are >= threshold, so 0.5 is an event at 0.5.
FC = np.array([[[0.0, 0.5, 1.0], [2.0, 5.0, 0.2]]])
OBS = np.array([[[0.1, 0.5, 0.0], [3.0, 4.0, 0.0]]])

# threshold: (hits, misses, false alarms, correct negatives)
TABLES = {0.1: (3, 1, 2, 0), 0.5: (3, 0, 1, 2), 1.0: (2, 0, 1, 3), 5.0: (0, 0, 1, 5)}


def _expected(h: int, m: int, f: int, r: int) -> dict[str, float]:
    n = h + m + f + r
    hr = (h + m) * (h + f) / n

    def ratio(a: float, b: float) -> float:
        return a / b if b else np.nan

    return {
        "pod": ratio(h, h + m),
        "far": ratio(f, h + f),
        "csi": ratio(h, h + m + f),
        "ets": ratio(h - hr, h + m + f - hr),
        "hss": ratio(2 * (h * r - f * m), (h + m) * (m + r) + (h + f) * (f + r)),
        "frequency_bias": ratio(h + f, h + m),
    }


@pytest.mark.parametrize(("threshold", "table"), TABLES.items())
def test_hand_computed_tables_and_scores(threshold: float, table: tuple[int, ...]) -> None:
    ds = categorical_scores(as_maps(FC), as_maps(OBS), thresholds=[threshold], min_wet_fraction=0)
    counts = [
        int(ds[c].values[0, 0]) for c in ("hits", "misses", "false_alarms", "correct_negatives")
    ]
    assert counts == list(table)
    for name, value in _expected(*table).items():
        np.testing.assert_allclose(ds[name].values[0, 0], value, rtol=1e-12, err_msg=name)


def test_known_values_at_one_mm_per_hour() -> None:
    ds = categorical_scores(as_maps(FC), as_maps(OBS), thresholds=[1.0], min_wet_fraction=0)
    got = {k: float(ds[k].values[0, 0]) for k in ("pod", "far", "csi", "ets", "hss")}
    assert got == pytest.approx({"pod": 1.0, "far": 1 / 3, "csi": 2 / 3, "ets": 0.5, "hss": 2 / 3})


def test_field_against_itself_is_perfect(pair) -> None:
    _, obs = pair
    ds = categorical_scores(obs, obs, min_wet_fraction=0)
    no_event = (ds["hits"] == 0).values
    for name, perfect in (
        ("pod", 1),
        ("far", 0),
        ("csi", 1),
        ("hss", 1),
        ("ets", 1),
        ("frequency_bias", 1),
    ):
        np.testing.assert_allclose(ds[name].values[~no_event], perfect, err_msg=name)
        assert np.isnan(ds[name].values[no_event]).all(), name


def test_swapping_fields_swaps_misses_and_false_alarms(pair) -> None:
    fc, obs = pair
    a = categorical_scores(fc, obs)
    b = categorical_scores(obs, fc)
    np.testing.assert_array_equal(a["misses"], b["false_alarms"])
    for name in ("csi", "ets", "hss"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-12)
    both = np.isfinite(a["frequency_bias"] * b["frequency_bias"]).values
    np.testing.assert_allclose(
        a["frequency_bias"].values[both], 1 / b["frequency_bias"].values[both], rtol=1e-12
    )


def test_dry_and_near_dry_maps_get_nan_and_flags() -> None:
    fc = np.zeros((3, 10, 10))
    obs = np.zeros((3, 10, 10))
    obs[1, 0, 0] = 3.0  # 1 wet pixel of 100: too dry for min_wet_fraction = 0.05
    fc[2, :3, :3] = obs[2, :3, :3] = 3.0  # 9 %: scored
    ds = categorical_scores(as_maps(fc), as_maps(obs), min_wet_fraction=0.05)
    assert ds["both_dry"].values.tolist() == [True, False, False]
    assert ds["too_dry"].values.tolist() == [False, True, False]
    np.testing.assert_allclose(ds["wet_fraction"], [0.0, 0.01, 0.09])
    assert np.isnan(ds["csi"].values[:2]).all()
    assert ds["misses"].values[1, 0] == 1  # counts are still reported
    np.testing.assert_allclose(ds["csi"].values[2, :4], 1.0)
    assert np.isnan(ds["csi"].values[2, 4])  # no event >= 5 mm/h in either field: 0/0


def test_reduce_over_time_pools_the_tables(pair) -> None:
    fc, obs = pair
    per_map = categorical_scores(fc, obs)
    pooled = categorical_scores(fc, obs, reduce_dims=("time", "lat", "lon"))
    np.testing.assert_array_equal(pooled["hits"], per_map["hits"].sum("time"))


def test_accumulator_merges_to_the_pooled_table(pair) -> None:
    fc, obs = pair
    first = ContingencyAccumulator((0.1, 1.0)).accumulate(fc[:2], obs[:2])
    second = ContingencyAccumulator((0.1, 1.0)).accumulate(fc[2:], obs[2:])
    merged = first.merge(second).compute()
    pooled = categorical_scores(
        fc, obs, thresholds=(0.1, 1.0), reduce_dims=("time", "lat", "lon"), min_wet_fraction=0
    )
    xr.testing.assert_allclose(merged, pooled[list(merged.data_vars)].drop_vars([]))
    with pytest.raises(ValueError, match="cannot merge"):
        first.merge(ContingencyAccumulator((0.5,)))


@pytest.mark.parametrize("thresholds", [(), (1.0, 0.5), (0.1, np.nan)])
def test_bad_thresholds_raise(pair, thresholds) -> None:
    fc, obs = pair
    with pytest.raises(ValueError, match="thresholds"):
        categorical_scores(fc, obs, thresholds=thresholds)


def test_a_threshold_of_zero_counts_only_valid_pixels() -> None:
    fc, obs = fake_pair(2, (6, 7), seed=4)
    fc[0, :2] = np.nan
    mask = xr.DataArray(np.arange(42).reshape(6, 7) % 5 != 0, dims=("lat", "lon"))
    ds = categorical_scores(fc, obs, thresholds=(0.0, 1.0), mask=mask, min_wet_fraction=0)
    n_valid = ds["n_valid"].values
    assert n_valid.tolist() == [22, 33]
    np.testing.assert_array_equal(ds["hits"].values[:, 0], n_valid)  # every rate >= 0
    for count in ("misses", "false_alarms", "correct_negatives"):
        np.testing.assert_array_equal(ds[count].values[:, 0], [0, 0])
    total = sum(ds[c].values[:, 1] for c in ("hits", "misses", "false_alarms", "correct_negatives"))
    np.testing.assert_array_equal(total, n_valid)


@pytest.mark.parametrize("case", ["plain", "nan", "too_dry", "both_dry", "no_data"])
def test_one_map_one_threshold_equals_the_direct_counts(case: str) -> None:
    # The small call of issue 11 (one map, one threshold), with missing pixels and the
    # dryness rules, against counts taken the direct way.
    fc, obs = fake_pair(1, (30, 40), seed=7)
    fc, obs = fc.copy(), obs.copy()
    if case == "nan":
        fc[0, :5, :6] = np.nan
        obs[0, 10, :] = np.inf
    elif case == "too_dry":  # 3 wet pixels of 1200, under 1 %
        fc[:] = obs[:] = 0.0
        fc[0, 0, :2] = obs[0, 1, 0] = 4.0
    elif case == "both_dry":
        fc[:] = obs[:] = 0.0
    elif case == "no_data":
        fc[:] = np.nan
    ds = categorical_scores(fc, obs, thresholds=(1.0,))
    f, o = fc.values[0], obs.values[0]
    valid = np.isfinite(f) & np.isfinite(o)
    ev_f, ev_o = (f >= 1.0) & valid, (o >= 1.0) & valid
    h, m = int((ev_f & ev_o).sum()), int((~ev_f & ev_o).sum())
    fa, r = int((ev_f & ~ev_o).sum()), int((valid & ~ev_f & ~ev_o).sum())
    got = [int(ds[c].values[0, 0]) for c in ("hits", "misses", "false_alarms", "correct_negatives")]
    assert got == [h, m, fa, r]
    n_wet = int((valid & ((f >= 0.1) | (o >= 0.1))).sum())
    assert ds["n_valid"].values.tolist() == [int(valid.sum())]
    scored = n_wet > 0 and n_wet / valid.sum() >= 0.01
    assert ds["too_dry"].values.tolist() == [n_wet > 0 and not scored]
    assert ds["both_dry"].values.tolist() == [valid.any() and n_wet == 0]
    for name, value in _expected(h, m, fa, r).items() if scored else ():
        np.testing.assert_allclose(ds[name].values[0, 0], value, rtol=1e-14)
    if not scored:
        assert all(np.isnan(ds[name].values).all() for name in _expected(1, 1, 1, 1))
    pooled = ContingencyAccumulator((1.0,)).accumulate(fc, obs).compute()
    assert [int(pooled[c].values[0]) for c in ("hits", "misses")] == [h, m]
