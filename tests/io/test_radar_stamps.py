"""Time stamps of radar files (names, ODIM date/time attributes) read as strptime reads them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from rainscore.io.radar_field import parse_stamp


def _strptime(stamp: str, seconds: bool) -> dt.datetime | str:
    try:
        return dt.datetime.strptime(stamp, "%Y%m%d%H%M%S" if seconds else "%Y%m%d%H%M")
    except ValueError as err:
        return f"ValueError: {err}"


def _ours(stamp: str, seconds: bool) -> dt.datetime | str:
    try:
        return parse_stamp(stamp, seconds=seconds)
    except ValueError as err:
        return f"ValueError: {err}"


EDGES = [
    "20240610000500",
    "20241231235959",
    "20240229120000",  # leap day
    "20230229120000",  # not a leap year
    "20231301120000",  # 13th month
    "20230100120000",  # day 0
    "20230601240000",  # hour 24
    "20230601126000",  # minute 60
    "20230601120060",  # second 60
    "00000601120000",  # year 0
    "2023061112000",  # 13 characters
    "2023 6 1120000",  # spaces: strptime's leniency
    "20230611 20000",
    "２０２３０６１１１２００００",  # full-width digits
    "2023061112000a",
    "",
]


@pytest.mark.parametrize("stamp", EDGES)
@pytest.mark.parametrize("seconds", [True, False])
def test_edge_stamps_read_as_strptime_reads_them(stamp, seconds):
    text = stamp if seconds else stamp[:12]
    assert _ours(text, seconds) == _strptime(text, seconds)


def test_random_digit_stamps_read_as_strptime_reads_them():
    rng = np.random.default_rng(3)
    fields = np.stack(
        [
            rng.integers(1990, 2040, 3000),
            rng.integers(0, 15, 3000),
            rng.integers(0, 34, 3000),
            rng.integers(0, 26, 3000),
            rng.integers(0, 62, 3000),
            rng.integers(0, 63, 3000),
        ],
        axis=1,
    )
    stamps = ["".join(f"{v:02d}" for v in row) for row in fields]
    for stamp in stamps:
        assert _ours(stamp, True) == _strptime(stamp, True), stamp
        assert _ours(stamp[:12], False) == _strptime(stamp[:12], False), stamp
    assert sum(isinstance(_ours(s, True), dt.datetime) for s in stamps) > 1000
