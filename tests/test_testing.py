"""The test factories build products that the project's own checks accept.

Their likeness to real pipeline outputs (variables, dims, dtypes, attributes, columns) is
checked against a tiny real run in ``tests/pipelines/test_factories.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate.pairs import MaskConfig
from rainscore.grids import Box
from rainscore.scores import ScoreConfig
from rainscore.testing import (
    DEFAULT_START,
    fake_imerg_cube,
    fake_map_scores,
    fake_pairs,
    fake_radar_on_imerg,
)
from rainscore.validation import (
    ExpectationConfig,
    GriddedConventions,
    has_alignment,
    validate_colocation_inputs,
    validate_map_scores,
)

SMALL_BOX = Box(lat_min=45.0, lat_max=46.0, lon_min=1.0, lon_max=2.5)


@pytest.mark.parametrize(
    ("name", "factory"),
    [
        ("imerg_cube", fake_imerg_cube),
        ("radar_on_imerg", fake_radar_on_imerg),
        ("colocated_pairs", fake_pairs),
    ],
)
def test_gridded_factories_pass_the_catalog_validator(name, factory) -> None:
    ds = factory(n_times=3, seed=2)
    assert GriddedConventions(dataset=name).validate(ds) is ds
    assert ds.sizes == {"time": 3, "lat": 72, "lon": 104}
    assert ds["lat"].dtype == np.float64
    assert pd.Timestamp(ds["time"].values[0]) == DEFAULT_START
    assert float(ds["lat"][0]) == pytest.approx(42.85)
    assert float(ds["lon"][0]) == pytest.approx(-2.75)


def test_cube_and_radar_pass_the_colocation_validation() -> None:
    cube = fake_imerg_cube(n_times=4, seed=3, box=SMALL_BOX)
    radar = fake_radar_on_imerg(n_times=4, seed=3, box=SMALL_BOX)
    assert has_alignment(cube, radar)
    report = validate_colocation_inputs(
        cube, radar, config=ExpectationConfig.from_dict({}, SMALL_BOX)
    )
    assert report.failures == []


def test_map_scores_pass_the_score_suite() -> None:
    table = fake_map_scores(n_times=6, seed=4)
    _, failures = validate_map_scores(table, target="fss_t0.5_w9")
    assert failures == []
    assert table.index.name == "time"
    assert len(table) == 6
    assert table["no_data"].sum() == 0
    assert table["n_valid"].iloc[0] == int(fake_pairs(n_times=1, seed=4)["mask"][0].sum())
    assert set(table["true_regime"]) <= {
        "dry",
        "stratiform_front",
        "scattered_convection",
        "orographic",
    }


def test_same_seed_same_products_other_seed_other_maps() -> None:
    xr.testing.assert_identical(fake_pairs(n_times=2, seed=5), fake_pairs(n_times=2, seed=5))
    pd.testing.assert_frame_equal(
        fake_map_scores(n_times=2, seed=5), fake_map_scores(n_times=2, seed=5)
    )
    a = fake_imerg_cube(n_times=2, seed=5)["precipitation"].values
    b = fake_imerg_cube(n_times=2, seed=6)["precipitation"].values
    assert not np.array_equal(a, b)


def test_pairs_hold_the_cube_and_radar_of_the_same_seed() -> None:
    pairs = fake_pairs(n_times=2, seed=7, box=SMALL_BOX)
    cube = fake_imerg_cube(n_times=2, seed=7, box=SMALL_BOX)
    radar = fake_radar_on_imerg(n_times=2, seed=7, box=SMALL_BOX)
    assert pairs.sizes == {"time": 2, "lat": 10, "lon": 15}
    np.testing.assert_array_equal(pairs["imerg"].values, cube["precipitation"].values)
    np.testing.assert_array_equal(pairs["radar"].values, radar["rain"].values)
    # scored where the radar covers at least half the cell with all six frames
    expected = (radar["valid_fraction"] >= 0.5) & (radar["n_valid_frames"] >= 6)
    np.testing.assert_array_equal(pairs["mask"].values, expected.values)


def test_radar_covers_an_ellipse_with_a_partial_rim() -> None:
    radar = fake_radar_on_imerg(n_times=1, seed=0)
    fraction = radar["valid_fraction"].values[0]
    assert fraction[36, 52] == 1.0  # the centre
    assert fraction[0, 0] == 0.0  # a corner
    assert np.isnan(radar["rain"].values[0, 0, 0])
    assert ((fraction > 0) & (fraction < 1)).any()
    assert radar["n_frames"].values.tolist() == [6]


def test_pmw_age_follows_the_swaths() -> None:
    cube = fake_imerg_cube(n_times=6, seed=8)
    observed = cube["mw_source"].values > 0
    assert observed.any()
    # a cell observed in its half hour has a forward age of at most the half hour
    assert np.nanmax(cube["pmw_age_forward"].values[observed]) <= 30.0
    assert np.isnan(cube["mw_observation_time"].values[~observed]).all()
    assert cube.attrs["product"] == "Final"


def test_options_reach_the_products() -> None:
    pairs = fake_pairs(n_times=2, seed=1, mask=MaskConfig(min_valid_fraction=1.0))
    assert pairs["mask"].attrs["min_valid_fraction"] == 1.0
    table = fake_map_scores(
        n_times=2, seed=1, scores=ScoreConfig(thresholds=(1.0,), windows=(3,)), true_regime=False
    )
    assert "fss_t1.0_w3" in table
    assert "csi_t0.5" not in table
    assert "true_regime" not in table
    old = fake_imerg_cube(n_times=1, version="V06B")
    assert old["precipitation"].attrs["source_variable"] == "Grid/precipitationCal"


def test_no_time_is_an_error() -> None:
    with pytest.raises(ValueError, match="n_times must be at least 1, got 0"):
        fake_pairs(n_times=0)
