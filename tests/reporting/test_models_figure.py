"""The predicted-vs-actual figure of a model's map scores."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rainscore.reporting import predicted_vs_actual_figure


def _predictions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    actual = rng.random(12)
    actual[3] = np.nan  # a map too dry for the target
    predicted = actual + rng.normal(0, 0.05, 12)
    predicted[3] = 0.4
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-06-10", periods=12, freq="30min"),
            "split": ["train"] * 6 + ["validation"] * 3 + ["test"] * 3,
            "actual": actual,
            "predicted": predicted,
            "lower": predicted - 0.1,
            "upper": predicted + 0.1,
        }
    )


def _evaluation(rho_baseline: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "model": ["climatology", "gradient_boosting", "unet"],
            "kind": ["baseline", "baseline", "deep"],
            "spearman": [np.nan, rho_baseline, 0.5],
            "r2": [-1.0, 0.2, 0.1],
            "mae": [0.2, 0.1, 0.12],
            "coverage": [0.5, 0.8, 0.75],
        }
    )


def test_points_by_split_the_test_maps_with_intervals_and_the_metrics_in_the_title() -> None:
    fig = predicted_vs_actual_figure(_predictions(), _evaluation(0.7), target="fss_t0.5_w9")
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == ["1:1", "test (3), with interval", "train (5)", "validation (3)"]
    assert ax.get_xlabel() == "actual fss_t0.5_w9 (radar)"
    title = ax.get_title()
    assert "unet on test: ρ 0.50, R² 0.10, MAE 0.120, coverage 75%" in title
    assert "best baseline gradient_boosting: ρ 0.70" in title


def test_no_baseline_with_a_rank_correlation_leaves_it_out_of_the_title() -> None:
    fig = predicted_vs_actual_figure(_predictions(), _evaluation(np.nan), target="csi_t1.0")
    assert "best baseline" not in fig.axes[0].get_title()
