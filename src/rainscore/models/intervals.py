"""Split-conformal prediction intervals around a predicted map score.

Calibration: on held-out pairs (the validation blocks) the absolute residuals
``|actual - predicted|`` are sorted and the finite-sample quantile is their
``k = ceil((n + 1) × coverage)``-th smallest, i.e. the empirical quantile at level
``ceil((n + 1) × coverage) / n``. The interval of a new prediction is
``predicted ± quantile``. If the calibration and test pairs are exchangeable, the interval
holds the actual value with probability at least ``coverage`` (and below
``coverage + 1 / (n + 1)``), whatever the model and the noise.

Reference: Lei, G'Sell, Rinaldo, Tibshirani and Wasserman (2018), *Distribution-free
predictive inference for regression*, JASA 113(523), 1094–1111, §2.2 (split conformal);
Angelopoulos and Bates (2023), *Conformal prediction: a gentle introduction*, §1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["SplitConformal", "conformal_quantile", "interval_coverage"]

_RELATIVE_TOLERANCE = 1e-9


def _check_coverage(coverage: float) -> float:
    if isinstance(coverage, bool) or not isinstance(coverage, int | float):
        raise ValueError(f"coverage must be a number in (0, 1), got {coverage!r}")
    if not 0 < coverage < 1:
        raise ValueError(f"coverage must be in (0, 1), got {coverage!r}")
    return float(coverage)


def conformal_quantile(residuals: ArrayLike, coverage: float) -> float:
    """Finite-sample conformal quantile of absolute residuals.

    Args:
        residuals: Absolute residuals of the calibration pairs (finite, ``n`` of them).
        coverage: Nominal coverage in (0, 1) (``1 - alpha``).

    Returns:
        The ``ceil((n + 1) × coverage)``-th smallest residual.

    Raises:
        ValueError: If ``coverage`` is not in (0, 1), a residual is negative or not finite,
            or ``n`` is too small for ``coverage`` (``ceil((n + 1) × coverage) > n``; the
            message says how many pairs are needed).
    """
    coverage = _check_coverage(coverage)
    values = np.sort(np.asarray(residuals, dtype=float).ravel())
    if not np.all(np.isfinite(values)) or (values.size and values[0] < 0):
        raise ValueError("conformal residuals must be finite and non-negative")
    n = values.size
    # (n + 1) × coverage is often an integer up to rounding (100 × 0.8 = 80.00000000000001).
    k = math.ceil((n + 1) * coverage * (1 - _RELATIVE_TOLERANCE))
    if k > n:
        needed = math.ceil(coverage / (1 - coverage) * (1 - _RELATIVE_TOLERANCE))
        raise ValueError(
            f"split-conformal coverage {coverage} needs at least {needed} calibration "
            f"pairs, got {n}"
        )
    return float(values[k - 1])


@dataclass(frozen=True)
class SplitConformal:
    """A calibrated symmetric interval ``predicted ± quantile``.

    Attributes:
        quantile: Half-width of the interval (finite-sample quantile of |residual|).
        coverage: Nominal coverage it was calibrated for.
        n_calibration: Calibration pairs used (those with both values finite).
        bounds: The range of the score, ``(low, high)`` (``±inf`` where unbounded): the
            estimates and the intervals are clipped to it (an FSS is never above 1).
    """

    quantile: float
    coverage: float
    n_calibration: int
    bounds: tuple[float, float] = (-math.inf, math.inf)

    def __post_init__(self) -> None:
        _check_coverage(self.coverage)
        if not math.isfinite(self.quantile) or self.quantile < 0:
            raise ValueError(
                f"conformal quantile must be finite and non-negative, got {self.quantile!r}"
            )
        if isinstance(self.n_calibration, bool) or int(self.n_calibration) < 1:
            raise ValueError(
                f"conformal n_calibration must be a positive integer, got {self.n_calibration!r}"
            )
        low, high = (float(b) for b in self.bounds)
        if math.isnan(low) or math.isnan(high) or not low < high:
            raise ValueError(f"conformal bounds must be (low, high), low < high, got {self.bounds}")
        object.__setattr__(self, "bounds", (low, high))

    @classmethod
    def calibrate(
        cls,
        predicted: ArrayLike,
        actual: ArrayLike,
        coverage: float = 0.8,
        bounds: tuple[float, float] = (-math.inf, math.inf),
    ) -> SplitConformal:
        """Calibrate on held-out pairs (pairs with a NaN on either side are left out).

        Args:
            predicted: Predicted scores of the calibration maps (clipped to ``bounds``
                before the residuals are taken, as :meth:`clip` does to estimates).
            actual: Their actual (radar-based) scores, NaN where undefined.
            coverage: Nominal coverage in (0, 1).
            bounds: The score's range (``rainscore.scores.score_info(name).range``).

        Returns:
            The calibrated interval.

        Raises:
            ValueError: If the shapes differ, or too few pairs are finite for ``coverage``.
        """
        predicted, actual = _pair(predicted, actual, "predicted", "actual")
        predicted = np.clip(predicted, *bounds)
        finite = np.isfinite(predicted) & np.isfinite(actual)
        residuals = np.abs(actual[finite] - predicted[finite])
        quantile = conformal_quantile(residuals, coverage)
        return cls(
            quantile=quantile,
            coverage=float(coverage),
            n_calibration=int(finite.sum()),
            bounds=bounds,
        )

    def clip(self, predicted: ArrayLike) -> np.ndarray:
        """Estimates clipped to the score's range (NaN stays NaN)."""
        return np.clip(np.asarray(predicted, dtype=float), *self.bounds)

    def interval(self, predicted: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """The interval around each prediction.

        Args:
            predicted: Predicted scores.

        Returns:
            ``(lower, upper)`` around the clipped estimate, each clipped to the score's
            range: float arrays of the shape of ``predicted`` (NaN where it is).
        """
        predicted = self.clip(predicted)
        return self.clip(predicted - self.quantile), self.clip(predicted + self.quantile)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe mapping (:meth:`from_dict` reads it back)."""
        return {
            "quantile": self.quantile,
            "coverage": self.coverage,
            "n_calibration": self.n_calibration,
            "bounds": [b if math.isfinite(b) else None for b in self.bounds],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SplitConformal:
        """Read back :meth:`to_dict`.

        Args:
            data: ``quantile``, ``coverage``, ``n_calibration`` and, optionally,
                ``bounds`` (``null`` for an unbounded end; absent: unbounded).

        Returns:
            The interval.

        Raises:
            ValueError: On missing or unknown keys (named) or invalid values.
        """
        keys = {"quantile", "coverage", "n_calibration"}
        if not keys <= set(data) <= keys | {"bounds"}:
            raise ValueError(
                f"split-conformal dict must have keys {sorted(keys)} (and optionally "
                f"'bounds'), got {sorted(data)}"
            )
        low, high = data.get("bounds") or (None, None)
        return cls(
            quantile=float(data["quantile"]),
            coverage=float(data["coverage"]),
            n_calibration=int(data["n_calibration"]),
            bounds=(-math.inf if low is None else low, math.inf if high is None else high),
        )


def interval_coverage(lower: ArrayLike, upper: ArrayLike, actual: ArrayLike) -> float:
    """Share of the actual values inside their interval (bounds included).

    Args:
        lower: Lower bounds.
        upper: Upper bounds (same shape).
        actual: Actual values (same shape); NaN ones are left out.

    Returns:
        The empirical coverage in [0, 1], NaN when no actual value is finite.

    Raises:
        ValueError: If the shapes differ (named).
    """
    lower, upper = _pair(lower, upper, "lower", "upper")
    lower, actual = _pair(lower, actual, "lower", "actual")
    defined = np.isfinite(actual)
    if not defined.any():
        return math.nan
    inside = (lower[defined] <= actual[defined]) & (actual[defined] <= upper[defined])
    return float(inside.mean())


def _pair(a: ArrayLike, b: ArrayLike, name_a: str, name_b: str) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}")
    return a, b
