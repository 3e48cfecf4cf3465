"""Nodes of the ``reporting`` pipeline: thin calls into :mod:`rainscore.reporting`."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd
import xarray as xr
from PIL import Image

from rainscore.models.artefacts import ModelArtefact
from rainscore.param_sections import ScoringSection
from rainscore.reporting import ReportFigure
from rainscore.reporting.config import ReportConfig
from rainscore.reporting.html import png_bytes, render_report
from rainscore.reporting.maps import (
    choose_examples,
    example_map_figures,
    target_distribution_figure,
    wet_maps,
)
from rainscore.reporting.models import model_report_figures
from rainscore.reporting.scores import score_figures
from rainscore.reporting.table import ReportTable
from rainscore.scores.target import TargetConfig

logger = logging.getLogger(__name__)


def data_report_figures(
    colocated_pairs: xr.Dataset,
    local_error_maps: xr.Dataset,
    map_scores: pd.DataFrame,
    scoring_analysis: dict[str, Any],
    scoring: dict[str, Any],
    target: dict[str, Any],
    reporting: dict[str, Any],
) -> list[ReportFigure]:
    """The example maps, the score distributions and the scores in context.

    Only the example half hours of ``colocated_pairs`` and ``local_error_maps`` are read.

    Returns:
        The figures of the ``maps``, ``scores`` and ``context`` sections.
    """
    config = ReportConfig.from_dict(reporting)
    score = TargetConfig.from_dict(target).score
    examples = choose_examples(map_scores, score, config.n_examples)
    figures = example_map_figures(
        colocated_pairs,
        local_error_maps,
        map_scores,
        examples,
        target=score,
        coastlines=config.coastlines,
    )
    figures.append(target_distribution_figure(map_scores, score, examples))
    analysis = ScoringSection.from_dict(scoring).analysis
    figures += score_figures(map_scores, scoring_analysis, config=analysis, target=score)
    return figures


def model_figures(
    unet_predictions: pd.DataFrame,
    baseline_predictions: pd.DataFrame,
    model_evaluation: pd.DataFrame,
    clustering_evaluation: pd.DataFrame,
    kmeans_assignments: pd.DataFrame,
    dec_assignments: pd.DataFrame,
    desom_assignments: pd.DataFrame,
    kmeans_model: ModelArtefact,
    dec_model: ModelArtefact,
    desom_model: ModelArtefact,
    cluster_labels: pd.DataFrame,
    latent_embeddings: pd.DataFrame,
    map_scores: pd.DataFrame,
    imerg_cube: xr.Dataset,
    target: dict[str, Any],
) -> list[ReportFigure]:
    """Predicted against actual for every model, cluster prototypes, the latent space.

    Returns:
        The figures of the ``models``, ``clusters`` and ``latent`` sections
        (:func:`rainscore.reporting.models.model_report_figures`).
    """
    return model_report_figures(
        unet_predictions,
        baseline_predictions,
        model_evaluation,
        clustering_evaluation,
        kmeans_assignments,
        dec_assignments,
        desom_assignments,
        kmeans_model,
        dec_model,
        desom_model,
        cluster_labels,
        latent_embeddings,
        map_scores,
        imerg_cube,
        target=TargetConfig.from_dict(target).score,
    )


def _version() -> str:
    try:
        return version("rainscore")
    except PackageNotFoundError:
        return "unknown"


def build_report(
    data_figures: list[ReportFigure],
    model_figures: list[ReportFigure],
    quality: list[ReportTable],
    map_scores: pd.DataFrame,
    scoring_analysis: dict[str, Any],
    target: dict[str, Any],
    reporting: dict[str, Any],
) -> tuple[str, dict[str, Image.Image]]:
    """The HTML page and every figure's image by name (written as PNG by ``report_figures``).

    Each figure is rendered once, at ``reporting.dpi``: the same PNG is embedded in the page
    and written to its file. The generation time is read here, once, and shown in the
    page's metadata.

    Returns:
        ``(html, images)``.
    """
    config = ReportConfig.from_dict(reporting)
    score = TargetConfig.from_dict(target).score
    figures = [*data_figures, *model_figures]
    times = pd.DatetimeIndex(map_scores.index)
    period = (
        f"{times.min():%Y-%m-%d %H:%M} to {times.max():%Y-%m-%d %H:%M} UTC" if len(times) else "—"
    )
    metadata = {
        "period (half-hour starts)": period,
        "maps scored": len(map_scores),
        "wet maps with a defined target": len(wet_maps(map_scores, score)),
        "target score": score,
        "target recommended by the analysis": scoring_analysis.get("recommendation", {}).get(
            "score"
        ),
        "rainscore version": _version(),
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    images = {figure.name: png_bytes(figure, dpi=config.dpi) for figure in figures}
    page = render_report(figures, quality, metadata, title=config.title, images=images)
    logger.info(
        "Report: %d figures, %d tables, %.1f MB", len(figures), len(quality), len(page) / 1e6
    )
    return page, {name: Image.open(io.BytesIO(png)) for name, png in images.items()}
