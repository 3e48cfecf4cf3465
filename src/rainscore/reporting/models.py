"""The figure of a model's estimated map scores against the radar-based ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_COLOURS = {"train": "#9e9e9e", "validation": "#1f77b4", "test": "#d62728"}


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
            ax.errorbar(
                rows["actual"],
                rows["predicted"],
                yerr=[rows["predicted"] - rows["lower"], rows["upper"] - rows["predicted"]],
                fmt="o",
                ms=3,
                color=colour,
                ecolor=colour,
                elinewidth=0.6,
                alpha=0.8,
                label=f"{split} ({len(rows)}), with interval",
            )
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
