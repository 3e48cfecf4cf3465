"""The typed configuration of :func:`rainscore.scores.score_maps`, parsed once from parameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rainscore.params import dataclass_from_params
from rainscore.scores.categorical import check_thresholds
from rainscore.scores.neighbourhood import check_windows
from rainscore.scores.object_based import check_sal_options

__all__ = ["FAMILIES", "ScoreConfig"]

FAMILIES: tuple[str, ...] = ("continuous", "categorical", "fss", "sal")
"""The score families, in the order of the columns of the score table."""


@dataclass(frozen=True)
class ScoreConfig:
    """What :func:`~rainscore.scores.score_maps` computes.

    Attributes:
        thresholds: Event thresholds (mm/h) of the categorical scores and the FSS.
        windows: FSS window sizes (grid cells, odd).
        wet_threshold: Rain rate (mm/h) from which a pixel is wet (wet-pixel scores, dryness
            flags, SAL's R95).
        min_wet_fraction: Minimum fraction of valid pixels wet in either field for a map's
            categorical and FSS scores to count.
        sal_threshold_ratio: SAL object threshold as a fraction of R95.
        sal_quantile: Quantile of the wet pixels giving R95.
        sal_min_object_pixels: Smallest SAL object kept (pixels).
        families: Score families to compute, a subset of :data:`FAMILIES`.
    """

    thresholds: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 5.0)
    windows: tuple[int, ...] = (1, 3, 5, 9, 15)
    wet_threshold: float = 0.1
    min_wet_fraction: float = 0.01
    sal_threshold_ratio: float = 1.0 / 15.0
    sal_quantile: float = 0.95
    sal_min_object_pixels: int = 1
    families: tuple[str, ...] = FAMILIES

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            thresholds = check_thresholds(self.thresholds)
            windows = check_windows(self.windows)
        except ValueError as err:
            raise ValueError(f"scoring.scores.{err}") from None
        if np.any(thresholds <= 0):
            raise ValueError(
                f"scoring.scores.thresholds must be rain rates > 0 mm/h (an event is a rate "
                f">= threshold), got {list(self.thresholds)}"
            )
        set_(self, "thresholds", tuple(thresholds.tolist()))
        set_(self, "windows", tuple(windows.tolist()))
        set_(self, "families", tuple(self.families))
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            raise ValueError(
                f"scoring.scores.families must be a non-empty subset of {FAMILIES}, "
                f"got {list(self.families)}"
            )
        if not self.wet_threshold > 0:
            raise ValueError(
                f"scoring.scores.wet_threshold must be > 0 mm/h, got {self.wet_threshold}"
            )
        if not 0.0 <= self.min_wet_fraction <= 1.0:
            raise ValueError(
                f"scoring.scores.min_wet_fraction must be in [0, 1], got {self.min_wet_fraction}"
            )
        try:
            check_sal_options(
                self.sal_threshold_ratio, self.sal_quantile, self.sal_min_object_pixels
            )
        except ValueError as err:
            raise ValueError(f"scoring.scores: {err}") from None
        set_(self, "sal_min_object_pixels", int(self.sal_min_object_pixels))

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> ScoreConfig:
        """Build a config from ``params:scoring.scores``.

        Missing keys take their defaults; lists become tuples.

        Args:
            params: Mapping of field names to values, or None for all defaults.

        Returns:
            The validated config.

        Raises:
            ValueError: A key is not a field of :class:`ScoreConfig`, or a value is invalid
                (named ``scoring.scores.<key>`` with the value).
        """
        return dataclass_from_params(cls, params, section="scoring.scores")

    def to_dict(self) -> dict[str, Any]:
        """The config as plain Python values (lists for sequences), for provenance records.

        Returns:
            A mapping that :meth:`from_dict` turns back into an equal config.
        """
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }
