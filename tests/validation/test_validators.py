"""The catalog ``validator:`` checks an output before it is written."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from kedro.io import DataCatalog, DatasetError
from kedro.validation.exceptions import DataValidationError


def _catalog(tmp_path) -> DataCatalog:
    return DataCatalog.from_config(
        {
            "radar_on_imerg": {
                "type": "rainscore.datasets.XarrayNetCDFDataset",
                "filepath": str(tmp_path / "radar_on_imerg.nc"),
                "versioned": True,
                "validator": {
                    "class": "rainscore.validation.GriddedConventions",
                    "options": {"dataset": "radar_on_imerg"},
                },
            }
        }
    )


def test_failed_validator_leaves_the_previous_version_latest(tmp_path, make_gridded) -> None:
    good = make_gridded(name="rain", seed=3)
    _catalog(tmp_path).save("radar_on_imerg", good)
    versions = sorted((tmp_path / "radar_on_imerg.nc").iterdir())

    bad = good.isel(lat=slice(None, None, -1))  # latitudes descending
    with pytest.raises(DataValidationError, match="lat_ascending"):
        _catalog(tmp_path).save("radar_on_imerg", bad)

    assert sorted((tmp_path / "radar_on_imerg.nc").iterdir()) == versions
    assert not list((tmp_path / "radar_on_imerg.nc").rglob(".*"))  # no temporary left
    loaded = _catalog(tmp_path).load("radar_on_imerg")
    xr.testing.assert_equal(loaded.load(), good)
    assert np.all(np.diff(loaded["lat"].values) > 0)


def test_blocks_saved_to_a_store_are_each_checked(tmp_path, make_gridded) -> None:
    """An iterator of time blocks is checked block by block as the store writes it; a bad
    block aborts the save and leaves no version."""
    config = {
        "radar_on_imerg": {
            "type": "rainscore.datasets.XarrayZarrDataset",
            "filepath": str(tmp_path / "radar_on_imerg.zarr"),
            "versioned": True,
            "validator": {
                "class": "rainscore.validation.GriddedConventions",
                "options": {"dataset": "radar_on_imerg"},
            },
        }
    }
    good = make_gridded(name="rain", seed=3)
    n = good.sizes["time"]
    DataCatalog.from_config(config).save("radar_on_imerg", (good.isel(time=[i]) for i in range(n)))
    loaded = DataCatalog.from_config(config).load("radar_on_imerg").load()
    xr.testing.assert_equal(loaded, good)
    versions = sorted((tmp_path / "radar_on_imerg.zarr").iterdir())

    def blocks():
        yield good.isel(time=[0])
        yield good.isel(time=[1], lat=slice(None, None, -1))  # latitudes descending

    with pytest.raises(DatasetError, match=r"radar_on_imerg \(time block 1\): lat_ascending"):
        DataCatalog.from_config(config).save("radar_on_imerg", blocks())
    assert sorted((tmp_path / "radar_on_imerg.zarr").iterdir()) == versions
