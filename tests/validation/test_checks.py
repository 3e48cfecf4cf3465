"""xarray alignment and convention checks: each classic mistake is caught by name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.validation import (
    GriddedConventions,
    ValidationError,
    check_alignment,
    find_alignment_failures,
    has_alignment,
    has_conventions,
)


def _checks(failures) -> set[str]:
    return {f.check for f in failures}


def test_aligned_pair_passes(imerg, radar, small_box) -> None:
    assert has_conventions(imerg) and has_conventions(radar)
    assert has_alignment(imerg, radar)
    check_alignment(
        imerg,
        radar,
        names=("imerg_cube", "radar_on_imerg"),
        variables=("precipitation", "rain"),
        box=small_box,
    )


def test_half_cell_shift_is_caught(imerg, radar, small_box) -> None:
    shifted = radar.assign_coords(lat=np.round(radar.lat.values + 0.05, 6))
    with pytest.raises(ValidationError) as err:
        check_alignment(imerg, shifted, names=("imerg_cube", "radar_on_imerg"), box=small_box)
    message = str(err.value)
    assert "imerg_cube vs radar_on_imerg: lat_identical failed" in message
    assert "[45.05, 45.1]" in message  # the offending pair of latitudes
    assert "radar_on_imerg: lat_box failed" in message


def test_float32_coordinates_are_caught(imerg, radar) -> None:
    f32 = radar.assign_coords(lat=radar.lat.values.astype(np.float32))
    failures = find_alignment_failures(imerg, f32, names=("imerg_cube", "radar_on_imerg"))
    assert "lat_float64" in _checks(failures)
    message = str(next(f for f in failures if f.check == "lat_float64"))
    assert "radar_on_imerg" in message and "float32" in message
    # the float32 values also differ from the float64 ones: not identical
    assert "lat_identical" in _checks(failures)


def test_descending_latitudes_are_caught(imerg, radar) -> None:
    flipped = radar.isel(lat=slice(None, None, -1))
    failures = find_alignment_failures(imerg, flipped, names=("imerg_cube", "radar_on_imerg"))
    assert "lat_ascending" in _checks(failures)
    assert any(f.dataset == "radar_on_imerg" and f.check == "lat_ascending" for f in failures)


def test_mm_against_mm_per_hour_is_caught(imerg, radar) -> None:
    radar["rain"].attrs["units"] = "mm"
    with pytest.raises(
        ValidationError, match=r"'precipitation' is in 'mm/h' but 'rain' is in 'mm'"
    ):
        check_alignment(
            imerg,
            radar,
            names=("imerg_cube", "radar_on_imerg"),
            variables=("precipitation", "rain"),
        )


def test_duplicated_times_are_caught(imerg) -> None:
    times = pd.DatetimeIndex(imerg.time.values)
    dup = imerg.assign_coords(time=times.where(np.arange(times.size) != 3, times[2]))
    with pytest.raises(ValidationError, match=r"imerg_cube: time_unique failed: 1 duplicated"):
        GriddedConventions(dataset="imerg_cube").validate(dup)


def test_imerg_units_spelling_is_caught(imerg) -> None:
    imerg["precipitation"].attrs["units"] = "mm/hr"
    with pytest.raises(ValidationError, match="rates are spelled 'mm/h'"):
        GriddedConventions(dataset="imerg_cube").validate(imerg)


def test_dims_order_is_caught(imerg) -> None:
    transposed = imerg.transpose("time", "lon", "lat")
    with pytest.raises(ValidationError, match="dims_order"):
        GriddedConventions(dataset="imerg_cube").validate(transposed)


def test_validator_returns_data_unchanged(imerg) -> None:
    assert GriddedConventions(dataset="imerg_cube").validate(imerg) is imerg


def test_unrounded_coordinates_are_caught(imerg) -> None:
    raw = imerg.assign_coords(lon=imerg.lon.values + 1e-9)
    failures = find_alignment_failures(imerg, raw, names=("a", "b"))
    assert "lon_rounded" in _checks(failures)
    assert isinstance(raw, xr.Dataset)
