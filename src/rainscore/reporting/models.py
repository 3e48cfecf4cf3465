"""The report's model figures: estimated against radar-based map scores, every model.

:func:`model_report_figures` is the reporting pipeline's one entry point for the
``models``, ``clusters`` and ``latent`` sections: the predicted-against-actual small
multiples of every baseline, the U-Net and every clustering method
(:func:`models_figure`), each clustering's decoded prototypes and the SOM grid
(:mod:`rainscore.reporting.clusters`) and the 2-D view of the latent space
(:mod:`rainscore.reporting.latent`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rainscore.models.artefacts import ModelArtefact
from rainscore.reporting.clusters import cluster_figures
from rainscore.reporting.figure import ReportFigure
from rainscore.reporting.latent import latent_report_figure
from rainscore.reporting.panels import message_axes, message_figure, panel_grid

__all__ = [
    "CLUSTERING_METHODS",
    "PREDICTION_COLUMNS",
    "evaluation_rows",
    "model_predictions",
    "model_report_figures",
    "models_figure",
    "predicted_vs_actual_figure",
]

_COLOURS = {"train": "#9e9e9e", "validation": "#1f77b4", "test": "#d62728"}
_VERDICT_COLOURS = {"loses": "#b71c1c", "beats": "#1b5e20"}

#: The clustering methods, in the report's order (``<method>_assignments``, ``<method>_model``).
CLUSTERING_METHODS: tuple[str, ...] = ("kmeans", "dec", "desom")

#: The columns of :func:`model_predictions`.
PREDICTION_COLUMNS: tuple[str, ...] = (
    "model",
    "kind",
    "time",
    "split",
    "actual",
    "predicted",
    "lower",
    "upper",
)

#: What a panel says when its model has no test map with a defined target.
NO_TEST_MAPS = "no defined test maps"


def predicted_vs_actual_figure(
    predictions: pd.DataFrame, evaluation: pd.DataFrame, *, target: str, model: str = "unet"
) -> Figure:
    """Predicted against actual target score, one point per map, coloured by split.

    The test maps carry their conformal interval (vertical bars); the title gives the
    model's test metrics and the best baseline's Spearman ρ from ``evaluation``.

    Args:
        predictions: ``time``, ``split``, ``actual``, ``predicted``, ``lower``, ``upper``
            (``unet_predictions``).
        evaluation: One row per model (``model_evaluation``).
        target: The target score's name, for the axes.
        model: The model's row in ``evaluation``.

    Returns:
        The figure (not shown).
    """
    fig = Figure(figsize=(6.0, 5.5), layout="constrained")
    ax = fig.add_subplot()
    defined = predictions[np.isfinite(predictions["actual"].to_numpy(dtype=float))]
    for split, colour in _COLOURS.items():
        rows = defined[defined["split"] == split]
        if rows.empty:
            continue
        if split == "test":
            _intervals(ax, rows, colour, label=f"{split} ({len(rows)}), with interval")
        else:
            ax.scatter(
                rows["actual"],
                rows["predicted"],
                s=8,
                color=colour,
                alpha=0.5,
                label=f"{split} ({len(rows)})",
            )
    values = defined[["actual", "predicted"]].to_numpy(dtype=float)
    if values.size:
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        ax.plot([low, high], [low, high], color="black", lw=0.8, ls="--", label="1:1")
    ax.set_xlabel(f"actual {target} (radar)")
    ax.set_ylabel(f"predicted {target} (IMERG only)")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(_title(evaluation, model), fontsize=9)
    return fig


def _intervals(ax: Axes, rows: pd.DataFrame, colour: str, *, label: str | None = None) -> None:
    """Estimates against actual scores with their intervals as vertical bars."""
    predicted = rows["predicted"].to_numpy(dtype=float)
    ax.errorbar(
        rows["actual"].to_numpy(dtype=float),
        predicted,
        yerr=[
            predicted - rows["lower"].to_numpy(dtype=float),
            rows["upper"].to_numpy(dtype=float) - predicted,
        ],
        fmt="o",
        ms=3,
        color=colour,
        ecolor=colour,
        elinewidth=0.6,
        alpha=0.8,
        label=label,
    )


def _title(evaluation: pd.DataFrame, model: str) -> str:
    rows = evaluation[evaluation["model"] == model]
    if rows.empty:
        return model
    row = rows.iloc[0]
    baselines = evaluation[evaluation["kind"] == "baseline"]
    rho = baselines["spearman"].astype(float)
    best = baselines.loc[rho.idxmax()] if rho.notna().any() else None
    text = (
        f"{model} on test: ρ {row['spearman']:.2f}, R² {row['r2']:.2f}, "
        f"MAE {row['mae']:.3f}, coverage {row['coverage']:.0%}"
    )
    if best is not None:
        text += f"\nbest baseline {best['model']}: ρ {float(best['spearman']):.2f}"
    return text


def _present(table: pd.DataFrame | None) -> bool:
    return table is not None and not table.empty


def model_predictions(
    unet_predictions: pd.DataFrame | None,
    baseline_predictions: pd.DataFrame | None,
    assignments: Mapping[str, pd.DataFrame | None],
) -> pd.DataFrame:
    """Every model's estimate and interval of every map, in one long table.

    Args:
        unet_predictions: ``time``, ``split``, ``actual``, ``predicted``, ``lower``,
            ``upper`` (model ``unet``), or None.
        baseline_predictions: The same with a ``model`` column (``baseline_predictions``),
            or None.
        assignments: ``{method: <method>_assignments}`` (``estimate`` is the prediction;
            model ``clustering:<method>``); a None or empty table is left out.

    Returns:
        :data:`PREDICTION_COLUMNS`: baselines (kind ``baseline``) first, then the U-Net and
        the clusterings (kind ``deep``), each in the order given.
    """
    frames = []
    if _present(baseline_predictions):
        frames.append(baseline_predictions.assign(kind="baseline"))
    if _present(unet_predictions):
        frames.append(unet_predictions.assign(model="unet", kind="deep"))
    for method, table in assignments.items():
        if _present(table):
            frames.append(
                table.rename(columns={"estimate": "predicted"}).assign(
                    model=f"clustering:{method}", kind="deep"
                )
            )
    if not frames:
        return pd.DataFrame({c: [] for c in PREDICTION_COLUMNS})
    return pd.concat([f[list(PREDICTION_COLUMNS)] for f in frames], ignore_index=True)


def evaluation_rows(
    model_evaluation: pd.DataFrame | None, clustering_evaluation: pd.DataFrame | None
) -> pd.DataFrame:
    """One evaluation row per model: ``model_evaluation``'s, then the clusterings'.

    ``clustering_evaluation`` repeats ``model_evaluation``'s rows beside the clusterings'
    (verdicts against the same baselines); where both hold a model, ``model_evaluation``'s
    row is taken (the training pipeline's own, the newer one when only training ran
    again). Either table alone serves.

    Args:
        model_evaluation: ``model_evaluation`` or None.
        clustering_evaluation: ``clustering_evaluation`` or None.

    Returns:
        The rows (``model``, ``kind``, ``spearman``, ``mae``, ``coverage``, ``n_test``,
        ``verdict``…), one per model.
    """
    tables = [t for t in (model_evaluation, clustering_evaluation) if _present(t)]
    if not tables:
        return pd.DataFrame(
            {c: [] for c in ("model", "kind", "spearman", "mae", "coverage", "verdict")}
        )
    return pd.concat(tables, ignore_index=True).drop_duplicates("model").reset_index(drop=True)


def _format(value: object, spec: str) -> str:
    number = float(value) if value is not None else math.nan
    return "–" if not math.isfinite(number) else format(number, spec)


def _panel_title(model: str, row: pd.Series | None, best_baseline: str | None) -> tuple[str, str]:
    """The panel's title and its colour: metrics, and the verdict of a deep model."""
    if row is None:
        return f"{model}\nno evaluation row", "black"
    title = (
        f"{model}{' (best baseline)' if model == best_baseline else ''}\n"
        f"ρ {_format(row.get('spearman'), '.2f')} · MAE {_format(row.get('mae'), '.3f')} · "
        f"coverage {_format(row.get('coverage'), '.0%')}"
    )
    verdict = str(row.get("verdict") or "") if row.get("kind") == "deep" else ""
    if not verdict:
        return title, "black"
    colour = next((c for word, c in _VERDICT_COLOURS.items() if verdict.startswith(word)), "black")
    # "loses to <baseline> (ρ a vs b)" is wider than a panel: the comparison on its own line.
    wrapped = verdict.replace(" (", "\n(", 1)
    return f"{title}\n{wrapped}", colour


