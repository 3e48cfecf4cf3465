"""The versioned xarray netCDF dataset: round trip, laziness, versions, atomic saves."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, Version

from rainscore.datasets import XarrayNetCDFDataset


def _cube(seed: int = 0, n_time: int = 5, **attrs) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-06-10", periods=n_time, freq="30min")
    lat = np.round(42.85 + 0.1 * np.arange(4), 6)
    lon = np.round(-2.75 + 0.1 * np.arange(3), 6)
    rain = rng.gamma(0.5, 2.0, size=(n_time, 4, 3)).astype("float32")
    rain[0, 0, 0] = np.nan
    return xr.Dataset(
        {"precipitation": (("time", "lat", "lon"), rain, {"units": "mm/h"})},
        coords={"time": times, "lat": lat, "lon": lon},
        attrs={"product": "Final", **attrs},
    )


def test_round_trip_is_lazy_and_exact(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "cube.nc"))
    cube = _cube(box={"lat_min": 42.8}, strict=True)
    ds.save(cube)
    loaded = ds.load()
    assert loaded["precipitation"].chunks is not None  # dask-backed, nothing read yet
    xr.testing.assert_identical(loaded["precipitation"].load(), cube["precipitation"])
    assert loaded.attrs["box"] == '{"lat_min": 42.8}'  # mappings stored as JSON
    assert loaded.attrs["strict"] == 1


def test_eager_load_args(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "cube.nc"), load_args={"chunks": None})
    ds.save(_cube())
    assert ds.load()["precipitation"].chunks is None


def test_dataarray_round_trip(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "rain.nc"))
    da = _cube()["precipitation"].rename("rain")
    ds.save(da)
    loaded = ds.load()
    assert isinstance(loaded, xr.DataArray)
    xr.testing.assert_identical(loaded.load(), da)


def test_unnamed_dataarray_is_refused(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "rain.nc"))
    with pytest.raises(DatasetError, match="needs a name"):
        ds.save(xr.DataArray(np.zeros(3)))


def test_versioned_save_load_and_list_versions(tmp_path: Path) -> None:
    path = str(tmp_path / "cube.nc")
    first = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    first.save(_cube(seed=1))
    time.sleep(0.01)
    second = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    second.save(_cube(seed=2))

    latest = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    versions = latest.list_versions(full_path=False)
    assert len(versions) == 2
    assert versions == sorted(versions, reverse=True)
    xr.testing.assert_identical(latest.load().load(), _cube(seed=2))

    pinned = XarrayNetCDFDataset(filepath=path, version=Version(versions[1], None))
    xr.testing.assert_identical(pinned.load().load(), _cube(seed=1))


def test_versioned_through_catalog_config(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {
            "cube": {
                "type": "rainscore.datasets.XarrayNetCDFDataset",
                "filepath": str(tmp_path / "cube.nc"),
                "versioned": True,
            }
        }
    )
    catalog.save("cube", _cube())
    files = list((tmp_path / "cube.nc").glob("*/cube.nc"))
    assert len(files) == 1
    xr.testing.assert_identical(catalog.load("cube").load(), _cube())


def test_crash_mid_save_leaves_nothing_loadable(tmp_path: Path, monkeypatch) -> None:
    path = str(tmp_path / "cube.nc")
    good = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    good.save(_cube(seed=1))

    def crash(self, *args, **kwargs):
        Path(args[0]).write_bytes(b"\x89HDF half written")
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", crash)
    time.sleep(0.01)
    bad = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    with pytest.raises(DatasetError, match="disk full"):
        bad.save(_cube(seed=2))
    monkeypatch.undo()

    # No partial file under any dataset name, and the latest loadable version is the good one.
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "cube.nc"]
    latest = XarrayNetCDFDataset(filepath=path, version=Version(None, None))
    assert len(latest.list_versions()) == 1
    xr.testing.assert_identical(latest.load().load(), _cube(seed=1))


def test_missing_file_error_names_the_path(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "absent.nc"))
    with pytest.raises(DatasetError, match=r"absent\.nc"):
        ds.load()
    assert not ds.exists()


def test_preview_lists_variables(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "cube.nc"))
    ds.save(_cube())
    preview = ds.preview()
    assert "precipitation" in [row[0] for row in preview["data"]]
    row = next(r for r in preview["data"] if r[0] == "precipitation")
    assert row[1] == "time=5 × lat=4 × lon=3"
    assert row[3] == "mm/h"


def test_compression_and_time_chunks(tmp_path: Path) -> None:
    ds = XarrayNetCDFDataset(filepath=str(tmp_path / "cube.nc"))
    ds.save(_cube(n_time=50))
    import h5py

    with h5py.File(tmp_path / "cube.nc") as f:
        var = f["precipitation"]
        assert var.compression == "gzip"
        assert var.chunks[1:] == (4, 3)


def test_parquet_table_round_trip_versions_and_atomic_save(tmp_path: Path, monkeypatch) -> None:
    from rainscore.datasets import ParquetTableDataset

    path = str(tmp_path / "table.parquet")
    table = pd.DataFrame(
        {"score": [0.1, 0.5]}, index=pd.DatetimeIndex(["2024-06-10", "2024-06-11"], name="time")
    )
    ParquetTableDataset(filepath=path, version=Version(None, None)).save(table)
    time.sleep(0.01)

    def crash(self, target, **kwargs):
        Path(target).write_bytes(b"PAR1 half written")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", crash)
    with pytest.raises(DatasetError, match="disk full"):
        ParquetTableDataset(filepath=path, version=Version(None, None)).save(table * 2)
    monkeypatch.undo()
    latest = ParquetTableDataset(filepath=path, version=Version(None, None))
    assert len(latest.list_versions()) == 1
    pd.testing.assert_frame_equal(latest.load(), table)
    assert latest.preview()["columns"] == ["time", "score"]
