"""Split-conformal intervals: the finite-sample quantile and coverage under known noise."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest

from rainscore.models.intervals import SplitConformal, conformal_quantile, interval_coverage


@pytest.mark.parametrize(
    ("n", "coverage", "k"),
    [(4, 0.8, 4), (9, 0.8, 8), (99, 0.8, 80), (19, 0.9, 18), (10, 0.5, 6), (100, 0.9, 91)],
)
def test_quantile_is_the_kth_smallest_residual(n: int, coverage: float, k: int) -> None:
    # k = ceil((n + 1) × coverage), computed by hand; (99 + 1) × 0.8 is 80.00000000000001
    residuals = np.random.default_rng(0).permutation(np.arange(1, n + 1, dtype=float))
    assert conformal_quantile(residuals, coverage) == k


def test_too_few_pairs_is_an_error_saying_how_many() -> None:
    with pytest.raises(ValueError, match=r"0\.8 needs at least 4 calibration pairs, got 3$"):
        conformal_quantile([0.1, 0.2, 0.3], 0.8)
    with pytest.raises(ValueError, match=r"0\.9 needs at least 9 calibration pairs, got 8$"):
        conformal_quantile(np.ones(8), 0.9)


@pytest.mark.parametrize("coverage", [0.0, 1.0, -0.1, True])
def test_coverage_outside_zero_one_is_an_error(coverage: float) -> None:
    with pytest.raises(ValueError, match="coverage must be"):
        conformal_quantile(np.ones(10), coverage)


def test_calibrate_drops_undefined_pairs_and_builds_intervals() -> None:
    predicted = np.array([0.0, 1.0, 2.0, 3.0, 4.0, np.nan, 6.0])
    actual = np.array([0.5, 0.8, 2.3, np.nan, 4.9, 5.0, 6.1])
    conformal = SplitConformal.calibrate(predicted, actual, coverage=0.8)
    # |residuals| of the 5 defined pairs: 0.5, 0.2, 0.3, 0.9, 0.1; k = ceil(6 × 0.8) = 5
    assert conformal.n_calibration == 5
    assert conformal.quantile == pytest.approx(0.9)
    lower, upper = conformal.interval(np.array([1.0, np.nan]))
    np.testing.assert_allclose(lower, [0.1, np.nan])
    np.testing.assert_allclose(upper, [1.9, np.nan])


def test_round_trip_through_a_dict() -> None:
    conformal = SplitConformal(quantile=0.25, coverage=0.8, n_calibration=40)
    assert SplitConformal.from_dict(conformal.to_dict()) == conformal
    with pytest.raises(ValueError, match=r"keys \['coverage', 'n_calibration', 'quantile'\]"):
        SplitConformal.from_dict({"quantile": 0.25, "coverage": 0.8})
    with pytest.raises(ValueError, match="quantile must be finite and non-negative, got -1"):
        SplitConformal(quantile=-1.0, coverage=0.8, n_calibration=4)


def test_estimates_and_intervals_stay_in_the_score_range() -> None:
    # An FSS lies in [0, 1]: predictions are clipped before the residuals are taken
    # (1.3 -> 1.0 against 0.9: residual 0.1), and estimates and bounds are clipped.
    predicted = np.array([1.3, 0.5, -0.2, 0.4, 0.6])
    actual = np.array([0.9, 0.6, 0.1, 0.7, 0.3])
    conformal = SplitConformal.calibrate(predicted, actual, coverage=0.8, bounds=(0.0, 1.0))
    # |residuals| after clipping: 0.1, 0.1, 0.1, 0.3, 0.3; k = ceil(6 × 0.8) = 5
    assert conformal.quantile == pytest.approx(0.3)
    np.testing.assert_allclose(conformal.clip([1.2, -0.1, 0.5, np.nan]), [1.0, 0.0, 0.5, np.nan])
    lower, upper = conformal.interval(np.array([0.9, 1.4, 0.1, 0.5]))
    np.testing.assert_allclose(lower, [0.6, 0.7, 0.0, 0.2])
    np.testing.assert_allclose(upper, [1.0, 1.0, 0.4, 0.8])
    # The bounds travel with the artefact's strict JSON (an open end is null).
    again = SplitConformal.from_dict(json.loads(json.dumps(conformal.to_dict(), allow_nan=False)))
    assert again == conformal
    half = SplitConformal(quantile=0.1, coverage=0.8, n_calibration=4, bounds=(0.0, math.inf))
    assert half.to_dict()["bounds"] == [0.0, None]
    assert SplitConformal.from_dict(half.to_dict()) == half
    # A dict written before the bounds existed reads back unbounded.
    old = {"quantile": 0.1, "coverage": 0.8, "n_calibration": 4}
    assert SplitConformal.from_dict(old).bounds == (-math.inf, math.inf)
    with pytest.raises(ValueError, match=r"bounds must be \(low, high\), low < high"):
        SplitConformal(quantile=0.1, coverage=0.8, n_calibration=4, bounds=(1.0, 0.0))


def test_interval_coverage() -> None:
    lower = np.array([0.0, 0.0, 0.0, 0.0, 0.0])
    upper = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    actual = np.array([0.0, 1.0, 1.5, -0.1, np.nan])
    assert interval_coverage(lower, upper, actual) == 0.5  # bounds included, NaN left out
    assert math.isnan(interval_coverage(lower[:1], upper[:1], [np.nan]))
    with pytest.raises(ValueError, match=r"lower has shape \(5,\) but actual has shape \(2,\)"):
        interval_coverage(lower, upper, actual[:2])


def test_coverage_under_known_gaussian_noise() -> None:
    """y = 2x + 1 + N(0, σ²), the model exactly right: the residuals are the noise."""
    rng = np.random.default_rng(12)
    sigma, nominal, n_cal, n_test, draws = 0.3, 0.8, 99, 500, 400

    def sample(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(0, 5, n)
        return 2 * x + 1, 2 * x + 1 + rng.normal(0, sigma, n)

    coverages = []
    for _ in range(draws):
        conformal = SplitConformal.calibrate(*sample(n_cal), coverage=nominal)
        predicted, actual = sample(n_test)
        coverages.append(interval_coverage(*conformal.interval(predicted), actual))
    # expected coverage k / (n + 1) = 80 / 100 exactly; the mean of 400 draws is within 1 point
    assert np.mean(coverages) == pytest.approx(0.80, abs=0.01)
    assert np.all(np.abs(np.array(coverages) - nominal) < 0.2)

    large = SplitConformal.calibrate(*sample(20_000), coverage=nominal)
    analytic = sigma * NormalDist().inv_cdf(0.5 + nominal / 2)  # |N(0, σ²)| quantile
    assert large.quantile == pytest.approx(analytic, rel=0.03)
