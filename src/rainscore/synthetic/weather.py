"""The weather that drives the rain field: regimes, their blending, the wind and the fronts.

* Regimes follow a Markov chain with one state per half hour; its transition matrix changes
  with the season so that the long-run time fractions and the mean episode durations are
  those of :class:`~rainscore.synthetic.config.RegimeConfig`.
* Parameters blend smoothly at transitions: the one-hot regime sequence is smoothed with a
  Hann window of ``2 × blend_hours`` and interpolated to the 5-minute frames.
* The wind is uniform over the domain; speed (log) and direction follow Ornstein–Uhlenbeck
  processes, so it turns slowly (timescale of a day or more).
* Each stratiform-front episode carries a straight rain band that starts in the upwind half
  of the domain and crosses it with the wind (and re-enters upwind if the episode lasts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rainscore.synthetic.config import REGIMES, RegimeConfig, WindConfig

HALF_HOUR_S = 1800.0
FRAME_S = 300.0
FRONT = REGIMES.index("stratiform_front")


def seasonal_frequency(config: RegimeConfig, day_of_year: np.ndarray) -> np.ndarray:
    """Target time fractions of the regimes on the given days (rows sum to one).

    Mid-summer (day 197, mid-July) gets ``summer_frequency``, mid-winter ``winter_frequency``;
    in between they mix with a cosine.
    """
    summer = np.asarray(config.summer_frequency, float)
    winter = np.asarray(config.winter_frequency, float)
    mix = 0.5 * (1.0 - np.cos(2.0 * np.pi * (np.asarray(day_of_year, float) - 16.0) / 365.25))
    freq = winter + mix[..., None] * (summer - winter)
    return freq / freq.sum(axis=-1, keepdims=True)


def transition_matrix(frequency: np.ndarray, duration_steps: np.ndarray) -> np.ndarray:
    """Markov transition matrix with given stationary time fractions and mean durations.

    A regime ``r`` is left with probability ``1/D_r`` per step, to ``s`` with probability
    proportional to ``q_s``; the stationary time fraction is then ∝ ``q_r (1 − q_r) D_r``,
    so ``q`` is solved by fixed-point iteration to match ``frequency``.

    Args:
        frequency: Target time fractions (n,), summing to one.
        duration_steps: Mean episode durations in steps (n,), > 1.

    Returns:
        Row-stochastic matrix (n, n).
    """
    f = np.maximum(np.asarray(frequency, float), 1e-9)
    d = np.maximum(np.asarray(duration_steps, float), 1.0 + 1e-6)
    q = f / f.sum()
    for _ in range(200):
        q = f / d / np.maximum(1.0 - q, 1e-9)
        q /= q.sum()
    leave = 1.0 / d
    p = leave[:, None] * q[None, :] / (1.0 - q[:, None])
    np.fill_diagonal(p, 1.0 - leave)
    return p


def simulate_regimes(
    config: RegimeConfig, half_hours: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Regime code (index into :data:`REGIMES`) of every half hour.

    Args:
        config: The chain's parameters.
        half_hours: Start times of the half hours (``datetime64``), consecutive.
        rng: Random generator.

    Returns:
        ``int8`` array of codes, one per half hour.
    """
    n = len(half_hours)
    doy = (half_hours - half_hours.astype("datetime64[Y]")).astype("timedelta64[D]").astype(float)
    duration = np.asarray(config.mean_duration_h, float) * 2.0
    states = np.empty(n, dtype=np.int8)
    freq0 = seasonal_frequency(config, doy[0])
    if config.initial is not None:
        states[0] = REGIMES.index(config.initial)
    else:
        states[0] = rng.choice(len(REGIMES), p=freq0)
    draws = rng.random(n)
    cached_day, matrix = None, None
    for i in range(1, n):
        day = int(doy[i])
        if day != cached_day:
            matrix = transition_matrix(seasonal_frequency(config, day), duration)
            cached_day = day
        cdf = np.cumsum(matrix[states[i - 1]])
        states[i] = min(int(np.searchsorted(cdf, draws[i], side="right")), len(REGIMES) - 1)
    return states