def _limits(tests: pd.DataFrame) -> tuple[float, float]:
    values = tests[["actual", "predicted", "lower", "upper"]].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    low, high = float(values.min()), float(values.max())
    pad = 0.04 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def models_figure(
    predictions: pd.DataFrame, evaluation: pd.DataFrame, *, target: str
) -> tuple[Figure, list[str]]:
    """Estimated against actual target score on the test maps, one panel per model.

    Shared axes, the 1:1 line, each test map with a defined target as a point with its
    interval; each panel's title gives the model's test Spearman ρ, MAE and interval
    coverage from ``evaluation``, marks the best baseline, and for a deep model its
    verdict against the baselines (red when it loses to one, green when it beats them all).

    Args:
        predictions: :func:`model_predictions`.
        evaluation: :func:`evaluation_rows`.
        target: The target score's name, for the axes.

    Returns:
        The figure and the models drawn, one per panel in order (an empty list when no
        model has predictions: the figure then says so).
    """
    models = list(dict.fromkeys(predictions["model"]))
    if not models:
        return message_figure(f"no model predictions: {NO_TEST_MAPS}"), []
    tests = predictions[
        (predictions["split"] == "test") & np.isfinite(predictions["actual"].to_numpy(dtype=float))
    ]
    ncols = min(4, len(models))
    fig, axes = panel_grid(
        len(models), ncols=ncols, panel_size=(3.0, 3.4), sharex=True, sharey=True
    )
    low, high = _limits(tests)
    rows = evaluation.set_index("model") if not evaluation.empty else pd.DataFrame()
    rho = evaluation.loc[evaluation["kind"] == "baseline", "spearman"].astype(float)
    best_baseline = str(evaluation.loc[rho.idxmax(), "model"]) if rho.notna().any() else None
    for ax, model in zip(axes, models, strict=True):
        ax.plot([low, high], [low, high], color="black", lw=0.8, ls="--")
        model_tests = tests[tests["model"] == model]
        if model_tests.empty:
            message_axes(ax, NO_TEST_MAPS)
        else:
            kind = model_tests["kind"].iloc[0]
            _intervals(ax, model_tests, "#616161" if kind == "baseline" else _COLOURS["test"])
        row = rows.loc[model] if model in rows.index else None
        title, colour = _panel_title(model, row, best_baseline)
        ax.set_title(title, fontsize=8, color=colour)
        ax.set_xlim(low, high)
        ax.set_ylim(low, high)
        ax.grid(alpha=0.3, lw=0.5)
    for index, ax in enumerate(axes):
        if index % ncols == 0:
            ax.set_ylabel(f"estimated {target} (IMERG only)")
        if index + ncols >= len(models):
            ax.set_xlabel(f"actual {target} (radar)")
            ax.xaxis.set_tick_params(labelbottom=True)
    return fig, models


