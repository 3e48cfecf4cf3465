"""Grids: the IMERG 0.1° lattice and its boxes, projected radar grids, regridding.

Nothing in this package imports Kedro.
"""

from rainscore.grids.imerg import (
    DEFAULT_BOX,
    IMERG_NLAT,
    IMERG_NLON,
    IMERG_RES,
    Box,
    imerg_global_lat,
    imerg_global_lon,
    round_coords,
)
from rainscore.grids.projected import (
    METEOFRANCE_1KM,
    METEOFRANCE_500M,
    METEOFRANCE_PROJ,
    ProjectedGrid,
)

__all__ = [
    "DEFAULT_BOX",
    "IMERG_NLAT",
    "IMERG_NLON",
    "IMERG_RES",
    "METEOFRANCE_1KM",
    "METEOFRANCE_500M",
    "METEOFRANCE_PROJ",
    "Box",
    "ProjectedGrid",
    "imerg_global_lat",
    "imerg_global_lon",
    "round_coords",
]
