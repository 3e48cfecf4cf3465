"""Metrics against hand computations; baselines fitted on train, refusing radar inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.analysis.sources import RadarSideInputError
from rainscore.models.evaluation import (
    EVALUATION_COLUMNS,
    Baseline,
    evaluate_baselines,
    evaluation_table,
    fit_baselines,
    fit_gradient_boosting,
    pixel_skill,
    predict_baselines,
    regression_metrics,
)
from rainscore.models.intervals import SplitConformal
from rainscore.models.split import SplitConfig, make_split

SPLIT = SplitConfig(block="1D", gap="3h", pattern=("train", "train", "train", "validation", "test"))


def _relation(ir: np.ndarray) -> np.ndarray:
    return 1.0 - (ir / 100.0) ** 2  # decreasing in the IR share


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ten days of maps whose target is a monotone function of ir_influence_mean plus noise."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2024-06-10", periods=480, freq="30min", name="time")
    ir = rng.uniform(0, 100, len(times))
    target = _relation(ir) + rng.normal(0, 0.05, len(times))
    target[rng.random(len(times)) < 0.1] = np.nan  # too dry: undefined
    table = pd.DataFrame(
        {
            "fss_t0.5_w9": target,
            "ir_influence_mean": ir,
            "quality_index_mean": rng.uniform(0.4, 1, len(times)),
            "pmw_age_mean": np.where(
                rng.random(len(times)) < 0.05, np.nan, rng.uniform(0, 90, len(times))
            ),
            "mean_rate_imerg": rng.gamma(1.0, 1.0, len(times)),
            "sensors_present": "3,5",
            "hour": times.hour + times.minute / 60,
            "convective_fraction": target * 0.5,  # radar side: must never be used
        },
        index=times,
    )
    return table, make_split(times, SPLIT)


def test_regression_metrics_against_hand_computations() -> None:
    predicted = np.array([1.0, 2.0, 3.0, 5.0, 7.0])
    actual = np.array([1.5, 2.0, np.nan, 4.0, 8.0])
    lower, upper = predicted - 0.6, predicted + 0.6
    metrics = regression_metrics(predicted, actual, lower, upper)
    # pairs (1, 1.5), (2, 2), (5, 4), (7, 8): ranks agree
    assert metrics["spearman"] == pytest.approx(1.0)
    a = np.array([1.5, 2.0, 4.0, 8.0])
    p = np.array([1.0, 2.0, 5.0, 7.0])
    assert metrics["r2"] == pytest.approx(1 - np.sum((a - p) ** 2) / np.sum((a - a.mean()) ** 2))
    assert metrics["mae"] == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert metrics["coverage"] == pytest.approx(2 / 4)  # 1.5 and 2.0 inside
    assert metrics["n"] == 4 and metrics["n_undefined"] == 1
    swapped = regression_metrics(np.array([2.0, 1.0, 3.0, 4.0]), a)  # 1 - 6·2 / (4·15)
    assert swapped["spearman"] == pytest.approx(0.8) and np.isnan(swapped["coverage"])
    assert regression_metrics(p[::-1], a)["spearman"] == pytest.approx(-1.0)
    assert np.isnan(regression_metrics(np.array([1.0]), np.array([2.0]))["r2"])
    with pytest.raises(ValueError, match="1 predictions are missing"):
        regression_metrics(np.array([np.nan, 1.0]), np.array([1.0, 2.0]))


def test_pixel_skill_against_hand_computations() -> None:
    actual = np.array([[0.2, -0.2], [np.nan, 0.4]])
    predicted = np.array([[0.1, -0.1], [9.0, 0.4]])
    mask = np.array([[True, True], [True, True]])
    # scored: 3 pixels (the NaN target is left out); reference 0
    mse, mse_ref = (0.01 + 0.01 + 0) / 3, (0.04 + 0.04 + 0.16) / 3
    assert pixel_skill(predicted, actual, mask, 0.0) == pytest.approx(1 - mse / mse_ref)
    assert pixel_skill(actual, actual, mask, 0.0) == pytest.approx(1.0)
    assert np.isnan(pixel_skill(predicted, actual, np.zeros((2, 2), bool), 0.0))
    masked = np.array([[True, False], [False, False]])
    assert pixel_skill(predicted, actual, masked, 0.0) == pytest.approx(1 - 0.01 / 0.04)
    with pytest.raises(ValueError, match="the reference is NaN on scored pixels"):
        pixel_skill(predicted, actual, mask, np.array([[0.0, np.nan], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="predictions are NaN"):
        pixel_skill(np.full((2, 2), np.nan), actual, mask, 0.0)


def test_climatology_predicts_the_training_median(world) -> None:
    table, split = world
    baselines = fit_baselines(table, "fss_t0.5_w9", split, seed=0)
    train = table[split.set_index("time")["split"].reindex(table.index).to_numpy() == "train"]
    median = np.nanmedian(train["fss_t0.5_w9"])
    np.testing.assert_allclose(baselines["climatology"].predict(table), median)
    assert baselines["climatology"].info["n_train"] == train["fss_t0.5_w9"].notna().sum()
    assert (
        baselines["climatology"].info["n_train_undefined"] == train["fss_t0.5_w9"].isna().sum() > 0
    )
    validation = split["split"].to_numpy() == "validation"
    n_val = table["fss_t0.5_w9"][validation].notna().sum()
    assert baselines["climatology"].conformal.n_calibration == n_val


def test_covariate_baseline_recovers_a_monotone_relation(world) -> None:
    table, split = world
    baseline = fit_baselines(table, "fss_t0.5_w9", split, seed=0)["covariate:ir_influence_mean"]
    assert baseline.info["increasing"] is False
    grid = pd.DataFrame({"ir_influence_mean": np.linspace(5, 95, 19)})
    np.testing.assert_allclose(
        baseline.predict(grid), _relation(grid["ir_influence_mean"]), atol=0.05
    )
    # a missing covariate gets the training median
    assert baseline.predict(pd.DataFrame({"ir_influence_mean": [np.nan]}))[0] == pytest.approx(
        baseline.info["median"]
    )


def test_baselines_on_test_and_their_intervals(world) -> None:
    table, split = world
    baselines = fit_baselines(table, "fss_t0.5_w9", split, seed=0)
    assert set(baselines) == {
        "climatology",
        "covariate:ir_influence_mean",
        "covariate:quality_index_mean",
        "covariate:pmw_age_mean",
        "gradient_boosting",
    }
    gbm = baselines["gradient_boosting"]
    assert "convective_fraction" not in gbm.columns and "fss_t0.5_w9" not in gbm.columns
    assert set(gbm.columns) == {
        "ir_influence_mean",
        "quality_index_mean",
        "pmw_age_mean",
        "mean_rate_imerg",
        "hour",
    }
    rows = {r["model"]: r for r in evaluate_baselines(baselines, table, "fss_t0.5_w9", split)}
    test_defined = table["fss_t0.5_w9"][split["split"].to_numpy() == "test"].notna().sum()
    assert all(r["n_test"] == test_defined for r in rows.values())
    assert rows["covariate:ir_influence_mean"]["spearman"] > 0.9
    assert rows["gradient_boosting"]["spearman"] > 0.9
    assert abs(rows["covariate:quality_index_mean"]["spearman"]) < 0.3
    assert rows["climatology"]["mae"] > 2 * rows["covariate:ir_influence_mean"]["mae"]
    for row in rows.values():  # calibrated on 2 validation days: near 80 % on 2 test days
        assert 0.65 <= row["coverage"] <= 0.95, row
    # seeded: the same fit twice gives the same predictions
    again = fit_baselines(table, "fss_t0.5_w9", split, seed=0)["gradient_boosting"]
    np.testing.assert_array_equal(again.predict(table), gbm.predict(table))


def test_baselines_refuse_radar_side_inputs(world) -> None:
    table, split = world
    with pytest.raises(RadarSideInputError, match=r"'convective_fraction' \(radar\)"):
        fit_baselines(
            table, "fss_t0.5_w9", split, features=["mean_rate_imerg", "convective_fraction"]
        )
    with pytest.raises(RadarSideInputError, match=r"'pod_t1.0' \(imerg_and_radar\)"):
        fit_baselines(table, "fss_t0.5_w9", split, covariates=["pod_t1.0"])
    with pytest.raises(RadarSideInputError, match="convective_fraction"):
        fit_gradient_boosting(table, "fss_t0.5_w9", ["convective_fraction"])


def test_evaluation_table_reports_a_losing_model(world) -> None:
    rows = [
        {
            "model": "climatology",
            "kind": "baseline",
            "spearman": np.nan,
            "r2": 0.0,
            "mae": 0.3,
            "coverage": 0.8,
            "n_test": 10,
        },
        {
            "model": "gradient_boosting",
            "kind": "baseline",
            "spearman": 0.74,
            "r2": 0.5,
            "mae": 0.1,
            "coverage": 0.8,
            "n_test": 10,
        },
        {
            "model": "unet",
            "kind": "deep",
            "spearman": 0.71,
            "r2": 0.4,
            "mae": 0.2,
            "coverage": 0.7,
            "n": 10,
            "pixel_skill": 0.2,
        },
        {
            "model": "unet_big",
            "kind": "deep",
            "spearman": 0.9,
            "r2": 0.8,
            "mae": 0.05,
            "coverage": 0.8,
            "n_test": 10,
        },
    ]
    table = evaluation_table(rows)
    assert list(table.columns) == list(EVALUATION_COLUMNS)
    assert table["verdict"].tolist() == [
        "",
        "",
        "loses to gradient_boosting (ρ 0.71 vs 0.74)",
        "beats every baseline",
    ]
    assert table.loc[2, "n_test"] == 10 and np.isnan(table.loc[0, "pixel_skill"])
    assert evaluation_table(rows[2:3])["verdict"].tolist() == ["no baseline to compare with"]
    with pytest.raises(ValueError, match=r"kind baseline\|deep"):
        evaluation_table([{"model": "x", "kind": "cnn"}])


def test_baselines_are_scored_on_the_clipped_estimates_that_their_predictions_hold(world) -> None:
    """An estimate beyond the score's range counts as the clipped value that
    ``predict_baselines`` (and the report) shows, as the U-Net's does."""
    table, split = world
    too_high = Baseline(
        "too_high",
        (),
        lambda x: np.full(len(x), 1.5),
        conformal=SplitConformal(quantile=0.1, coverage=0.8, n_calibration=10, bounds=(0.0, 1.0)),
    )
    baselines = {"too_high": too_high}
    (row,) = evaluate_baselines(baselines, table, "fss_t0.5_w9", split)
    test = table["fss_t0.5_w9"][(split["split"] == "test").to_numpy()].dropna()
    assert row["mae"] == pytest.approx(np.mean(np.abs(1.0 - test)))
    assert row["coverage"] == pytest.approx(np.mean((test >= 0.9) & (test <= 1.0)))
    predictions = predict_baselines(baselines, table, "fss_t0.5_w9", split)
    rows = predictions[(predictions["split"] == "test") & predictions["actual"].notna()]
    assert (rows["predicted"] == 1.0).all()
    assert row["mae"] == pytest.approx((rows["predicted"] - rows["actual"]).abs().mean())