def _kinds(models: list[str]) -> str:
    """What the models drawn are, in words, for the caption."""
    clusterings = [m.removeprefix("clustering:") for m in models if m.startswith("clustering:")]
    baselines = [m for m in models if m != "unet" and not m.startswith("clustering:")]
    parts = [f"{len(baselines)} baselines fitted on the training maps"] if baselines else []
    parts += ["the U-Net"] if "unet" in models else []
    if clusterings:
        parts.append(f"the cluster labels of {', '.join(clusterings)}")
    return "; ".join(parts) or "none"


def model_report_figures(
    unet_predictions: pd.DataFrame | None,
    baseline_predictions: pd.DataFrame | None,
    model_evaluation: pd.DataFrame | None,
    clustering_evaluation: pd.DataFrame | None,
    kmeans_assignments: pd.DataFrame | None,
    dec_assignments: pd.DataFrame | None,
    desom_assignments: pd.DataFrame | None,
    kmeans_model: ModelArtefact | None,
    dec_model: ModelArtefact | None,
    desom_model: ModelArtefact | None,
    cluster_labels: pd.DataFrame | None,
    latent_embeddings: pd.DataFrame | None,
    map_scores: pd.DataFrame | None,
    imerg_cube: xr.Dataset | None,
    *,
    target: str,
) -> list[ReportFigure]:
    """Every model figure of the report (sections ``models``, ``clusters``, ``latent``).

    Args:
        unet_predictions: The U-Net's estimate and interval of every map.
        baseline_predictions: Every baseline's (``model`` column).
        model_evaluation: One row per model on the test maps.
        clustering_evaluation: ``model_evaluation``'s rows and one per clustering method.
        kmeans_assignments: k-means' cluster, estimate and interval of every map.
        dec_assignments: DEC's.
        desom_assignments: DESOM's.
        kmeans_model: The k-means artefact (centroids, autoencoder, labels).
        dec_model: DEC's (centroids, fine-tuned autoencoder, labels).
        desom_model: DESOM's (SOM prototypes on their grid, fine-tuned autoencoder, labels).
        cluster_labels: Per method and cluster: ``count``, ``median``, ``q25``, ``q75``…
        latent_embeddings: ``time``, ``split``, ``z_*`` of every map.
        map_scores: The map scores (the actual target, by time).
        imerg_cube: The IMERG cube (its ``lat``/``lon`` only: the prototypes' axes).
        target: The target score's name (``TargetConfig.from_dict(params:target).score``).

    Any input may be None or empty: the figure that needs it says what is missing.

    Returns:
        ``predicted_vs_actual_models`` (models), ``cluster_prototypes_<method>`` and
        ``som_grid_desom`` (clusters), ``latent_pca`` (latent).
    """
    assignments = {
        "kmeans": kmeans_assignments,
        "dec": dec_assignments,
        "desom": desom_assignments,
    }
    predictions = model_predictions(unet_predictions, baseline_predictions, assignments)
    evaluation = evaluation_rows(model_evaluation, clustering_evaluation)
    fig, models = models_figure(predictions, evaluation, target=target)
    tests = predictions[(predictions["split"] == "test") & predictions["actual"].notna()]
    n_test = tests["time"].nunique()
    figures = [
        ReportFigure(
            name="predicted_vs_actual_models",
            section="models",
            title="Estimated against radar-based map score, every model",
            caption=(
                f"Each panel: one model's estimate of {target} from IMERG alone against the "
                f"radar-based value, on the {n_test} test maps with a defined target "
                f"({len(models)} models: {_kinds(models)}); bars: split-conformal "
                "intervals calibrated on the validation maps; dashed: 1:1. Titles: "
                "Spearman ρ, MAE and interval coverage on the test maps; a deep model's "
                "verdict against the baselines (red: loses to one)."
            ),
            figure=fig,
        )
    ]
    models_by_method = {"kmeans": kmeans_model, "dec": dec_model, "desom": desom_model}
    figures += cluster_figures(models_by_method, cluster_labels, imerg_cube, target=target)
    figures.append(latent_report_figure(latent_embeddings, map_scores, kmeans_model, target=target))
    return figures
