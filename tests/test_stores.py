"""Direct random reads of a store's maps (MapReader) against zarr-python, every layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from rainscore.stores import MapReader, StoreLayout, write_store


def _inputs(n_time: int = 30) -> xr.Dataset:
    rng = np.random.default_rng(3)
    rain = np.round(rng.gamma(0.5, 2.0, (n_time, 5, 4)), 2).astype("float32")
    rain[7] = np.nan  # a map equal to the fill value: zarr stores no chunk for it
    return xr.Dataset(
        {
            "precipitation": (("time", "lat", "lon"), rain),
            "source": (("time", "lat", "lon"), rng.integers(0, 12, (n_time, 5, 4), "int16")),
            "present": (("time", "lat", "lon"), rng.random((n_time, 5, 4)) < 0.3),
            "n_files": (("time",), np.arange(n_time)),
            "land": (("lat", "lon"), rng.random((5, 4)) < 0.5),
        },
        coords={"time": pd.date_range("2024-06-01", periods=n_time, freq="30min")},
    )


@pytest.mark.parametrize(
    "layout",
    [
        StoreLayout(),
        StoreLayout(time_chunk=1, time_shard=None, compressor="zstd"),
        StoreLayout(time_chunk=4, time_shard=8, compressor=None),
        StoreLayout(time_chunk=3, time_shard=12, compressor="zstd"),
    ],
)
def test_map_reader_equals_zarr_for_every_map(tmp_path: Path, layout: StoreLayout) -> None:
    path = tmp_path / "inputs.zarr"
    write_store(
        path,
        [_inputs().isel(time=slice(0, 11)), _inputs().isel(time=slice(11, None))],
        layout=layout,
    )
    group = zarr.open_group(path, mode="r")
    with MapReader(path) as reader:
        assert reader.variables == ["precipitation", "present", "source"]
        assert len(reader) == 30
        assert all(a._direct for a in reader._arrays.values())
        for i in range(-30, 30):
            maps = reader.read(i)
            for name, values in maps.items():
                expected = group[name][i]
                assert values.dtype == expected.dtype
                np.testing.assert_array_equal(values, expected)
        assert np.isnan(reader.read(7)["precipitation"]).all()
        with pytest.raises(IndexError, match="time index 30 of 30"):
            reader.read(30)


def test_map_reader_reads_other_layouts_through_zarr(tmp_path: Path) -> None:
    path = tmp_path / "inputs.zarr"
    write_store(path, _inputs())
    group = zarr.open_group(path, mode="r+")
    split = group.create_array(
        "split",
        shape=(30, 5, 4),
        chunks=(1, 2, 4),
        dtype="float32",
        dimension_names=("time", "lat", "lon"),
    )
    split[:] = _inputs()["precipitation"].values
    reader = MapReader(path, ["split", "precipitation"])
    assert not reader._arrays["split"]._direct
    for i in range(30):
        np.testing.assert_array_equal(reader.read(i)["split"], reader.read(i)["precipitation"])
    with pytest.raises(ValueError, match="'land' does not start with time"):
        MapReader(path, ["land"])
    reader.close()
