"""Figures and reports of the models' results (no Kedro)."""

from rainscore.reporting.models import predicted_vs_actual_figure

__all__ = ["predicted_vs_actual_figure"]
