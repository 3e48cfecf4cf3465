"""Files whose data cannot be trusted: named with a reason, and their half hour not scored."""

from __future__ import annotations

import datetime as dt

import h5py
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate import ColocationConfig, ColocationError, colocate_radar
from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar
from rainscore.testing import corrupt_hdf5_chunks

T0 = dt.datetime(2023, 6, 1, 12, 0)


def minutes(m: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=m)


def run(inventory, box, tmp_path, **params):
    return colocate_radar(
        inventory, box, cache_dir=tmp_path / "weights", config=ColocationConfig(**params)
    )


def checkerboard(grid, wet_mm: float = 0.2) -> np.ndarray:
    """Every other pixel wet: each IMERG cell holds dry and wet pixels."""
    yy, xx = np.mgrid[0 : grid.ny, 0 : grid.nx]
    return np.where((yy + xx) % 2 == 0, wet_mm, 0.0)


def imerg_like(radar: xr.Dataset) -> xr.Dataset:
    """An IMERG cube on the radar's half hours and cells (1 mm/h everywhere)."""
    return xr.Dataset(
        {"precipitation": xr.ones_like(radar["rain"]).fillna(1.0)},
        attrs={"product": "Final", "version": "V07B"},
    )


def set_gain(path, gain: float) -> None:
    with h5py.File(path, "r+") as h5:
        h5["dataset1/what"].attrs["gain"] = gain


def test_a_negative_gain_drops_the_frame_and_its_half_hour_is_not_scored(
    series, box, grid, tmp_path
):
    wet = checkerboard(grid)
    paths = [series.add(minutes(5 * k), wet) for k in range(1, 7)]
    set_gain(paths[2], -0.01)
    result = run(series.inventory(), box, tmp_path)
    ds = result.dataset
    assert [(b.path, b.reason, b.outcome) for b in result.bad_frames] == [
        (str(paths[2]), "negative_values", "skipped")
    ]
    assert "negative" in result.bad_frames[0].error
    assert ds["n_frames"].values.tolist() == [5]
    np.testing.assert_array_equal(ds["n_valid_frames"].values, 5)
    pairs = pair_imerg_radar(imerg_like(ds), ds, mask=MaskConfig())
    assert not pairs["mask"].values.any()  # not scored with dry pixels standing in for rain
    # the other frames' mean is untouched: 0.1 mm per 5 min on average = 1.2 mm/h
    np.testing.assert_allclose(ds["rain"].values, 1.2, rtol=0.05)


def test_a_large_share_above_max_rate_drops_the_frame(series, box, grid, tmp_path):
    absurd = np.full(grid.shape, 0.1)
    absurd[::10, :] = 40.0  # 480 mm/h on one row in ten (10 % of the pixels)
    for k in range(1, 7):
        series.add(minutes(5 * k), absurd if k == 4 else 0.1)
    result = run(series.inventory(), box, tmp_path)
    assert [(b.reason, b.outcome) for b in result.bad_frames] == [("above_max_rate", "skipped")]
    assert "above max_rate" in result.bad_frames[0].error
    assert result.dataset["n_frames"].values.tolist() == [5]
    assert result.dataset["n_impossible"].values.tolist() == [0]  # a dropped file counts nothing


def test_a_few_values_above_max_rate_are_masked_counted_and_reported(series, box, grid, tmp_path):
    field = np.full(grid.shape, 0.1)
    field[grid.ny // 2, grid.nx // 2] = 30.0
    paths = [series.add(minutes(5 * k), field if k == 2 else 0.1) for k in range(1, 7)]
    result = run(series.inventory(), box, tmp_path)
    assert result.dataset["n_frames"].values.tolist() == [6]
    assert result.dataset["n_impossible"].values.tolist() == [1]
    assert [(b.path, b.reason, b.outcome) for b in result.bad_frames] == [
        (str(paths[1]), "above_max_rate", "masked")
    ]


def test_the_share_of_impossible_values_is_a_parameter(series, box, grid, tmp_path):
    absurd = np.full(grid.shape, 0.1)
    absurd[::10, :] = 40.0
    series.add(minutes(5), absurd)
    result = run(series.inventory(), box, tmp_path, max_impossible_fraction=0.5)
    assert [b.outcome for b in result.bad_frames] == ["masked"]
    with pytest.raises(ValueError, match="max_impossible_fraction"):
        ColocationConfig(max_impossible_fraction=1.5)


def test_a_chunk_that_fails_to_decompress_is_named_with_its_reason(series, box, tmp_path):
    paths = [series.add(minutes(5 * k), 0.1) for k in range(1, 7)]
    corrupt_hdf5_chunks(paths[0])
    result = run(series.inventory(), box, tmp_path)
    assert [(b.path, b.reason, b.outcome) for b in result.bad_frames] == [
        (str(paths[0]), "corrupt_data", "skipped")
    ]


def test_an_all_nodata_file_is_reported(series, box, grid, tmp_path):
    paths = [series.add(minutes(5 * k), np.nan if k == 3 else 0.1) for k in range(1, 7)]
    result = run(series.inventory(), box, tmp_path)
    assert [(b.path, b.reason, b.outcome) for b in result.bad_frames] == [
        (str(paths[2]), "all_nodata", "no_data")
    ]
    np.testing.assert_array_equal(result.dataset["n_valid_frames"].values, 5)


def test_strict_mode_stops_on_impossible_values_naming_file_and_reason(series, box, grid, tmp_path):
    path = series.add(minutes(5), checkerboard(grid))
    set_gain(path, -0.01)
    with pytest.raises(ColocationError, match=f"{path}: negative_values"):
        run(series.inventory(), box, tmp_path, strict=True)


def test_the_problems_table_has_a_reason_for_every_row(series, box, grid, tmp_path):
    path = series.add(minutes(5), checkerboard(grid))
    set_gain(path, -0.01)
    table = run(series.inventory(), box, tmp_path).bad_frames_table()
    assert table.columns.tolist() == ["path", "error", "reason", "outcome"]
    assert table["reason"].notna().all()
    assert isinstance(table, pd.DataFrame)
