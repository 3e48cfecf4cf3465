"""Nodes of the ``scoring`` pipeline: thin wrappers of :mod:`rainscore.scores` and
:mod:`rainscore.analysis`.

Each node parses its parameter sections once (``ScoringSection.from_dict(params:scoring)``,
``TargetConfig.from_dict(params:target)``) and passes the typed configs to the library.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from rainscore.analysis import (
    analysis_figures,
    analysis_markdown,
    describe_scores,
    local_error_blocks,
    map_features,
    matching_truth,
)
from rainscore.execution import ExecutorConfig
from rainscore.param_sections import ScoringSection
from rainscore.scores import TargetConfig, score_maps_parallel
from rainscore.validation import ValidationReport, validate_map_scores


def score_pairs(
    colocated_pairs: xr.Dataset, scoring: dict[str, Any], execution: dict[str, Any]
) -> pd.DataFrame:
    """Every score of every colocated map (one row per time)."""
    config = ScoringSection.from_dict(scoring)
    return score_maps_parallel(
        colocated_pairs["imerg"],
        colocated_pairs["radar"],
        mask=colocated_pairs["mask"],
        config=config.scores,
        execution=ExecutorConfig.from_dict(execution, stage="scoring"),
        block_size=config.block_maps,
    )


def compute_features(
    colocated_pairs: xr.Dataset, demo_truth: xr.Dataset | None, scoring: dict[str, Any]
) -> pd.DataFrame:
    """Context features of every map; the true regime when the pairs come from the world
    whose truth this is."""
    config = ScoringSection.from_dict(scoring)
    return map_features(
        colocated_pairs,
        config=config.features,
        truth=matching_truth(colocated_pairs, demo_truth),
        block_size=config.block_maps,
    )


def join_scores_and_features(scores: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """Scores and context features side by side, by time (``map_scores`` once checked)."""
    overlap = [c for c in features.columns if c in scores.columns]
    return scores.join(features.drop(columns=overlap), how="left")


def compute_local_errors(
    colocated_pairs: xr.Dataset, target: dict[str, Any], scoring: dict[str, Any]
) -> Iterator[xr.Dataset]:
    """Per-pixel U-Net targets at the threshold and window of the target score.

    Returns a generator of time blocks (a plain function returning it, so that Kedro hands
    it whole to the store's ``save``, which writes every block into one version): the
    pairs are read and the maps written ``scoring.block_maps`` at a time.
    """
    config = TargetConfig.from_dict(target)
    return local_error_blocks(
        colocated_pairs,
        threshold=config.local_threshold,
        window=config.local_window,
        block_size=ScoringSection.from_dict(scoring).block_maps,
        attrs={"target_score": config.score},
    )


def validate_scores(
    map_scores_unchecked: pd.DataFrame, scoring: dict[str, Any], target: dict[str, Any]
) -> tuple[dict, str]:
    """Great Expectations suite on the score table: the report (JSON and Markdown), written
    whatever the outcome; :func:`accept_scores` stops the run when it holds failures."""
    summaries, failures = validate_map_scores(
        map_scores_unchecked,
        target=TargetConfig.from_dict(target).score,
        min_target_defined=ScoringSection.from_dict(scoring).validation.min_target_defined,
    )
    report = ValidationReport(title="map_scores", suites=summaries, failures=failures)
    return report.to_dict(), report.to_markdown()


def accept_scores(map_scores_unchecked: pd.DataFrame, map_scores_validation: dict) -> pd.DataFrame:
    """The ``map_scores`` table, once its suite passed: a failed check stops the run before
    a new version is written, so the previous version stays the latest.

    Raises:
        ValidationError: If the validation report holds failures (it names the dataset,
            the check and the offending values).
    """
    ValidationReport.from_dict(map_scores_validation).raise_for_failures()
    return map_scores_unchecked


def analyse_scores(
    map_scores: pd.DataFrame, scoring: dict[str, Any], target: dict[str, Any]
) -> tuple[dict, dict[str, Figure], str]:
    """The descriptive analysis of the checked ``map_scores``.

    Returns:
        The analysis numbers (JSON), its figures and its Markdown report.
    """
    config = ScoringSection.from_dict(scoring).analysis
    analysis = describe_scores(map_scores, config=config)
    figures = {
        f"{stem}.png": fig
        for stem, fig in analysis_figures(map_scores, analysis, config=config).items()
    }
    report = analysis_markdown(analysis, configured_target=TargetConfig.from_dict(target).score)
    return analysis.to_dict(), figures, report
