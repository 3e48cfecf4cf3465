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
latest (``tests/validation/test_validators.py``). A node that returns an iterable of time
blocks (for a :class:`rainscore.datasets.XarrayZarrDataset`) has each block checked as the
store writes it: a failed block aborts the save, which leaves no version either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import xarray as xr

from rainscore.stores import StoreUpdate
from rainscore.validation.checks import check_conventions


class GriddedConventions:
    """Assert the gridded conventions (dims, ascending float64 lat/lon, units, times)."""

    def __init__(self, dataset: str = "dataset") -> None:
        """Create the validator.

        Args:
            dataset: The catalog name, for error messages.
        """
        self.dataset = dataset

    def validate(
        self, data: xr.Dataset | xr.DataArray | Iterable[xr.Dataset | xr.DataArray] | StoreUpdate
    ) -> xr.Dataset | xr.DataArray | Iterator[xr.Dataset | xr.DataArray] | StoreUpdate:
        """Return ``data`` unchanged, or raise ``ValidationError`` naming what is wrong.

        An iterable of time blocks is returned as an iterator that checks each block as it
        is consumed (the blocks are not held: the period is never in memory); a
        :class:`rainscore.stores.StoreUpdate` as the same update of its checked data.
        """
        if isinstance(data, xr.Dataset | xr.DataArray):
            check_conventions(data, name=self.dataset)
            return data
        if isinstance(data, StoreUpdate):
            return dataclasses.replace(data, data=self.validate(data.data))
        return self._checked_blocks(data)

    def _checked_blocks(
        self, blocks: Iterable[xr.Dataset | xr.DataArray]
    ) -> Iterator[xr.Dataset | xr.DataArray]:
        for index, block in enumerate(blocks):
            check_conventions(block, name=f"{self.dataset} (time block {index})")
            yield block
