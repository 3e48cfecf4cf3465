"""Which IMERG half hours a radar frame is paired with, at which position."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.colocate import (
    ACCUMULATION,
    RATE,
    half_hours,
    on_frame_lattice,
    pair_frames,
    paired_half_hour,
)
from rainscore.colocate.pairing import as_utc_naive


def t(hhmm: str) -> np.datetime64:
    return np.datetime64(f"2023-06-01T{hhmm}", "ns")


@pytest.mark.parametrize(
    ("lag", "frames", "half_hour"),
    [
        (0, ["12:05", "12:10", "12:30"], "12:00"),
        (0, ["12:35", "13:00"], "12:30"),
        (0, ["12:00"], "11:30"),  # accumulated 11:55-12:00
        (30, ["12:35", "13:00"], "12:00"),  # radar half an hour after IMERG
        (60, ["13:05", "13:30"], "12:00"),
        (-30, ["11:35", "12:00"], "12:00"),
    ],
)
def test_frames_pair_with_their_half_hour(lag, frames, half_hour):
    ends = np.array([t(f) for f in frames])
    got = paired_half_hour(ends, frame_minutes=5, lag_minutes=lag)
    np.testing.assert_array_equal(got, t(half_hour))


def test_frame_lattice():
    ends = np.array([t("12:05"), t("12:07"), t("12:30"), t("12:30:30")])
    np.testing.assert_array_equal(on_frame_lattice(ends, 5), [True, False, True, False])


def test_half_hours_floor_the_start_and_exclude_the_stop():
    got = half_hours(t("12:10"), t("13:30"))
    np.testing.assert_array_equal(got, [t("12:00"), t("12:30"), t("13:00")])
    assert got.dtype == np.dtype("datetime64[ns]")


def test_aware_times_are_converted_to_naive_utc():
    aware = pd.Series(pd.to_datetime(["2023-06-01T14:05:00+02:00"]))
    np.testing.assert_array_equal(as_utc_naive(aware), [t("12:05")])


@pytest.mark.parametrize(
    ("lag", "snapshot", "half_hours_and_positions"),
    [
        (0, "12:15", [("12:00", 1)]),
        (0, "12:00", [("11:30", 2), ("12:00", 0)]),  # on a boundary: closes 11:30, opens 12:00
        (0, "12:30", [("12:00", 2), ("12:30", 0)]),
        (30, "12:45", [("12:00", 1)]),
        (30, "12:30", [("11:30", 2), ("12:00", 0)]),
    ],
)
def test_rate_snapshots_pair_with_the_half_hours_they_fall_in_or_bound(
    lag, snapshot, half_hours_and_positions
):
    pairs = pair_frames(np.array([t(snapshot)]), kind=RATE, frame_minutes=15, lag_minutes=lag)
    np.testing.assert_array_equal(pairs.frame, 0)
    np.testing.assert_array_equal(pairs.half_hour, [t(h) for h, _ in half_hours_and_positions])
    np.testing.assert_array_equal(pairs.position, [p for _, p in half_hours_and_positions])


def test_accumulations_pair_once_at_their_position():
    ends = np.array([t("12:05"), t("12:30"), t("12:35")])
    pairs = pair_frames(ends, kind=ACCUMULATION, frame_minutes=5, lag_minutes=0)
    np.testing.assert_array_equal(pairs.frame, [0, 1, 2])
    np.testing.assert_array_equal(pairs.half_hour, [t("12:00"), t("12:00"), t("12:30")])
    np.testing.assert_array_equal(pairs.position, [0, 5, 0])


def test_every_half_hour_gets_its_frames_once_per_position():
    """Over a day of frames, each whole half hour has every position exactly once."""
    for kind, minutes in ((ACCUMULATION, 5), (ACCUMULATION, 15), (RATE, 15), (RATE, 5)):
        times = t("00:00") + np.arange(0, 24 * 60 + 1, minutes).astype("timedelta64[m]")
        pairs = pair_frames(times, kind=kind, frame_minutes=minutes, lag_minutes=0)
        inside = (pairs.half_hour >= t("01:00")) & (pairs.half_hour < t("23:00"))
        per_half_hour = pd.Series(pairs.position[inside]).groupby(pairs.half_hour[inside])
        expected = list(range(30 // minutes + (kind == RATE)))
        assert all(sorted(p) == expected for _, p in per_half_hour), (kind, minutes)


def test_unknown_frame_kind_is_refused():
    with pytest.raises(ValueError, match=r"frame kind must be one of .* got 'snapshot'"):
        pair_frames(np.array([t("12:00")]), kind="snapshot", frame_minutes=15, lag_minutes=0)
