"""Validators for the Kedro catalog's ``validator:`` key (no Kedro import needed).

Example::

    imerg_cube:
      type: rainscore.datasets.XarrayNetCDFDataset
      filepath: data/02_intermediate/imerg_cube.nc
      versioned: true
      validator:
        class: rainscore.validation.GriddedConventions
        options: {dataset: imerg_cube}

The check runs when the dataset is saved and when it is loaded; it reads coordinates and
attributes only, never the data. On save, the catalog checks the in-memory object before
the dataset writes it, so a failed check writes no version: the previous one stays the
latest (``tests/validation/test_validators.py``).
"""

from __future__ import annotations

import xarray as xr

from rainscore.validation.checks import check_conventions


class GriddedConventions:
    """Assert the gridded conventions (dims, ascending float64 lat/lon, units, times)."""

    def __init__(self, dataset: str = "dataset") -> None:
        """Create the validator.

        Args:
            dataset: The catalog name, for error messages.
        """
        self.dataset = dataset

    def validate(self, data: xr.Dataset | xr.DataArray) -> xr.Dataset | xr.DataArray:
        """Return ``data`` unchanged, or raise ``ValidationError`` naming what is wrong."""
        check_conventions(data, name=self.dataset)
        return data