def regime_weights(states: np.ndarray, blend_halfhours: float) -> np.ndarray:
    """Smooth regime weights (n, n_regimes) per half hour; rows sum to one."""
    onehot = np.eye(len(REGIMES))[states]
    half = max(round(blend_halfhours), 0)
    if half == 0:
        return onehot
    window = np.hanning(2 * half + 3)[1:-1]
    padded = np.pad(onehot, ((half, half), (0, 0)), mode="edge")
    out = np.stack(
        [np.convolve(padded[:, r], window, mode="valid") for r in range(len(REGIMES))], axis=1
    )
    return out / out.sum(axis=1, keepdims=True)


def simulate_wind(config: WindConfig, n: int, dt_s: float, rng: np.random.Generator):
    """Steering wind every ``dt_s`` seconds.

    Args:
        config: Wind parameters.
        n: Number of steps.
        dt_s: Step in seconds.
        rng: Random generator.

    Returns:
        ``(u, v)``: eastward and northward components (m/s) on the radar grid's axes,
        float64 arrays of length ``n``.
    """
    a = np.exp(-dt_s / (config.timescale_h * 3600.0))
    s = np.sqrt(1.0 - a * a)
    noise = rng.standard_normal((n, 2))
    log_speed = np.empty(n)
    direction = np.empty(n)
    log_speed[0] = noise[0, 0] * config.speed_log_sd
    direction[0] = noise[0, 1] * config.direction_sd_deg
    for i in range(1, n):
        log_speed[i] = a * log_speed[i - 1] + s * config.speed_log_sd * noise[i, 0]
        direction[i] = a * direction[i - 1] + s * config.direction_sd_deg * noise[i, 1]
    speed = np.clip(config.mean_speed * np.exp(log_speed), config.min_speed, config.max_speed)
    towards = np.radians(config.mean_direction_deg + direction + 180.0)
    return speed * np.sin(towards), speed * np.cos(towards)


@dataclass(frozen=True)
class FrontBand:
    """A straight rain band crossing the domain.

    Attributes:
        t0: Time (s since the simulation origin) at which the band axis is at ``p0``.
        normal_x: x component of the unit normal (direction of motion), grid axes.
        normal_y: y component of the unit normal.
        speed: Speed of the band along its normal, m/s.
        p0: Signed distance (m) of the axis from the domain centre at ``t0``.
        cycle: The band re-enters upwind after travelling this distance (m).
    """

    t0: float
    normal_x: float
    normal_y: float
    speed: float
    p0: float
    cycle: float

    def position(self, t: float) -> float:
        """Signed distance (m) of the band axis from the domain centre at time ``t``."""
        travelled = (self.speed * (t - self.t0)) % self.cycle
        return self.p0 + travelled


def front_bands(
    states: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    half_domain_m: float,
    width_m: float,
    speed_factor: float,
    rng: np.random.Generator,
) -> list[tuple[int, int, FrontBand]]:
    """One band per stratiform-front episode.

    Args:
        states: Regime per half hour.
        u: Eastward wind per half hour (m/s).
        v: Northward wind per half hour (m/s).
        half_domain_m: Half diagonal of the domain.
        width_m: Band half width.
        speed_factor: Band speed / wind speed along the normal.
        rng: Random generator.

    Returns:
        ``(first, last, band)`` per episode, ``first``/``last`` being half-hour indices
        (inclusive) of the episode.
    """
    episodes = []
    n = len(states)
    i = 0
    while i < n:
        if states[i] != FRONT:
            i += 1
            continue
        j = i
        while j + 1 < n and states[j + 1] == FRONT:
            j += 1
        heading = np.arctan2(u[i], v[i]) + np.radians(rng.uniform(-30.0, 30.0))
        nx, ny = np.sin(heading), np.cos(heading)
        along = max(speed_factor * (u[i] * nx + v[i] * ny), 3.0)
        reach = half_domain_m + 2.0 * width_m
        band = FrontBand(
            t0=i * HALF_HOUR_S,
            normal_x=float(nx),
            normal_y=float(ny),
            speed=float(along),
            p0=-float(rng.uniform(0.2, 0.9)) * half_domain_m,
            cycle=2.0 * reach,
        )
        episodes.append((i, j, band))
        i = j + 1
    return episodes
