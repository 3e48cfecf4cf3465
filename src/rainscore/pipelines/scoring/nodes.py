"""Nodes of the ``scoring`` pipeline: thin wrappers of :mod:`rainscore.scores` and
:mod:`rainscore.analysis`.

Each node parses its parameter sections once (``ScoringSection.from_dict(params:scoring)``,
``TargetConfig.from_dict(params:target)``) and passes the typed configs to the library.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from rainscore.analysis import (
    analysis_figures,
    analysis_markdown,
    describe_scores,
    local_error_maps,
    map_features,
    matching_truth,
)
from rainscore.param_sections import ScoringSection
from rainscore.scores import TargetConfig, score_maps_parallel
from rainscore.validation import ValidationReport, validate_map_scores


def score_pairs(colocated_pairs: xr.Dataset, scoring: dict[str, Any]) -> pd.DataFrame:
    """Every score of every colocated map (one row per time)."""
    config = ScoringSection.from_dict(scoring)
    return score_maps_parallel(
        colocated_pairs["imerg"],
        colocated_pairs["radar"],
        mask=colocated_pairs["mask"],
        config=config.scores,
        workers=config.workers,
        block_size=config.block_maps,
    )


def compute_features(
    colocated_pairs: xr.Dataset, demo_truth: xr.Dataset | None, scoring: dict[str, Any]
) -> pd.DataFrame:
    """Context features of every map; the true regime when the pairs come from the world
    whose truth this is."""
    return map_features(
        colocated_pairs,
        config=ScoringSection.from_dict(scoring).features,
        truth=matching_truth(colocated_pairs, demo_truth),
    )


def join_scores_and_features(scores: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The ``map_scores`` table: scores and context features side by side, by time."""
    overlap = [c for c in features.columns if c in scores.columns]
    return scores.join(features.drop(columns=overlap), how="left")


def compute_local_errors(colocated_pairs: xr.Dataset, target: dict[str, Any]) -> xr.Dataset:
    """Per-pixel U-Net targets at the threshold and window of the target score."""
    config = TargetConfig.from_dict(target)
    maps = local_error_maps(
        colocated_pairs, threshold=config.local_threshold, window=config.local_window
    )
    return maps.assign_attrs(target_score=config.score)


def validate_scores(
    map_scores: pd.DataFrame, scoring: dict[str, Any], target: dict[str, Any]
) -> tuple[dict, str]:
    """Great Expectations suite on ``map_scores``: the report (JSON and Markdown)."""
    summaries, failures = validate_map_scores(
        map_scores,
        target=TargetConfig.from_dict(target).score,
        min_target_defined=ScoringSection.from_dict(scoring).validation.min_target_defined,
    )
    report = ValidationReport(title="map_scores", suites=summaries, failures=failures)
    return report.to_dict(), report.to_markdown()


def analyse_scores(
    map_scores: pd.DataFrame,
    map_scores_validation: dict,
    scoring: dict[str, Any],
    target: dict[str, Any],
) -> tuple[dict, dict[str, Figure], str]:
    """The descriptive analysis; stops the run first if ``map_scores`` failed validation.

    Returns:
        The analysis numbers (JSON), its figures and its Markdown report.
    """
    ValidationReport.from_dict(map_scores_validation).raise_for_failures()
    config = ScoringSection.from_dict(scoring).analysis
    analysis = describe_scores(map_scores, config=config)
    figures = {
        f"{stem}.png": fig
        for stem, fig in analysis_figures(map_scores, analysis, config=config).items()
    }
    report = analysis_markdown(analysis, configured_target=TargetConfig.from_dict(target).score)
    return analysis.to_dict(), figures, report
