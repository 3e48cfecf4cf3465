"""Context features of colocated maps, on hand-made maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.analysis import FeatureConfig, map_features
from rainscore.grids import Box

BOX = Box(lat_min=45.0, lat_max=45.4, lon_min=2.0, lon_max=2.5)  # 4 × 5 cells


def _pairs() -> xr.Dataset:
    times = pd.to_datetime(["2024-01-15T13:00", "2024-07-01T00:30"])
    radar = np.zeros((2, 4, 5))
    radar[0, 0, 0:2] = [1.0, 6.0]  # one object of two cells, one convective
    radar[0, 3, 4] = 0.5  # a second object
    imerg = np.zeros((2, 4, 5))
    imerg[0, 0, 0] = 2.0
    imerg[1] = 0.2  # all wet in the second map
    mask = np.ones((2, 4, 5), bool)
    mask[1, :, 4] = False  # last column not scoreable in map 2
    source = np.zeros((2, 4, 5))
    source[0, :2] = 8  # GMI on half the first map
    source[1, 0, 0] = 5
    age = np.full((2, 4, 5), 60.0)
    age[0, :2] = 0.0
    age[1, 0, 0] = np.nan
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {
            "imerg": (dims, imerg),
            "radar": (dims, radar),
            "mask": (dims, mask),
            "mw_source": (dims, source),
            "pmw_age_forward": (dims, age),
            "ir_influence": (dims, np.full((2, 4, 5), 40.0)),
            "quality_index": (dims, np.full((2, 4, 5), 0.5)),
        },
        coords={"time": times, **BOX.coords()},
    )


def test_features_hand_computed() -> None:
    f = map_features(_pairs(), config=FeatureConfig(wet_threshold=0.1, convective_threshold=5.0))
    first, second = f.iloc[0], f.iloc[1]
    assert f.index.name == "time"
    assert first["n_valid"] == 20
    assert second["n_valid"] == 16
    assert first["wet_fraction_radar"] == pytest.approx(3 / 20)
    assert first["wet_fraction_imerg"] == pytest.approx(1 / 20)
    assert second["wet_fraction_imerg"] == pytest.approx(1.0)
    assert np.isnan(second["mean_wet_rate_radar"])
    assert first["mean_wet_rate_radar"] == pytest.approx(7.5 / 3)
    assert first["convective_fraction"] == pytest.approx(1 / 3)
    assert first["n_rain_objects"] == 2
    assert second["n_rain_objects"] == 0
    assert first["rain_area_km2"] == pytest.approx(3 * 87.5, rel=0.02)  # 0.1° cells at 45°N
    assert first["pmw_coverage"] == pytest.approx(0.5)
    assert first["sensors_present"] == "8"
    assert second["sensors_present"] == "5"
    assert first["pmw_age_mean"] == pytest.approx(30.0)
    assert first["pmw_seen_within_30min"] == pytest.approx(0.5)
    assert second["pmw_age_mean"] == pytest.approx(60.0)  # the NaN age is left out
    assert first["hour"] == 13.0
    assert second["hour"] == 0.5
    assert first["season"] == "DJF"
    assert second["season"] == "JJA"
    assert first["solar_hour"] == pytest.approx(13.0 + 2.25 / 15)
    assert first["ir_influence_mean"] == 40.0


def test_true_regime_from_truth_codes() -> None:
    pairs = _pairs()
    truth = xr.Dataset(
        {
            "regime": (
                "time",
                np.array([1, 2], dtype=np.int8),
                {
                    "flag_values": [0, 1, 2, 3],
                    "flag_meanings": "dry stratiform convective orographic",
                },
            )
        },
        coords={"time": pairs.time.values},
    )
    f = map_features(pairs, truth=truth)
    assert list(f["true_regime"]) == ["stratiform", "convective"]


def test_masked_pixels_never_matter() -> None:
    pairs = _pairs()
    changed = pairs.copy(deep=True)
    changed["radar"].values[1, :, 4] = 99.0
    changed["imerg"].values[1, :, 4] = 42.0
    a = map_features(pairs).drop(columns=["sensors_present"])
    b = map_features(changed).drop(columns=["sensors_present"])
    pd.testing.assert_frame_equal(a, b)


def test_truth_applies_only_to_its_own_world(tmp_path) -> None:
    from rainscore.analysis import matching_truth

    truth = xr.Dataset({"regime": ("time", np.array([1], dtype=np.int8))})
    truth.encoding["source"] = str(tmp_path / "world" / "truth" / "truth.nc")
    pairs = _pairs()
    pairs.attrs["imerg_source_root"] = str(tmp_path / "world" / "imerg" / "2024")
    assert matching_truth(pairs, truth) is truth
    pairs.attrs["imerg_source_root"] = str(tmp_path / "real" / "imerg")
    assert matching_truth(pairs, truth) is None
    del pairs.attrs["imerg_source_root"]
    assert matching_truth(pairs, truth) is None
    assert matching_truth(pairs, None) is None


def test_local_fraction_errors_aggregate_into_the_fss() -> None:
    """FSS = 1 − Σ(local error²) / Σ(P_imerg² + P_radar²) over scored pixels."""
    from rainscore.analysis import local_error_maps
    from rainscore.scores import fss
    from rainscore.scores.neighbourhood import neighbourhood_fractions

    rng = np.random.default_rng(1)
    pairs = _pairs()
    shape = pairs["imerg"].shape
    pairs["imerg"].values[:] = rng.gamma(0.6, 2.0, shape)
    pairs["radar"].values[:] = rng.gamma(0.6, 2.0, shape)
    pairs["mask"].values[:] = rng.uniform(size=shape) < 0.85
    local = local_error_maps(pairs, threshold=1.0, window=3)
    valid = local["mask"].values
    f_i = neighbourhood_fractions(pairs["imerg"].values, valid, threshold=1.0, window=3)
    f_r = neighbourhood_fractions(pairs["radar"].values, valid, threshold=1.0, window=3)
    err = local["local_fraction_error"].values
    rebuilt = 1 - np.nansum(err**2, axis=(1, 2)) / np.nansum(f_i**2 + f_r**2, axis=(1, 2))
    imerg = pairs["imerg"].assign_attrs(units="mm/h")
    radar = pairs["radar"].assign_attrs(units="mm/h")
    expected = fss(imerg, radar, mask=pairs["mask"], thresholds=[1.0], windows=[3])
    # local errors are stored as float32
    np.testing.assert_allclose(rebuilt, expected["fss"].values[:, 0, 0], rtol=1e-6)
    assert np.isnan(err[~valid]).all()


def test_neighbourhood_fractions_by_hand() -> None:
    from rainscore.scores.neighbourhood import neighbourhood_fractions

    field = np.zeros((4, 4))
    field[1, 1] = 2.0
    valid = np.ones((4, 4), bool)
    valid[0, 0] = False
    f = neighbourhood_fractions(field, valid, threshold=1.0, window=3)
    assert np.isnan(f[0, 0])
    assert f[0, 1] == pytest.approx(1 / 5)  # window truncated at the border, (0,0) invalid
    assert f[1, 1] == pytest.approx(1 / 8)
    assert f[2, 2] == pytest.approx(1 / 9)
    assert f[3, 3] == 0.0


def test_a_map_without_data_has_no_rain_features() -> None:
    """A map with no scoreable cell is unknown, not dry: its rain features are missing."""
    pairs = _pairs()
    pairs["mask"].values[1] = False
    f = map_features(pairs)
    second = f.iloc[1]
    assert second["n_valid"] == 0
    assert np.isnan(second["rain_area_km2"])
    assert np.isnan(second["n_rain_objects"])
    assert np.isnan(second["mean_object_area_km2"])
    assert np.isnan(second["wet_fraction_radar"])
    assert np.isnan(second["pmw_coverage"])
    assert pd.isna(second["sensors_present"])  # missing, not "" (no sensor)
    first = f.iloc[0]  # the map with data keeps its values
    assert first["n_rain_objects"] == 2
    assert first["rain_area_km2"] == pytest.approx(3 * 87.5, rel=0.02)
    assert first["sensors_present"] == "8"
