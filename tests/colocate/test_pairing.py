"""Which IMERG half hour a radar frame belongs to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.colocate import half_hours, on_frame_lattice, paired_half_hour
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
