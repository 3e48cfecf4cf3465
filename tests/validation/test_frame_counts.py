"""The value suite bounds radar frame counts by the radar's own frames per half hour."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.validation import ExpectationConfig, validate_gridded


@pytest.mark.parametrize(
    ("frames_per_half_hour", "n_frames", "offending"),
    [
        (3, 3, {}),  # 15-minute rate snapshots
        (3, 4, {"'n_frames_min'": [4] * 6, "'n_frames_max'": [4] * 6}),  # every map
        (7, 7, {}),  # 5-minute rate snapshots: more than the 6 the suite once hard-coded
    ],
)
def test_frame_counts_are_bounded_by_the_frame_model(
    radar, small_box, frames_per_half_hour, n_frames, offending
):
    ds = radar.assign_attrs(frames_per_half_hour=frames_per_half_hour)
    ds["n_frames"] = xr.DataArray(np.full(ds.sizes["time"], n_frames, np.int16), dims="time")
    _, failures = validate_gridded(
        ds, name="radar_on_imerg", variable="rain", config=ExpectationConfig(box=small_box)
    )
    bad = {f.check.split("column=")[1].split(",")[0]: f.offending for f in failures}
    assert bad == offending
