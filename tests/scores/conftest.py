"""Factories for the score tests: seeded rain fields on the real IMERG lattice over France."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rainscore.synthetic.map_pairs import rain_map_pairs

LAT0, LON0 = 42.85, -2.75  # first cell centres of the default France box (72 x 104 cells)


rain_arrays = rain_map_pairs
"""Seeded realistic forecast/observation pairs, float64 ``(n_maps, ny, nx)`` in mm/h."""


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
