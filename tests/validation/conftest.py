"""Factories of small gridded datasets on the real IMERG lattice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.grids import Box

SMALL_BOX = Box(lat_min=45.0, lat_max=45.5, lon_min=2.0, lon_max=2.8)


def make_gridded(
    *,
    name: str = "precipitation",
    units: str = "mm/h",
    n_time: int = 6,
    box: Box = SMALL_BOX,
    seed: int = 0,
) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-06-10", periods=n_time, freq="30min")
    data = rng.gamma(0.4, 2.0, size=(n_time, *box.shape)).astype("float32")
    return xr.Dataset(
        {name: (("time", "lat", "lon"), data, {"units": units})},
        coords={"time": times, **box.coords()},
        attrs={"crs": "EPSG:4326"},
    )


@pytest.fixture(name="make_gridded")
def make_gridded_fixture():
    return make_gridded


@pytest.fixture
def small_box() -> Box:
    return SMALL_BOX


@pytest.fixture
def imerg() -> xr.Dataset:
    return make_gridded(seed=1)


@pytest.fixture
def radar() -> xr.Dataset:
    ds = make_gridded(name="rain", seed=2)
    ds["valid_fraction"] = xr.full_like(ds["rain"], 1.0).assign_attrs(units="1")
    return ds
