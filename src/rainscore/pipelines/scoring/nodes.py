"""Nodes of the ``scoring`` pipeline: thin wrappers of :mod:`rainscore.scores` and
:mod:`rainscore.analysis`."""

from __future__ import annotations

from typing import Any

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from rainscore.analysis import (
    AnalysisConfig,
    FeatureConfig,
    LocalErrorConfig,
    analysis_figures,
    analysis_markdown,
    describe_scores,
    local_error_maps,
    local_error_settings,
    map_features,
    matching_truth,
)
from rainscore.scores import ScoreConfig, score_maps_parallel
from rainscore.validation import ValidationReport, validate_map_scores


def score_pairs(colocated_pairs: xr.Dataset, scoring: dict[str, Any]) -> pd.DataFrame:
    """Every score of every colocated map (one row per time)."""
    return score_maps_parallel(
        colocated_pairs["imerg"],
        colocated_pairs["radar"],
        mask=colocated_pairs["mask"],
        config=ScoreConfig.from_dict(scoring["scores"]),
        workers=int(scoring["workers"]),
        block_size=int(scoring["block_maps"]),
    )


def compute_features(
    colocated_pairs: xr.Dataset, demo_truth: xr.Dataset | None, scoring: dict[str, Any]
) -> pd.DataFrame:
    """Context features of every map; the true regime when the pairs come from the world
    whose truth this is."""
    return map_features(
        colocated_pairs,
        config=FeatureConfig.from_dict(scoring["features"]),
        truth=matching_truth(colocated_pairs, demo_truth),
    )


def join_scores_and_features(scores: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The ``map_scores`` table: scores and context features side by side, by time."""
    overlap = [c for c in features.columns if c in scores.columns]
    return scores.join(features.drop(columns=overlap), how="left")


def compute_local_errors(colocated_pairs: xr.Dataset, scoring: dict[str, Any]) -> xr.Dataset:
    """Per-pixel U-Net targets at the threshold and window of the target score."""
    target = scoring["target_score"]
    params = LocalErrorConfig.from_dict(scoring.get("local_error"))
    threshold, window = local_error_settings(
        target, threshold=params.threshold, window=params.window
    )
    maps = local_error_maps(colocated_pairs, threshold=threshold, window=window)
    return maps.assign_attrs(target_score=target)


def validate_scores(map_scores: pd.DataFrame, scoring: dict[str, Any]) -> tuple[dict, str]:
    """Great Expectations suite on ``map_scores``: the report (JSON and Markdown)."""
    summaries, failures = validate_map_scores(
        map_scores,
        target=scoring["target_score"],
        min_target_defined=float(scoring["validation"]["min_target_defined"]),
    )
    report = ValidationReport(title="map_scores", suites=summaries, failures=failures)
    return report.to_dict(), report.to_markdown()


def analyse_scores(
    map_scores: pd.DataFrame, map_scores_validation: dict, scoring: dict[str, Any]
) -> tuple[dict, dict[str, Figure], str]:
    """The descriptive analysis; stops the run first if ``map_scores`` failed validation.

    Returns:
        The analysis numbers (JSON), its figures and its Markdown report.
    """
    ValidationReport.from_dict(map_scores_validation).raise_for_failures()
    config = AnalysisConfig.from_dict(scoring["analysis"])
    analysis = describe_scores(map_scores, config=config)
    figures = {
        f"{stem}.png": fig
        for stem, fig in analysis_figures(map_scores, analysis, config=config).items()
    }
    report = analysis_markdown(analysis, configured_target=scoring["target_score"])
    return analysis.to_dict(), figures, report
