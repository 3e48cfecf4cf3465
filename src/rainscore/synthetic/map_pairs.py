"""Seeded pairs of realistic rain maps for tests and benchmarks of the scores.

Not the synthetic world (no files, no physics of IMERG): just stacks of maps with the
statistics that matter to a score — spatial correlation, intermittency, a lognormal tail — and
a forecast that is a correlated, displaced and noisy copy of the observation.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["rain_map_pairs"]


def rain_map_pairs(
    n_maps: int, shape: tuple[int, int] = (72, 104), *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Forecast and observed rain maps, float64 ``(n_maps, ny, nx)`` in mm/h.

    Each observed map is a Gaussian field with a power-law spectrum (slope −1.6), cut at a
    random wet fraction (5–50 %) and lognormal above the cut; the forecast is the same
    construction on a field correlated with it (ρ 0.5–0.95), shifted by up to 3 cells, with
    multiplicative lognormal noise.

    Args:
        n_maps: Number of map pairs.
        shape: ``(ny, nx)`` of a map (default: the 72 × 104 cells of the France box).
        seed: Seed of the generator: the same seed gives the same maps.

    Returns:
        ``(forecast, obs)``.
    """
    rng = np.random.default_rng(seed)
    ny, nx = shape
    k = np.hypot(np.fft.fftfreq(ny)[:, None], np.fft.rfftfreq(nx)[None, :])
    k[0, 0] = 1.0
    spectrum = k**-1.6
    spectrum[0, 0] = 0.0

    def gaussian_field() -> np.ndarray:
        noise = np.fft.rfft2(rng.standard_normal((n_maps, ny, nx)))
        z = np.fft.irfft2(noise * spectrum, s=(ny, nx))
        z -= z.mean(axis=(1, 2), keepdims=True)
        return z / z.std(axis=(1, 2), keepdims=True)

    z_obs = gaussian_field()
    rho = rng.uniform(0.5, 0.95, (n_maps, 1, 1))
    z_fc = rho * z_obs + np.sqrt(1.0 - rho**2) * gaussian_field()
    shifts = rng.integers(-3, 4, (n_maps, 2))
    z_fc = np.stack([np.roll(z, tuple(s), axis=(0, 1)) for z, s in zip(z_fc, shifts, strict=True)])
    cut = ndtri(1.0 - rng.uniform(0.05, 0.5, (n_maps, 1, 1)))
    mu = rng.uniform(-1.0, 0.5, (n_maps, 1, 1))
    sigma = rng.uniform(0.6, 1.2, (n_maps, 1, 1))
    obs = np.where(z_obs > cut, np.exp(mu + sigma * (z_obs - cut)), 0.0)
    noise = rng.lognormal(0.0, 0.3, z_fc.shape)
    fc = np.where(z_fc > cut, np.exp(mu + sigma * (z_fc - cut)) * noise, 0.0)
    return fc, obs
