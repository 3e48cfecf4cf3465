"""score_maps and ScoreConfig: one table equal to the family functions, chunk-independent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.scores import (
    FAMILIES,
    ScoreConfig,
    categorical_scores,
    continuous_scores,
    fss,
    parse_score_column,
    sal,
    score_column,
    score_info,
    score_maps,
)

CONFIG = ScoreConfig(thresholds=(0.1, 1.0), windows=(1, 5), min_wet_fraction=0.02)


def test_table_equals_the_family_functions(pair) -> None:
    fc, obs = pair
    table = score_maps(fc, obs, config=CONFIG)
    assert table.index.name == "time" and len(table) == fc.sizes["time"]
    pd.testing.assert_index_equal(table.index, pd.Index(fc.time.values, name="time"))
    cont = continuous_scores(fc, obs)
    cat = categorical_scores(fc, obs, thresholds=(0.1, 1.0), min_wet_fraction=0.02)
    nbh = fss(fc, obs, thresholds=(0.1, 1.0), windows=(1, 5), min_wet_fraction=0.02)
    obj = sal(fc, obs)
    np.testing.assert_array_equal(table["spearman_wet"], cont["spearman_wet"])
    np.testing.assert_array_equal(table["csi_t1.0"], cat["csi"].sel(threshold=1.0))
    np.testing.assert_array_equal(table["hits_t0.1"], cat["hits"].sel(threshold=0.1))
    np.testing.assert_array_equal(table["fss_t1.0_w5"], nbh["fss"].sel(threshold=1.0, window=5))
    np.testing.assert_array_equal(
        table["fss_skilful_scale_t0.1"], nbh["skilful_scale"].sel(threshold=0.1)
    )
    np.testing.assert_array_equal(table["sal_s"], obj["structure"])
    np.testing.assert_array_equal(table["too_dry"], cat["too_dry"])


def test_chunking_does_not_change_the_table(pair) -> None:
    fc, obs = pair
    pd.testing.assert_frame_equal(
        score_maps(fc, obs, config=CONFIG, chunk_size=4),
        score_maps(fc, obs, config=CONFIG, chunk_size=1),
    )


def test_families_select_columns(pair) -> None:
    fc, obs = pair
    table = score_maps(fc, obs, config=ScoreConfig(families=("sal",)))
    assert set(table.columns) == {
        "n_valid",
        "n_wet",
        "wet_fraction",
        "both_dry",
        "too_dry",
        "no_data",
        "sal_s",
        "sal_a",
        "sal_l",
        "sal_l1",
        "sal_l2",
        "sal_n_objects_forecast",
        "sal_n_objects_obs",
        "sal_threshold_forecast",
        "sal_threshold_obs",
    }


def test_default_table_has_every_family(pair) -> None:
    fc, obs = pair
    columns = score_maps(fc, obs).columns
    for name in ("me", "kge_wet", "ets_t5.0", "fss_t2.0_w15", "fss_uniform_t0.5", "sal_l"):
        assert name in columns
    assert len(columns) == 6 + 14 + 10 * 5 + 25 + 3 * 5 + 9


def test_column_names() -> None:
    assert score_column("csi", 1) == "csi_t1.0"
    assert score_column("fss", 0.5, 5) == "fss_t0.5_w5"


def test_config_from_kedro_parameters_round_trips() -> None:
    params = {"thresholds": [0.2, 1], "windows": [3, 7], "sal_min_object_pixels": 4}
    config = ScoreConfig.from_dict(params)
    assert config.thresholds == (0.2, 1.0) and config.windows == (3, 7)
    assert ScoreConfig.from_dict(config.to_dict()) == config
    assert ScoreConfig.from_dict(None) == ScoreConfig()


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"threshold": [1.0]}, r"Unknown scoring.scores parameters \['threshold'\]"),
        ({"thresholds": [-1.0, 0.5]}, r"scoring.scores.thresholds must be rain rates > 0"),
        ({"thresholds": [0.0]}, r"scoring.scores.thresholds must be rain rates > 0"),
        ({"windows": [-1, 3]}, r"scoring.scores.windows must be positive odd"),
        ({"windows": [4]}, "odd"),
        ({"min_wet_fraction": 2}, "min_wet_fraction"),
        ({"families": ["fss", "neural"]}, "families"),
        ({"sal_quantile": 0}, "quantile"),
    ],
)
def test_config_rejects_bad_parameters(params, match) -> None:
    with pytest.raises(ValueError, match=match):
        ScoreConfig.from_dict(params)


def test_score_maps_needs_time_lat_lon(pair) -> None:
    fc, obs = pair
    with pytest.raises(ValueError, match="time, lat, lon"):
        score_maps(fc.isel(time=0), obs.isel(time=0))


def test_maps_without_valid_pixels_are_no_data_not_dry() -> None:
    rng = np.random.default_rng(3)
    f = rng.gamma(0.5, 2.0, size=(3, 12, 16))
    o = rng.gamma(0.5, 2.0, size=(3, 12, 16))
    f[1], o[1] = 0.0, 0.0  # a dry map
    mask = np.ones(f.shape, bool)
    mask[2] = False  # no radar at all
    dims = ("time", "lat", "lon")
    coords = {"time": pd.date_range("2024-01-01", periods=3, freq="30min")}
    table = score_maps(
        xr.DataArray(f, dims=dims, coords=coords),
        xr.DataArray(o, dims=dims, coords=coords),
        mask=xr.DataArray(mask, dims=dims, coords=coords),
    )
    assert table["no_data"].tolist() == [False, False, True]
    assert table["both_dry"].tolist() == [False, True, False]
    scores = table.drop(columns=["n_valid", "n_wet", "both_dry", "too_dry", "no_data"])
    counts = ("hits", "misses", "false_alarms", "correct_negatives", "sal_n_objects")
    numeric = scores.select_dtypes("number").columns.difference(
        [c for c in scores if c.startswith(counts)]
    )
    assert table.loc[table.index[2], numeric].isna().all()  # every score of a no-data map
    assert (table.loc[table.index[2], [c for c in scores if c.startswith(counts)]] == 0).all()
    assert np.isfinite(table["mae"].iloc[1])  # a dry map keeps its (zero) absolute error


@pytest.mark.parametrize(
    ("column", "parsed"),
    [
        ("fss_t1.0_w5", ("fss", 1.0, 5)),
        ("fss_uniform_t0.5", ("fss_uniform", 0.5, None)),
        ("csi_t10.0", ("csi", 10.0, None)),
        ("skilful_scale_t2.0", ("skilful_scale", 2.0, None)),
        ("pearson_wet", ("pearson_wet", None, None)),
        ("rel_bias", ("rel_bias", None, None)),
        ("sal_threshold_obs", ("sal_threshold_obs", None, None)),
        ("too_dry", ("too_dry", None, None)),
        ("csi_t1e-05", ("csi", 1e-05, None)),
    ],
)
def test_parse_score_column_inverts_score_column(column, parsed) -> None:
    result = parse_score_column(column)
    assert tuple(result) == parsed
    assert score_column(*result) == column


def test_every_column_is_in_the_catalogue_with_values_in_its_range(pair) -> None:
    fc, obs = pair
    table = score_maps(fc, obs, config=CONFIG)
    for column in table.columns:
        info = score_info(column)
        values = table[column].astype(float).dropna()
        lo, hi = info.range
        assert values.between(lo, hi).all(), (column, info.range, values.min(), values.max())
        assert info.family in (*FAMILIES, "flags")
    assert {score_info(c).family for c in table.columns} == {*FAMILIES, "flags"}


def test_tables_do_not_share_their_column_index(pair) -> None:
    fc, obs = pair
    config = ScoreConfig(families=("categorical",), thresholds=(1.0,))
    first = score_maps(fc, obs, config=config)
    first.columns.name = "score"
    second = score_maps(fc, obs, config=config)
    assert second.columns.name is None and list(second.columns) == list(first.columns)
