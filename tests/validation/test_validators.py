"""The catalog ``validator:`` checks an output before it is written."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from kedro.io import DataCatalog
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
