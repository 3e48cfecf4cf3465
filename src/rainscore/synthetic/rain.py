"""Truth rain at 1 km / 5 min: the Gaussian field turned into rain by the regime's rules.

For each frame the regime mix gives a threshold, an intensity distribution, a spectrum and
envelopes (front band, orographic lift, convective triggering by terrain). With ``g`` the
evolving unit Gaussian field (:mod:`rainscore.synthetic.field`) and ``E`` the envelopes:

* a pixel rains where ``g + E > t`` (intermittency), ``t = Φ⁻¹(1 − wet_fraction)``;
* its rate is lognormal: ``exp(ln(median) + log_sd · Φ⁻¹(u))`` where
  ``u = 1 − Φ̄(g + E) / Φ̄(t)`` is the rank of the pixel among the pixels above the threshold
  (so rates grow towards the cores of the Gaussian field and fall to zero at the edges),
  multiplied by ``1 + terrain_rate_gain × height_km``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft
from scipy.special import ndtr, ndtri

from rainscore.grids import ProjectedGrid
from rainscore.synthetic.config import REGIMES, RainConfig
from rainscore.synthetic.field import SpectralField, Spectrum
from rainscore.synthetic.weather import FrontBand

_W_MIN = 0.01


@dataclass(frozen=True)
class FrameParams:
    """The rain model's parameters for one frame (regime mix already blended).

    Attributes:
        weights: Regime weights (sum to one), in the order of :data:`REGIMES`.
        threshold: Threshold of the Gaussian field.
        log_median: ln of the median rate of raining pixels.
        log_sd: sd of ln(rate).
        spectrum: Spectrum of the Gaussian field.
        lifetime_10km_min: Lifetime of 10 km structures.
        vpr_range_km: Radar range-underestimation scale.
        u: Eastward motion of the rain (m/s, grid axes).
        v: Northward motion of the rain (m/s, grid axes).
        front: The front band (``None`` outside front episodes).
        t: Time of the frame (s since the simulation origin).
    """

    weights: np.ndarray
    threshold: float
    log_median: float
    log_sd: float
    spectrum: Spectrum
    lifetime_10km_min: float
    vpr_range_km: float
    u: float
    v: float
    front: FrontBand | None
    t: float


def diurnal_factor(hour_local: float | np.ndarray, config: RainConfig) -> np.ndarray:
    """Convective activity (0–1) at a local solar hour: peaks at ``diurnal_peak_hour``."""
    bell = 0.5 * (
        1.0 + np.cos(2 * np.pi * (np.asarray(hour_local) - config.diurnal_peak_hour) / 24)
    )
    return config.diurnal_minimum + (1.0 - config.diurnal_minimum) * bell**2


def blend_params(
    weights: np.ndarray,
    hour_local: float,
    config: RainConfig,
    u: float,
    v: float,
    front: FrontBand | None,
    t: float,
) -> FrameParams:
    """Blend the regimes' parameters with ``weights`` (the diurnal cycle applies to convection).

    Args:
        weights: Regime weights.
        hour_local: Local solar hour at the domain centre.
        config: Rain parameters.
        u: Eastward wind (m/s).
        v: Northward wind (m/s).
        front: Current front band, if any.
        t: Time (s since the simulation origin).

    Returns:
        The frame's parameters.
    """
    regimes = [config.regime(name) for name in REGIMES]
    conv = REGIMES.index("scattered_convection")
    diurnal = float(diurnal_factor(hour_local, config))
    wet = np.array([r.wet_fraction for r in regimes])
    median = np.array([r.median_rate for r in regimes])
    wet[conv] *= diurnal
    median[conv] *= 0.5 + 0.5 * diurnal
    w = np.asarray(weights, float)
    speed = float(w @ [r.speed_factor for r in regimes])
    return FrameParams(
        weights=w,
        threshold=float(w @ ndtri(1.0 - np.clip(wet, 1e-6, 0.999))),
        log_median=float(w @ np.log(median)),
        log_sd=float(w @ [r.log_sd for r in regimes]),
        spectrum=Spectrum(
            slope=float(w @ [r.spectral_slope for r in regimes]),
            large_scale_slope=float(w @ [r.large_scale_slope for r in regimes]),
            break_km=float(np.exp(w @ np.log([r.break_km for r in regimes]))),
            outer_scale_km=float(np.exp(w @ np.log([r.outer_scale_km for r in regimes]))),
        ),
        lifetime_10km_min=float(np.exp(w @ np.log([r.lifetime_10km_min for r in regimes]))),
        vpr_range_km=float(w @ [r.vpr_range_km for r in regimes]),
        u=u * speed,
        v=v * speed,
        front=front,
        t=t,
    )


class TruthRain:
    """The truth rain on a radar window, one frame at a time.

    Args:
        grid: The radar window (square pixels).
        terrain_m: Terrain height on the window (m), (ny, nx).
        config: Rain parameters.
        rng: Random generator of the field.
        pad_km: Periodic padding of the FFT domain beyond the window.
        workers: FFT threads.
    """

    def __init__(
        self,
        grid: ProjectedGrid,
        terrain_m: np.ndarray,
        config: RainConfig,
        rng: np.random.Generator,
        pad_km: float = 64.0,
        workers: int = 2,
    ) -> None:
        self.grid = grid
        self.config = config
        pad = int(np.ceil(pad_km * 1e3 / grid.dx))
        shape = (
            scipy.fft.next_fast_len(grid.ny + pad, real=True),
            scipy.fft.next_fast_len(grid.nx + pad, real=True),
        )
        self.field = SpectralField(shape, grid.dx / 1e3, config.lifetime_exponent, rng, workers)
        self._x = (grid.x - grid.x.mean()).astype(np.float32)
        self._y = (grid.y - grid.y.mean()).astype(np.float32)
        self.half_diagonal_m = float(np.hypot(self._x[0], self._y[0]))
        h_km = (terrain_m / 1e3).astype(np.float32)
        self._h_km = h_km
        dh_drow, dh_dcol = np.gradient(terrain_m.astype(np.float64))
        self._hx = (dh_dcol / grid.dx).astype(np.float32)
        self._hy = (-dh_drow / grid.dy).astype(np.float32)
        self._rate_gain = (1.0 + config.terrain_rate_gain * h_km).astype(np.float32)

    def advance(self, params: FrameParams, dt_s: float) -> None:
        """Move the field by the wind over ``dt_s`` and let it evolve."""
        shift_cols = params.u * dt_s / self.grid.dx
        shift_rows = -params.v * dt_s / self.grid.dy
        self.field.step(dt_s, shift_rows, shift_cols, params.lifetime_10km_min)

    def envelope(self, params: FrameParams) -> np.ndarray:
        """Shift of the Gaussian field from fronts, orography and convective triggering."""
        cfg = self.config
        w = dict(zip(REGIMES, params.weights, strict=True))
        env = np.zeros((self.grid.ny, self.grid.nx), dtype=np.float32)
        front = params.front
        w_front = w["stratiform_front"]
        if front is not None and w_front > _W_MIN:
            d = np.add.outer(
                self._y * np.float32(front.normal_y), self._x * np.float32(front.normal_x)
            )
            d -= np.float32(front.position(params.t))
            d *= np.float32(1.0 / (cfg.front_width_km * 1e3))
            np.square(d, out=d)
            np.negative(d, out=d)
            np.exp(d, out=d)
            d *= np.float32(w_front * cfg.front_amplitude)
            d -= np.float32(w_front * cfg.front_suppression)
            env += d
        if w["orographic"] > _W_MIN:
            lift = self._hx * np.float32(params.u)
            lift += self._hy * np.float32(params.v)
            np.clip(lift, -0.5, 1.0, out=lift)
            lift *= np.float32(w["orographic"] * cfg.upslope_lift)
            env += lift
            env += np.float32(w["orographic"] * cfg.orographic_lift) * self._h_km
        if w["scattered_convection"] > _W_MIN:
            env += np.float32(w["scattered_convection"] * cfg.convective_terrain_lift) * self._h_km
        return env

    def rate_table(self, params: FrameParams) -> tuple[np.ndarray, np.ndarray]:
        """Rate (before the terrain gain) as a function of the shifted field above threshold.

        The map ``g ↦ exp(ln(median) + log_sd · Φ⁻¹(1 − Φ̄(g)/Φ̄(t)))`` is smooth and
        monotone; it is tabulated on 2049 points over ``[t, t + 9]`` and interpolated.
        """
        t = params.threshold
        g = t + np.linspace(0.0, 9.0, 2049)
        exceed = ndtr(-g) / ndtr(-t)
        z = ndtri(np.clip(1.0 - exceed, 1e-300, 1.0 - 1e-15))
        rate = np.exp(params.log_median + params.log_sd * z)
        rate[0] = 0.0
        return g, np.minimum(rate, self.config.max_rate)

    def rate(self, params: FrameParams) -> np.ndarray:
        """The 5-minute rain rate (mm/h) on the window for the current field, float32."""
        g = self.field.field(params.spectrum)[: self.grid.ny, : self.grid.nx]
        g = g + self.envelope(params)
        flat = g.ravel()
        wet = np.flatnonzero(flat > params.threshold)
        rate = np.zeros(flat.size, dtype=np.float32)
        if wet.size:
            table_g, table_rate = self.rate_table(params)
            r = np.interp(flat[wet], table_g, table_rate).astype(np.float32)
            r *= self._rate_gain.ravel()[wet]
            rate[wet] = np.minimum(r, np.float32(self.config.max_rate))
        return rate.reshape(g.shape)
