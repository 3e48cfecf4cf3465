"""The model figures: predicted vs actual of one model, of every model, and the entry point."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from rainscore.reporting import predicted_vs_actual_figure
from rainscore.reporting.models import (
    PREDICTION_COLUMNS,
    evaluation_rows,
    model_predictions,
    model_report_figures,
    models_figure,
)


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


def _long(model: str, offset: float, n_test: int = 4) -> pd.DataFrame:
    """A model's predictions: 2 validation and ``n_test`` test maps, estimate = actual + offset."""
    actual = np.linspace(0.2, 0.8, 2 + n_test)
    return pd.DataFrame(
        {
            "time": pd.date_range("2024-06-10", periods=2 + n_test, freq="30min"),
            "split": ["validation"] * 2 + ["test"] * n_test,
            "model": model,
            "actual": actual,
            "predicted": actual + offset,
            "lower": actual + offset - 0.1,
            "upper": actual + offset + 0.1,
        }
    )


def _full_evaluation() -> pd.DataFrame:
    rows = [
        ("climatology", "baseline", np.nan, 0.2, 0.5, ""),
        ("gradient_boosting", "baseline", 0.9, 0.05, 0.8, ""),
        ("unet", "deep", 0.7, 0.1, 0.75, "loses to gradient_boosting (ρ 0.70 vs 0.90)"),
        ("clustering:kmeans", "deep", 0.95, 0.04, 0.8, "beats every baseline"),
    ]
    return pd.DataFrame(rows, columns=["model", "kind", "spearman", "mae", "coverage", "verdict"])


def _inputs() -> dict:
    baselines = pd.concat([_long("climatology", 0.05), _long("gradient_boosting", 0.01)])
    unet = _long("unet", -0.02).drop(columns="model")
    kmeans = _long("kmeans", 0.0).drop(columns="model").rename(columns={"predicted": "estimate"})
    dec = kmeans.assign(actual=np.nan)  # no test map with a defined target
    evaluation = _full_evaluation()
    return {
        "unet_predictions": unet,
        "baseline_predictions": baselines,
        "model_evaluation": evaluation[~evaluation["model"].str.startswith("clustering")],
        "clustering_evaluation": evaluation,
        "kmeans_assignments": kmeans,
        "dec_assignments": dec,
        "desom_assignments": None,
        "kmeans_model": None,
        "dec_model": None,
        "desom_model": None,
        "cluster_labels": None,
        "latent_embeddings": None,
        "map_scores": None,
        "imerg_cube": None,
    }


def test_one_panel_per_model_with_its_metrics_and_verdict() -> None:
    predictions = model_predictions(
        _inputs()["unet_predictions"],
        _inputs()["baseline_predictions"],
        {"kmeans": _inputs()["kmeans_assignments"], "dec": _inputs()["dec_assignments"]},
    )
    assert list(predictions.columns) == list(PREDICTION_COLUMNS)
    evaluation = evaluation_rows(_inputs()["model_evaluation"], _full_evaluation())
    fig, models = models_figure(predictions, evaluation, target="fss_t0.5_w9")
    assert models == [
        "climatology", "gradient_boosting", "unet", "clustering:kmeans", "clustering:dec"
    ]  # fmt: skip
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == len(models)
    titles = [ax.get_title() for ax in panels]
    assert titles[0] == "climatology\nρ – · MAE 0.200 · coverage 50%"
    assert titles[1].startswith("gradient_boosting (best baseline)\nρ 0.90")
    assert titles[2].endswith("loses to gradient_boosting\n(ρ 0.70 vs 0.90)")
    assert panels[2].title.get_color() == "#b71c1c"  # a loser says so in red
    assert panels[3].title.get_color() == "#1b5e20"
    assert titles[4] == "clustering:dec\nno evaluation row"
    assert [t.get_text() for t in panels[4].texts] == ["no defined test maps"]
    # test maps only, with their intervals; shared axes and the 1:1 line on every panel
    (points,) = [line for line in panels[2].lines if line.get_marker() == "o"]
    np.testing.assert_allclose(points.get_xdata(), np.linspace(0.2, 0.8, 6)[2:])
    assert all(ax.get_xlim() == panels[0].get_xlim() for ax in panels)
    assert all(any(line.get_linestyle() == "--" for line in ax.lines) for ax in panels)
    assert panels[0].get_ylabel() == "estimated fss_t0.5_w9 (IMERG only)"
    assert panels[-1].get_xlabel() == "actual fss_t0.5_w9 (radar)"


def test_the_entry_point_gives_every_section_even_with_missing_inputs() -> None:
    figures = model_report_figures(**_inputs(), target="fss_t0.5_w9")
    assert [f.name for f in figures] == [
        "predicted_vs_actual_models",
        "cluster_prototypes_kmeans",
        "cluster_prototypes_dec",
        "cluster_prototypes_desom",
        "som_grid_desom",
        "latent_pca",
    ]
    assert [f.section for f in figures] == ["models"] + ["clusters"] * 4 + ["latent"]
    assert (
        "on the 4 test maps with a defined target (5 models: 2 baselines fitted on the "
        "training maps; the U-Net; the cluster labels of kmeans, dec)"
    ) in figures[0].caption
    assert all(isinstance(f.figure, Figure) for f in figures)


def test_no_predictions_at_all_say_no_defined_test_maps() -> None:
    inputs = dict.fromkeys(_inputs())
    figures = model_report_figures(**inputs, target="fss_t0.5_w9")
    text = figures[0].figure.axes[0].texts[0].get_text()
    assert text == "no model predictions: no defined test maps"


def test_model_evaluation_rows_win_over_their_copies_in_clustering_evaluation() -> None:
    clustering = _full_evaluation()
    training = clustering.iloc[:3].assign(mae=[0.3, 0.06, 0.11])  # trained again since
    rows = evaluation_rows(training, clustering).set_index("model")
    assert list(rows.index) == ["climatology", "gradient_boosting", "unet", "clustering:kmeans"]
    assert rows["mae"].tolist() == [0.3, 0.06, 0.11, 0.04]
    assert evaluation_rows(None, clustering)["model"].tolist() == clustering["model"].tolist()
    assert evaluation_rows(None, None).empty
