"""Factories for the score tests: seeded rain fields on the real IMERG lattice over France."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.special import ndtri

LAT0, LON0 = 42.85, -2.75  # first cell centres of the default France box (72 x 104 cells)


def rain_arrays(
    n_maps: int = 4, shape: tuple[int, int] = (72, 104), *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded realistic forecast/observation pairs, float64 ``(n_maps, ny, nx)`` in mm/h.

    Spatially correlated Gaussian fields (power-law spectrum) made intermittent by a
    threshold at a random wet fraction and lognormal above it; the forecast is a correlated,
    displaced and noisy copy of the observation.
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


def as_maps(values: np.ndarray, *, name: str = "precipitation") -> xr.DataArray:
    """Wrap ``(n_maps, ny, nx)`` values as a (time, lat, lon) DataArray on the IMERG lattice."""
    n, ny, nx = values.shape
    time = np.datetime64("2024-06-01T00:00") + np.arange(n) * np.timedelta64(30, "m")
    return xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={
            "time": time,
            "lat": np.round(LAT0 + 0.1 * np.arange(ny), 6),
            "lon": np.round(LON0 + 0.1 * np.arange(nx), 6),
        },
        name=name,
        attrs={"units": "mm/h"},
    )


def fake_pair(
    n_maps: int = 4, shape: tuple[int, int] = (72, 104), *, seed: int = 0
) -> tuple[xr.DataArray, xr.DataArray]:
    """A forecast (IMERG-like) and an observation (radar-like) as DataArrays."""
    fc, obs = rain_arrays(n_maps, shape, seed=seed)
    return as_maps(fc, name="imerg"), as_maps(obs, name="radar")


@pytest.fixture
def pair() -> tuple[xr.DataArray, xr.DataArray]:
    """Six seeded 72 x 104 map pairs."""
    return fake_pair(6, seed=1)


@pytest.fixture
def small_pair() -> tuple[xr.DataArray, xr.DataArray]:
    """Five seeded 18 x 22 map pairs (fast property tests)."""
    return fake_pair(5, (18, 22), seed=2)
