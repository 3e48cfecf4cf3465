"""Properties over random inputs: values of masked or missing pixels never matter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rainscore.scores import ScoreConfig, score_maps

from .conftest import fake_pair

FC, OBS = fake_pair(3, (16, 20), seed=5)
CONFIG = ScoreConfig(thresholds=(0.1, 1.0), windows=(1, 3, 5), min_wet_fraction=0.0)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    masked_share=st.floats(0.0, 0.9),
    per_map=st.booleans(),
    fill=st.sampled_from([0.0, 50.0, np.nan, -3.0]),
)
def test_values_under_the_mask_never_matter(seed, masked_share, per_map, fill) -> None:
    rng = np.random.default_rng(seed)
    shape = FC.shape if per_map else FC.shape[1:]
    keep = rng.random(shape) >= masked_share
    mask = xr.DataArray(keep, dims=FC.dims if per_map else FC.dims[1:])
    mask = mask.assign_coords({d: FC[d] for d in mask.dims})
    hidden = ~np.broadcast_to(keep, FC.shape)
    noisy_fc = FC.copy(data=np.where(hidden & (rng.random(FC.shape) < 0.5), fill, FC.values))
    noisy_obs = OBS.copy(data=np.where(hidden, rng.lognormal(0, 2, FC.shape), OBS.values))
    pd.testing.assert_frame_equal(
        score_maps(FC, OBS, mask=mask, config=CONFIG),
        score_maps(noisy_fc, noisy_obs, mask=mask, config=CONFIG),
    )


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_nan_pixels_score_like_masked_pixels(seed) -> None:
    rng = np.random.default_rng(seed)
    missing = rng.random(FC.shape) < 0.2
    mask = xr.DataArray(~missing, dims=FC.dims, coords=FC.coords)
    pd.testing.assert_frame_equal(
        score_maps(FC.where(~missing), OBS, config=CONFIG),
        score_maps(FC, OBS, mask=mask, config=CONFIG),
    )
