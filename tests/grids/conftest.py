"""Small source grids around a 1° × 1° box: weights build in a fraction of a second."""

from __future__ import annotations

import pytest

from rainscore.grids import METEOFRANCE_1KM, Box, ProjectedGrid
from rainscore.grids.regrid import AreaWeights

SMALL_BOX = Box(lat_min=46.0, lat_max=47.0, lon_min=2.0, lon_max=3.0)
"""10 × 10 IMERG cells in central France."""

OPERA_2KM = ProjectedGrid(
    crs="+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84",
    nx=1900,
    ny=2200,
    x_min=0.0,
    y_max=0.0,
    dx=2000.0,
    dy=2000.0,
    name="opera-2km",
)
"""The OPERA pan-European composite grid (2 km, Lambert azimuthal equal-area)."""


@pytest.fixture(scope="session")
def mf_grid() -> ProjectedGrid:
    """The window of the Météo-France 1 km grid around :data:`SMALL_BOX`, 5 km margin."""
    return METEOFRANCE_1KM.window_covering(*SMALL_BOX.boundary(), margin=5000.0, name="mf-win")


@pytest.fixture(scope="session")
def mf_weights(mf_grid) -> AreaWeights:
    """Area weights of :func:`mf_grid` on :data:`SMALL_BOX`."""
    return AreaWeights.build(mf_grid, SMALL_BOX)


@pytest.fixture(scope="session")
def small_box() -> Box:
    """:data:`SMALL_BOX`."""
    return SMALL_BOX


@pytest.fixture(scope="session")
def opera_grid() -> ProjectedGrid:
    """:data:`OPERA_2KM`."""
    return OPERA_2KM
