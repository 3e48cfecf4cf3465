"""Colocation parameters and the half-hour sums."""

from __future__ import annotations

import numpy as np
import pytest

from rainscore.colocate import ColocationConfig, HalfHourSums, rate_factor
from rainscore.colocate.frames import FrameModel
from rainscore.colocate.pairing import ACCUMULATION, RATE


def test_from_dict_takes_the_parameters():
    config = ColocationConfig.from_dict({"lag_minutes": 30, "block_half_hours": 24})
    assert config.lag_minutes == 30
    assert config.block_half_hours == 24
    assert ColocationConfig.from_dict(None) == ColocationConfig()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lag_minute": 30}, r"Unknown colocation.engine parameters \['lag_minute'\]"),
        ({"executor": "dask"}, r"Unknown colocation.engine parameters \['executor'\]"),
        ({"frames_per_half_hour": 6}, r"Unknown colocation.engine parameters \['frames_per"),
        ({"block_half_hours": 0}, "block_half_hours must be >= 1"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(ValueError, match=message):
        ColocationConfig.from_dict(params)


def test_rate_conversion():
    five, fifteen = FrameModel(ACCUMULATION, 5), FrameModel(ACCUMULATION, 15)
    assert rate_factor({"units": "mm", "accumulation_minutes": 5.0}, five) == 12.0
    assert rate_factor({"units": "mm", "accumulation_minutes": 15}, fifteen) == 4.0
    assert rate_factor({"units": "mm/h"}, FrameModel(RATE, 15)) == 1.0
    with pytest.raises(ValueError, match="accumulation_minutes=15 in a series of 5-minute"):
        rate_factor({"units": "mm", "accumulation_minutes": 15.0}, five)
    with pytest.raises(ValueError, match="a frame in mm/h in a series of 5-minute accumulations"):
        rate_factor({"units": "mm/h"}, five)
    with pytest.raises(ValueError, match="units 'dBZ' are neither"):
        rate_factor({"units": "dBZ"}, five)


def test_half_hour_sums_by_hand():
    sums = HalfHourSums(2, (1, 2), total_weight=6)
    sums.add(0, np.array([[1.0, np.nan]]), np.array([[1.0, 0.0]]))
    sums.add(0, np.array([[3.0, 5.0]]), np.array([[1.0, 0.5]]))
    rain, fraction, n_frames, n_valid = sums.compute()
    np.testing.assert_allclose(rain[0], [[2.0, 5.0]])  # cell 2: only the frame valid there
    np.testing.assert_allclose(fraction[0], [[2 / 6, 0.5 / 6]])  # 4 frames missing: 0
    assert np.isnan(rain[1]).all()
    np.testing.assert_array_equal(fraction[1], 0.0)
    np.testing.assert_array_equal(n_frames, [2, 0])
    np.testing.assert_array_equal(n_valid, [[[2, 1]], [[0, 0]]])  # per cell: frames averaged
    assert rain.dtype == fraction.dtype == np.float32
