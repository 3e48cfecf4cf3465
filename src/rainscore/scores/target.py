"""The target score: the one map score the models learn, parsed once from ``params:target``.

Scoring (its local error maps and its validation suite), the descriptive analysis (which
flags a disagreement with it), training, clustering and inference all read the same
:class:`TargetConfig`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rainscore.params import dataclass_from_params
from rainscore.scores.catalogue import score_info
from rainscore.scores.config import ScoreConfig
from rainscore.scores.table import parse_score_column

__all__ = ["TargetConfig"]


@dataclass(frozen=True)
class TargetConfig:
    """The target score and the threshold and window of its per-pixel (local) version.

    The U-Net learns the per-pixel version of the map score it is scored by, so the local
    fraction error is taken at the target's own threshold and window (``fss_t0.5_w9`` →
    0.5 mm/h, 9 cells). ``threshold`` and ``window`` are for targets without one
    (``csi_t1.0`` has no window, ``pearson`` neither); where the target has one they may be
    left ``None`` or must agree with it.

    Attributes:
        score: Column of the score table (``fss_t0.5_w9``, ``csi_t1.0``, ``pearson``…), a
            score of the catalogue (:data:`rainscore.scores.SCORES`).
        threshold: Event threshold (mm/h) of the local errors, for a target without one.
        window: Odd window (cells) of the local errors, for a target without one.
    """

    score: str = "fss_t0.5_w9"
    threshold: float | None = None
    window: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.score, str) or not self.score:
            raise ValueError(f"target.score must be a score column name, got {self.score!r}")
        try:
            score_info(self.score)
        except ValueError as err:
            raise ValueError(f"target.score: {err}") from None
        parsed = parse_score_column(self.score)
        for name, own, given in (
            ("threshold", parsed.threshold, self.threshold),
            ("window", parsed.window, self.window),
        ):
            if own is not None and given is not None and float(own) != float(given):
                raise ValueError(
                    f"target.{name} is {given} but the target score {self.score!r} has "
                    f"{name} {own}: leave it null to follow the score"
                )
            if own is None and given is None:
                raise ValueError(
                    f"the target score {self.score!r} has no {name}: set target.{name} "
                    "(the local error maps need one)"
                )
        threshold, window = self.local_threshold, self.local_window
        if isinstance(threshold, bool) or not math.isfinite(threshold) or threshold <= 0:
            raise ValueError(f"target.threshold must be a positive rate (mm/h), got {threshold}")
        if isinstance(window, bool) or int(window) != window or window < 1 or window % 2 == 0:
            raise ValueError(f"target.window must be a positive odd integer, got {window!r}")

    @property
    def local_threshold(self) -> float:
        """Threshold (mm/h) of the local error maps: the score's own, else ``threshold``."""
        own = parse_score_column(self.score).threshold
        return float(own if own is not None else self.threshold)

    @property
    def local_window(self) -> int:
        """Window (cells) of the local error maps: the score's own, else ``window``."""
        own = parse_score_column(self.score).window
        value = own if own is not None else self.window
        return value if isinstance(value, bool) else int(value)

    def check_computed_by(self, scores: ScoreConfig) -> None:
        """Raise unless the score table of ``scores`` has the target's column.

        Args:
            scores: The scoring configuration (``scoring.scores``).

        Raises:
            ValueError: Naming the target and the family, threshold or window that
                ``scores`` does not compute.
        """
        info = score_info(self.score)
        parsed = parse_score_column(self.score)
        missing = []
        if info.family != "flags" and info.family not in scores.families:
            missing.append(f"family {info.family!r} is not in scoring.scores.families")
        if parsed.threshold is not None and parsed.threshold not in scores.thresholds:
            missing.append(
                f"{parsed.threshold} is not in scoring.scores.thresholds {list(scores.thresholds)}"
            )
        if parsed.window is not None and parsed.window not in scores.windows:
            missing.append(
                f"{parsed.window} is not in scoring.scores.windows {list(scores.windows)}"
            )
        if missing:
            raise ValueError(f"target.score {self.score!r} is not computed: {'; '.join(missing)}")

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> TargetConfig:
        """Build from ``params:target`` (unknown keys are an error).

        Args:
            params: ``score`` and, optionally, ``threshold`` and ``window``.

        Returns:
            The validated target.

        Raises:
            ValueError: On an unknown key or an invalid value.
        """
        return dataclass_from_params(cls, params, section="target")
