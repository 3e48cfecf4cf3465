"""Figures and reports of the scores and the models' results (no Kedro)."""

from rainscore.reporting.figure import SECTIONS, ReportFigure
from rainscore.reporting.models import predicted_vs_actual_figure

__all__ = ["SECTIONS", "ReportFigure", "predicted_vs_actual_figure"]
