"""The source of every column of map_scores, and the refusal of radar-side inputs."""

from __future__ import annotations

import numpy as np
import pytest

from rainscore.analysis.sources import (
    RADAR_FEATURES,
    SOURCES,
    RadarSideInputError,
    column_source,
    imerg_features,
    imerg_side_columns,
    require_imerg_side,
)
from rainscore.scores import has_score_info
from rainscore.testing import fake_imerg_cube, fake_map_scores


@pytest.fixture(scope="module")
def map_scores():
    return fake_map_scores(n_times=3, seed=2)


def test_every_column_of_map_scores_has_a_source(map_scores) -> None:
    sources = {c: column_source(c) for c in [*map_scores.columns, map_scores.index.name]}
    assert set(sources.values()) <= set(SOURCES)
    assert set(sources.values()) == set(SOURCES)  # the table holds every kind
    for column, source in sources.items():
        if has_score_info(column):
            assert source == "imerg_and_radar", column


def test_radar_features_scores_and_truth_are_not_imerg_side(map_scores) -> None:
    assert {column_source(c) for c in RADAR_FEATURES} == {"radar"}
    for name in ("convective_fraction", "rain_area_km2", "n_rain_objects", "mean_object_area_km2"):
        assert column_source(name) == "radar"
    assert column_source("fss_t0.5_w9") == "imerg_and_radar"
    assert column_source("n_valid") == "imerg_and_radar"  # the radar mask's pixel count
    assert column_source("true_regime") == "truth"
    assert column_source("hour") == "time"
    side = imerg_side_columns(map_scores.columns)
    assert "mean_rate_imerg" in side and "pmw_age_mean" in side and "hour" in side
    assert not set(side) & {*RADAR_FEATURES, "true_regime", "fss_t0.5_w9", "n_valid", "too_dry"}


def test_unknown_column_has_no_source() -> None:
    with pytest.raises(KeyError, match="'mystery_feature'"):
        column_source("mystery_feature")
    with pytest.raises(KeyError, match="'mystery_feature'"):
        imerg_side_columns(["mean_rate_imerg", "mystery_feature"])


def test_require_imerg_side_names_each_refused_column_and_its_source() -> None:
    require_imerg_side(["mean_rate_imerg", "ir_influence_mean", "day_of_year"], "model")
    with pytest.raises(RadarSideInputError) as err:
        require_imerg_side(
            ["mean_rate_imerg", "convective_fraction", "csi_t1.0", "true_regime"], "gbm features"
        )
    message = str(err.value)
    assert message.startswith("gbm features:")
    for text in ("'convective_fraction' (radar)", "'csi_t1.0' (imerg_and_radar)", "(truth)"):
        assert text in message
    assert "mean_rate_imerg" not in message
    assert isinstance(err.value, ValueError)


def test_imerg_features_cover_the_whole_box_without_radar() -> None:
    cube = fake_imerg_cube(n_times=3, seed=4)
    table = imerg_features(cube, block_size=2)
    assert list(table.index) == list(cube.time.values)
    assert all(column_source(c) in ("imerg", "time") for c in table.columns)
    rain = cube.precipitation.values.astype(np.float64)
    np.testing.assert_allclose(table["mean_rate_imerg"], rain.mean(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(
        table["wet_fraction_imerg"], (rain >= 0.1).mean(axis=(1, 2)), rtol=1e-12
    )
    np.testing.assert_allclose(
        table["quality_index_mean"],
        cube.quality_index.values.astype(np.float64).mean(axis=(1, 2)),
        rtol=1e-6,
    )
