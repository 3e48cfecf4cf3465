"""The truth rain: its statistics, structure, regimes, and the half-hour pairing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rainscore.synthetic import REGIMES, SyntheticWorld, WorldConfig
from rainscore.synthetic.diagnostics import log_rain, radial_spectrum_slope, truth_statistics
from rainscore.synthetic.weather import (
    regime_weights,
    simulate_regimes,
    transition_matrix,
)


def test_half_hour_truth_is_the_mean_of_the_six_frames_stamped_05_to_30(small_world, frame_pass):
    # Frames ending HH:05 … HH:30, regenerated from the config, averaged on the IMERG cells.
    np.testing.assert_allclose(
        small_world.truth["rain"].values, frame_pass.half_hour_means, rtol=1e-5, atol=1e-6
    )


def test_rain_statistics_of_the_small_world(small_world, frame_pass):
    s = truth_statistics(small_world.truth)
    # One wet summer day: a front, then other regimes; 0.1° cells >= 0.1 mm/h.
    assert 0.1 <= s["wet_fraction"] <= 0.5
    wet = frame_pass.wet_rates
    p50, p99 = np.percentile(wet, [50, 99])
    assert 0.5 <= p50 <= 3.0
    assert 5.0 <= p99 <= 40.0  # 99th percentile of wet 5-min 1 km rates, mm/h
    assert wet.max() >= 20.0  # intense cores exist
    # Intermittency: a minority of 1 km pixels rain in any frame.
    assert frame_pass.wet_fractions.max() < 0.6


def test_wet_intensities_are_lognormal_ish(frame_pass):
    log_rates = np.log(frame_pass.wet_rates)
    z = (log_rates - log_rates.mean()) / log_rates.std()
    # Quantiles of ln(rate) close to those of a normal distribution.
    for q, expected in [(0.1, -1.2816), (0.5, 0.0), (0.9, 1.2816)]:
        assert np.quantile(z, q) == pytest.approx(expected, abs=0.35)
    assert abs(stats.skew(log_rates)) < 0.6


def test_spectral_slope_of_the_1km_field(frame_pass):
    # Radially averaged power spectrum of log10(rate), 4–64 km, raining frames.
    assert len(frame_pass.slopes) > 20
    assert -3.8 <= np.median(frame_pass.slopes) <= -2.2


def _regime_frames(regime: str, hours: float, start: str = "2024-06-10T12:00"):
    durations = [1e6 if r == regime else 1.0 for r in REGIMES]
    config = WorldConfig.from_dict(
        {
            "start": start,
            "days": hours / 24,
            "seed": 3,
            "spinup_hours": 0.5,
            "box": {"lat_min": 44.0, "lat_max": 46.0, "lon_min": 2.0, "lon_max": 5.0},
            "regimes": {"initial": regime, "mean_duration_h": durations},
        }
    )
    return list(SyntheticWorld(config).truth_frames())


@pytest.fixture(scope="module")
def regime_frames():
    return {r: _regime_frames(r, 2.0) for r in ("stratiform_front", "scattered_convection")}


def test_convection_is_rougher_and_more_intense_than_stratiform_rain(regime_frames):
    slopes, p99 = {}, {}
    for regime, frames in regime_frames.items():
        slopes[regime] = np.median(
            [radial_spectrum_slope(log_rain(f.rate), 1.0) for f in frames[::4]]
        )
        rates = np.concatenate([f.rate[f.rate >= 0.1] for f in frames])
        p99[regime] = np.percentile(rates, 99)
    assert slopes["scattered_convection"] > slopes["stratiform_front"] + 0.3
    assert -3.6 <= slopes["stratiform_front"] <= -2.6
    assert p99["scattered_convection"] > 2 * p99["stratiform_front"]
    assert p99["scattered_convection"] >= 20.0


def test_rain_is_advected_by_the_wind_and_evolves(regime_frames):
    frames = regime_frames["stratiform_front"]
    a, b = frames[0], frames[6]  # 30 minutes apart
    u, v = a.params.u, a.params.v
    shift_cols = round(u * 1800 / 1000)
    shift_rows = round(-v * 1800 / 1000)
    la, lb = log_rain(a.rate), log_rain(b.rate)
    moved = np.roll(la, (shift_rows, shift_cols), axis=(0, 1))
    inner = (slice(60, -60), slice(60, -60))
    r_lagrangian = np.corrcoef(moved[inner].ravel(), lb[inner].ravel())[0, 1]
    r_eulerian = np.corrcoef(la[inner].ravel(), lb[inner].ravel())[0, 1]
    assert r_lagrangian > r_eulerian
    assert 0.5 < r_lagrangian < 0.99  # it moved, and it changed
    assert (
        np.corrcoef(log_rain(frames[0].rate).ravel(), log_rain(frames[-1].rate).ravel())[0, 1]
        < r_lagrangian
    )


def test_convection_follows_a_diurnal_cycle():
    night = _regime_frames("scattered_convection", 1.0, "2024-06-10T02:00")
    afternoon = _regime_frames("scattered_convection", 1.0, "2024-06-10T14:30")
    wet_night = np.mean([(f.rate >= 0.1).mean() for f in night])
    wet_afternoon = np.mean([(f.rate >= 0.1).mean() for f in afternoon])
    assert wet_afternoon > 3 * wet_night


def test_regime_chain_has_the_configured_frequencies_and_durations():
    from rainscore.synthetic.config import RegimeConfig

    config = RegimeConfig()
    times = np.datetime64("2024-07-01T00:00") + np.arange(48 * 365 * 4) * np.timedelta64(30, "m")
    times = times[(times >= np.datetime64("2024-07-01")) & (times < np.datetime64("2024-08-01"))]
    long = np.tile(times, 40)  # many Julys, same season
    states = simulate_regimes(config, long, np.random.default_rng(0))
    freq = np.bincount(states, minlength=4) / len(states)
    np.testing.assert_allclose(freq, config.summer_frequency, atol=0.04)
    changes = np.flatnonzero(np.diff(states)) + 1
    runs = np.diff(np.concatenate([[0], changes, [len(states)]]))
    first = states[np.concatenate([[0], changes])]
    dry_hours = runs[first == 0].mean() / 2
    assert dry_hours == pytest.approx(config.mean_duration_h[0], rel=0.25)


def test_transition_matrix_is_stochastic_with_the_stationary_frequencies():
    f = np.array([0.5, 0.16, 0.24, 0.1])
    p = transition_matrix(f, np.array([60.0, 28.0, 20.0, 24.0]))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    values, vectors = np.linalg.eig(p.T)
    stationary = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    np.testing.assert_allclose(stationary / stationary.sum(), f, atol=1e-6)


def test_regime_weights_blend_smoothly():
    states = np.array([0] * 10 + [1] * 10)
    w = regime_weights(states, 3.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert w[0, 0] == 1.0 and w[-1, 1] == 1.0
    assert 0.2 < w[10, 1] < 0.8  # mid-transition
    assert np.all(np.diff(w[:, 1]) >= -1e-12)  # monotone change
