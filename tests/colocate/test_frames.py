"""The radar frame model: kinds, weights, and the model a radar inventory implies."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.colocate import ACCUMULATION, RATE, FrameModel, frame_model
from rainscore.colocate.frames import frame_times, inventory_frame_times


def test_five_minute_accumulations() -> None:
    model = FrameModel(ACCUMULATION, 5)
    assert model.frames_per_half_hour == 6
    assert model.weights == (1, 1, 1, 1, 1, 1)
    assert model.total_weight == 6
    assert model.describe() == "5-minute accumulations (6 per half hour)"


def test_fifteen_minute_rates_have_trapezoid_weights() -> None:
    model = FrameModel(RATE, 15)
    assert model.frames_per_half_hour == 3
    weights = np.array(model.weights) / model.total_weight
    np.testing.assert_allclose(weights, [0.25, 0.5, 0.25])
    five = FrameModel(RATE, 5)
    assert five.frames_per_half_hour == 7
    np.testing.assert_allclose(
        np.array(five.weights) / five.total_weight, [1, 2, 2, 2, 2, 2, 1] / np.float64(12)
    )


@pytest.mark.parametrize(
    ("kind", "minutes", "message"),
    [
        ("snapshot", 15, "kind must be one of"),
        (RATE, 7, "dividing 30, got 7"),
        (ACCUMULATION, 0, "dividing 30, got 0"),
        (ACCUMULATION, 5.0, "dividing 30, got 5.0"),
    ],
)
def test_bad_models_are_refused(kind, minutes, message) -> None:
    with pytest.raises(ValueError, match=message):
        FrameModel(kind, minutes)


def _inventory(**columns) -> pd.DataFrame:
    n = len(columns["end_time"])
    table = pd.DataFrame({"path": [f"f{i}" for i in range(n)], "status": "ok", **columns})
    for name in ("start_time", "end_time", "nominal_time"):
        if name in table:
            table[name] = pd.to_datetime(table[name])
    return table


ODYSSEY = _inventory(
    units=["mm/h"] * 3,
    start_time=["2018-08-24T17:50", "2018-08-24T18:05", "2018-08-24T18:20"],
    end_time=["2018-08-24T18:05", "2018-08-24T18:20", "2018-08-24T18:35"],
    nominal_time=["2018-08-24T18:00", "2018-08-24T18:15", "2018-08-24T18:30"],
    accumulation_minutes=[np.nan] * 3,
)
NIMBUS = _inventory(
    units=["mm/h"] * 2,
    start_time=["2024-11-26T01:00", "2024-11-26T01:15"],
    end_time=["2024-11-26T01:00", "2024-11-26T01:15"],
    nominal_time=["2024-11-26T01:00", "2024-11-26T01:15"],
    accumulation_minutes=[np.nan] * 2,
)
METEOFRANCE = _inventory(
    units=["mm"] * 3,
    start_time=["2024-06-10T00:00", "2024-06-10T00:05", "2024-06-10T00:10"],
    end_time=["2024-06-10T00:05", "2024-06-10T00:10", "2024-06-10T00:15"],
    accumulation_minutes=[5.0, 5.0, 5.0],
)


@pytest.mark.parametrize(
    ("inventory", "expected"),
    [
        (ODYSSEY, FrameModel(RATE, 15)),
        (NIMBUS, FrameModel(RATE, 15)),
        (ODYSSEY.iloc[:1], FrameModel(RATE, 15)),  # one snapshot: its observation window
        (METEOFRANCE, FrameModel(ACCUMULATION, 5)),
        (METEOFRANCE.drop(columns=["units", "accumulation_minutes"]), FrameModel(ACCUMULATION, 5)),
        (METEOFRANCE.iloc[:0], FrameModel(ACCUMULATION, 5)),
    ],
    ids=["odyssey", "nimbus", "one-odyssey", "meteofrance", "bare", "empty"],
)
def test_the_model_comes_from_the_inventory(inventory, expected) -> None:
    assert frame_model(inventory) == expected


def test_one_parameter_overrides_and_the_ingestion_column_is_used() -> None:
    assert frame_model(NIMBUS, minutes=5) == FrameModel(RATE, 5)
    assert frame_model(NIMBUS.assign(frame_minutes=30.0)) == FrameModel(RATE, 30)


def test_rows_that_are_not_usable_do_not_decide() -> None:
    mixed = pd.concat([METEOFRANCE, ODYSSEY.assign(status="bad")], ignore_index=True)
    assert frame_model(mixed) == FrameModel(ACCUMULATION, 5)


def test_a_single_snapshot_without_a_window_needs_the_parameter() -> None:
    with pytest.raises(ValueError, match=r"set ingestion\.radar_frame_minutes"):
        frame_model(NIMBUS.iloc[:1])
    assert frame_model(NIMBUS.iloc[:1], minutes=15) == FrameModel(RATE, 15)


def test_frame_times_are_window_ends_or_nominal_times() -> None:
    first, last = inventory_frame_times(ODYSSEY, FrameModel(RATE, 15))
    np.testing.assert_array_equal(first, ODYSSEY["nominal_time"].to_numpy())
    np.testing.assert_array_equal(last, first)
    first, last = inventory_frame_times(METEOFRANCE, FrameModel(ACCUMULATION, 5))
    np.testing.assert_array_equal(first, METEOFRANCE["end_time"].to_numpy())
    np.testing.assert_array_equal(last, first)
    end = np.datetime64("2018-08-24T18:05", "ns")
    got = frame_times({"nominal_time": "2018-08-24T18:00:00"}, end, RATE)
    np.testing.assert_array_equal(got, [np.datetime64("2018-08-24T18:00", "ns")])
    np.testing.assert_array_equal(frame_times({}, end, RATE), [end])
    np.testing.assert_array_equal(frame_times({"nominal_time": "x"}, end, ACCUMULATION), [end])


def test_hourly_accumulations_cannot_be_paired_with_half_hours() -> None:
    hourly = METEOFRANCE.assign(accumulation_minutes=60.0)
    with pytest.raises(ValueError, match=r"accumulation frames of 60 minutes cannot be paired"):
        frame_model(hourly)
    assert frame_model(hourly, minutes=30) == FrameModel(ACCUMULATION, 30)


@pytest.mark.parametrize(
    ("model", "first", "last", "expected"),
    [
        (FrameModel(RATE, 15), "12:15", "12:15", ("12:00", "12:00")),
        (FrameModel(RATE, 15), "12:30", "12:30", ("12:00", "12:30")),  # closes one, opens one
        (FrameModel(ACCUMULATION, 5), "12:30", "12:30", ("12:00", "12:00")),
        (FrameModel(ACCUMULATION, 5), "12:25", "13:05", ("12:00", "13:00")),  # an archive
    ],
)
def test_the_half_hours_a_file_reaches(model, first, last, expected) -> None:
    def t(hhmm):
        return np.array([np.datetime64(f"2023-06-01T{hhmm}", "ns")])

    got = model.span(t(first), t(last), lag_minutes=0)
    assert (got[0][0], got[1][0]) == (t(expected[0])[0], t(expected[1])[0])
