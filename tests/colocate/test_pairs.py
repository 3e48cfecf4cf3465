"""pair_imerg_radar: the scoring mask, per cell, and the attributes of the pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar

LAT = np.round(np.arange(45.05, 45.3, 0.1), 6)
LON = np.round(np.arange(1.05, 1.4, 0.1), 6)
TIMES = pd.date_range("2024-06-10T12:00", periods=2, freq="30min").values


def _imerg() -> xr.Dataset:
    shape = (TIMES.size, LAT.size, LON.size)
    return xr.Dataset(
        {
            "precipitation": (("time", "lat", "lon"), np.ones(shape, np.float32)),
            "quality_index": (("time", "lat", "lon"), np.full(shape, 0.5, np.float32)),
        },
        coords={"time": TIMES, "lat": LAT, "lon": LON},
        attrs={"product": "Late", "version": "V07B"},
    )


def _radar(frames_per_half_hour: int = 6) -> xr.Dataset:
    shape = (TIMES.size, LAT.size, LON.size)
    n_valid = np.full(shape, frames_per_half_hour, np.int16)
    n_valid[0, 0, 0] = frames_per_half_hour - 1  # a radar out for one frame where only it sees
    fraction = np.ones(shape, np.float32)
    fraction[0, 0, 1] = 0.4  # mostly outside coverage
    rain = np.full(shape, 2.0, np.float32)
    rain[1, 2, 3] = np.nan
    n_valid[1, 2, 3] = 0
    return xr.Dataset(
        {
            "rain": (("time", "lat", "lon"), rain),
            "valid_fraction": (("time", "lat", "lon"), fraction),
            "n_frames": ("time", np.full(2, frames_per_half_hour, np.int16)),
            "n_valid_frames": (("time", "lat", "lon"), n_valid),
        },
        coords={"time": TIMES, "lat": LAT, "lon": LON},
        attrs={"frames_per_half_hour": frames_per_half_hour},
    )


@pytest.mark.parametrize("frames_per_half_hour", [6, 3])  # 5-min accumulations, 15-min rates
def test_mask_requires_every_frame_valid_at_the_cell(frames_per_half_hour) -> None:
    radar = _radar(frames_per_half_hour)
    pairs = pair_imerg_radar(_imerg(), radar, mask=MaskConfig())
    assert pairs["mask"].attrs["min_frames"] == frames_per_half_hour
    mask = pairs["mask"].values
    assert not mask[0, 0, 0]  # every frame read, but one not valid here: a partial mean
    assert not mask[0, 0, 1]  # valid fraction 0.4 < 0.5
    assert not mask[1, 2, 3]  # no radar
    assert mask.sum() == mask.size - 3
    assert pairs["mask"].dims == ("time", "lat", "lon")


@pytest.mark.parametrize(("frames_per_half_hour", "fraction"), [(6, 5 / 6), (6, 0.8), (3, 0.6)])
def test_the_frames_a_cell_needs_follow_from_a_fraction(frames_per_half_hour, fraction) -> None:
    mask = MaskConfig(min_frame_fraction=fraction)
    pairs = pair_imerg_radar(_imerg(), _radar(frames_per_half_hour), mask=mask)
    assert pairs["mask"].values[0, 0, 0]
    assert pairs["mask"].attrs["min_frames"] == frames_per_half_hour - 1
    assert pairs["mask"].attrs["min_frame_fraction"] == fraction


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_mask_fractions_outside_zero_one_are_refused(value) -> None:
    with pytest.raises(ValueError, match=r"colocation.mask.min_frame_fraction must be between"):
        MaskConfig.from_dict({"min_frame_fraction": value})
    with pytest.raises(ValueError, match=r"Unknown colocation.mask parameters \['min_frames'\]"):
        MaskConfig.from_dict({"min_frames": 6})


def test_pairs_carry_counts_quality_and_crs() -> None:
    pairs = pair_imerg_radar(_imerg(), _radar(), mask=MaskConfig())
    for name in ("imerg", "radar", "valid_fraction", "n_frames", "n_valid_frames"):
        assert name in pairs
    assert "quality_index" in pairs
    assert pairs.attrs["crs"] == "EPSG:4326"
    assert pairs.attrs["imerg_product"] == "Late"


def test_radar_from_an_older_colocation_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"lacks \['n_valid_frames'\].*--pipelines=colocation"):
        pair_imerg_radar(_imerg(), _radar().drop_vars("n_valid_frames"), mask=MaskConfig())
    older = _radar()
    older.attrs = {}
    with pytest.raises(ValueError, match=r"lacks \['the frames_per_half_hour attribute'\]"):
        pair_imerg_radar(_imerg(), older, mask=MaskConfig())
