"""The report's score and context figures, drawn by the descriptive analysis.

The numbers and the binning are :mod:`rainscore.analysis.descriptive`'s (the
``scoring_analysis`` output and :func:`~rainscore.analysis.descriptive.analysis_figures`):
this module only picks the figures, restricts the context figures to the target score and
words their captions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rainscore.analysis.descriptive import (
    PRESENCE_COVARIATES,
    Analysis,
    AnalysisConfig,
    analysis_figures,
)
from rainscore.reporting.figure import ReportFigure

#: The grouping figures of the analysis and what they group by.
_GROUPINGS = {
    "by_season": "the meteorological season",
    "by_hour": "the hour of the day (UTC, 3-hour bins)",
    "by_true_regime": "the synthetic world's rain regime (demo only)",
}


def analysis_from_dict(analysis: Mapping[str, Any]) -> Analysis:
    """The :class:`Analysis` of a saved ``scoring_analysis`` (its ``to_dict`` form).

    Args:
        analysis: The dictionary (``n_maps``, ``candidates``, ``coverage``…).

    Returns:
        The analysis.

    Raises:
        ValueError: Naming the keys that are missing.
    """
    fields = [f.name for f in dataclasses.fields(Analysis)]
    missing = [name for name in fields if name not in analysis]
    if missing:
        raise ValueError(f"scoring_analysis lacks the keys {missing}")
    return Analysis(**{name: analysis[name] for name in fields})


def score_figures(
    table: pd.DataFrame, analysis: Mapping[str, Any], *, config: AnalysisConfig, target: str
) -> list[ReportFigure]:
    """Distributions of the candidate scores, their correlation, and the target in context.

    The ``scores`` section gets every candidate's distribution and their correlation; the
    ``context`` section the target's median against PMW age, PMW coverage, IR influence and
    quality index, and by season, hour and regime (every candidate when the target is not
    one of the analysis' candidates).

    Args:
        table: ``map_scores``.
        analysis: ``scoring_analysis``.
        config: The analysis parameters (``scoring.analysis``: the number of bins).
        target: The target score's column.

    Returns:
        The figures, scores then context.
    """
    full = analysis_from_dict(analysis)
    # Distributions and correlation only: no covariates, no groupings.
    overall = analysis_figures(
        table.drop(columns=list(PRESENCE_COVARIATES), errors="ignore"),
        dataclasses.replace(full, grouped={}),
        config=config,
    )
    context = full
    if target in full.candidates:
        context = dataclasses.replace(full, candidates=[target])
    about = context.candidates[0] if len(context.candidates) == 1 else "each candidate score"
    by_context = analysis_figures(table, context, config=config)
    figures = [
        ReportFigure(
            name="score_distributions",
            section="scores",
            title="Distributions of the candidate scores",
            caption=f"Histograms of each candidate target score over the {full.n_maps} maps, "
            "with the share of maps where it is defined (scoring_analysis).",
            figure=overall["distributions"],
        ),
        ReportFigure(
            name="score_correlation",
            section="scores",
            title="Correlation between the candidate scores",
            caption="Spearman rank correlation between the candidate scores, pairwise over "
            "the maps where both are defined.",
            figure=overall["correlation"],
        ),
    ]
    if "dependence_presence" in by_context:
        covariates = ", ".join(c for c in PRESENCE_COVARIATES if c in table)
        figures.append(
            ReportFigure(
                name="score_vs_presence",
                section="context",
                title=f"{about} against satellite presence",
                caption=f"Median (line) and interquartile range (band) of {about} in "
                f"{config.n_bins} quantile bins of each presence covariate ({covariates}); "
                "ρ is the Spearman correlation over the maps.",
                figure=by_context["dependence_presence"],
            )
        )
    for key, words in _GROUPINGS.items():
        if key in by_context:
            figures.append(
                ReportFigure(
                    name=f"score_{key}",
                    section="context",
                    title=f"{about} by {words.split(' (')[0].removeprefix('the ')}",
                    caption=f"Median of {about} by {words}.",
                    figure=by_context[key],
                )
            )
    return figures
