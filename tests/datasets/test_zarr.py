"""The versioned Zarr store dataset: round trip, laziness, blocks, versions, atomic saves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr
from kedro.io import DataCatalog
from kedro.io.core import DatasetError, Version

from rainscore.atomic import temporary_path
from rainscore.datasets import XarrayZarrDataset, export_netcdf
from rainscore.stores import (
    StoreLayout,
    StoreUpdate,
    append_blocks,
    open_store,
    time_blocks,
    write_store,
)


def _cube(seed: int = 0, n_time: int = 100, start: str = "2024-06-10", **attrs) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=n_time, freq="30min")
    lat = np.round(42.85 + 0.1 * np.arange(4), 6)
    lon = np.round(-2.75 + 0.1 * np.arange(3), 6)
    rain = rng.gamma(0.5, 2.0, size=(n_time, 4, 3)).astype("float32")
    rain[0, 0, 0] = np.nan
    return xr.Dataset(
        {
            "precipitation": (("time", "lat", "lon"), rain, {"units": "mm/h"}),
            "source": (("time", "lat", "lon"), rng.integers(0, 12, (n_time, 4, 3), "int16")),
            "n_files": (("time",), rng.integers(1, 7, n_time, "int32"), {"units": "1"}),
            "land": (("lat", "lon"), rng.random((4, 3)) > 0.5),
        },
        coords={"time": times, "lat": lat, "lon": lon},
        attrs={"product": "Final", **attrs},
    )


def _versioned(path: Path, **kwargs) -> XarrayZarrDataset:
    return XarrayZarrDataset(filepath=str(path), version=Version(None, None), **kwargs)


def test_round_trip_is_lazy_and_exact(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "cube.zarr"))
    cube = _cube(box={"lat_min": 42.8}, strict=True, flags=["a", "b"])
    ds.save(cube)
    loaded = ds.load()
    assert loaded["precipitation"].chunks[0] == (48, 48, 4)  # dask, one chunk per shard
    xr.testing.assert_identical(loaded.load(), cube.assign_attrs(loaded.attrs))
    # Mappings and lists of strings are stored as JSON, booleans as ints (as in netCDF).
    assert loaded.attrs == {
        "product": "Final",
        "box": '{"lat_min": 42.8}',
        "strict": 1,
        "flags": '["a", "b"]',
    }
    # Times load as datetime64[ns], as from netCDF.
    assert {n: v.dtype for n, v in loaded.variables.items() if n != "time"} == {
        n: v.dtype for n, v in cube.variables.items() if n != "time"
    }


def test_layout_chunks_one_map_and_shards_a_day(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    XarrayZarrDataset(filepath=str(path)).save(_cube())
    group = zarr.open_group(path, mode="r")
    rain = group["precipitation"]
    assert (rain.chunks, rain.shards) == ((1, 4, 3), (48, 4, 3))
    assert sorted(p.name for p in (path / "precipitation" / "c").iterdir()) == ["0", "1", "2"]
    assert group["land"].shards is None


def test_layout_option(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    XarrayZarrDataset(filepath=str(path), layout={"time_chunk": 4, "time_shard": None}).save(
        _cube()
    )
    rain = zarr.open_group(path, mode="r")["precipitation"]
    assert (rain.chunks, rain.shards) == ((4, 4, 3), None)
    with pytest.raises(DatasetError, match="multiple of time_chunk"):
        XarrayZarrDataset(filepath=str(path), layout={"time_chunk": 4, "time_shard": 10})


def test_dataarray_round_trip(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "rain.zarr"))
    da = _cube()["precipitation"].rename("rain")
    ds.save(da)
    loaded = ds.load()
    assert isinstance(loaded, xr.DataArray)
    xr.testing.assert_identical(loaded.load(), da)
    in_blocks = XarrayZarrDataset(filepath=str(tmp_path / "blocks.zarr"))
    in_blocks.save(da.isel(time=slice(i, i + 30)) for i in range(0, 100, 30))
    xr.testing.assert_identical(in_blocks.load().load(), da)
    lazy = XarrayZarrDataset(filepath=str(tmp_path / "lazy.zarr"))
    lazy.save(da.chunk({"time": 10}))
    xr.testing.assert_identical(lazy.load().load(), da)


def test_blocks_equal_the_whole_and_dask_input_is_written(tmp_path: Path) -> None:
    cube = _cube()
    whole = XarrayZarrDataset(filepath=str(tmp_path / "whole.zarr"))
    whole.save(cube.chunk({"time": 7}))  # dask chunks unaligned with the shards
    blocks = XarrayZarrDataset(filepath=str(tmp_path / "blocks.zarr"))
    blocks.save(block for block in time_blocks(cube, 30))
    xr.testing.assert_identical(blocks.load().load(), whole.load().load())
    xr.testing.assert_identical(whole.load().load(), cube)


def test_versions_latest_and_pinned(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    _versioned(path).save(_cube(seed=1))
    time.sleep(0.01)
    _versioned(path).save(_cube(seed=2))

    latest = _versioned(path)
    versions = latest.list_versions(full_path=False)
    assert len(versions) == 2
    assert all([p.name for p in (path / v).iterdir()] == ["cube.zarr"] for v in versions)
    xr.testing.assert_identical(latest.load().load(), _cube(seed=2))
    pinned = XarrayZarrDataset(filepath=str(path), version=Version(versions[1], None))
    xr.testing.assert_identical(pinned.load().load(), _cube(seed=1))


def test_versioned_through_catalog_config(tmp_path: Path) -> None:
    catalog = DataCatalog.from_config(
        {
            "cube": {
                "type": "rainscore.datasets.XarrayZarrDataset",
                "filepath": str(tmp_path / "cube.zarr"),
                "versioned": True,
                "layout": {"time_shard": 24},
            }
        }
    )
    catalog.save("cube", time_blocks(_cube(), 10))
    assert len(list((tmp_path / "cube.zarr").glob("*/cube.zarr/zarr.json"))) == 1
    loaded = catalog.load("cube")
    assert loaded["precipitation"].chunks[0][0] == 24
    xr.testing.assert_identical(loaded.load(), _cube())


def test_failure_mid_stream_leaves_previous_version_latest(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    _versioned(path).save(_cube(seed=1))
    time.sleep(0.01)

    def failing() -> Iterator[xr.Dataset]:
        blocks = time_blocks(_cube(seed=2), 30)
        yield next(blocks)
        yield next(blocks)
        raise RuntimeError("radar archive unreachable")

    with pytest.raises(DatasetError, match="radar archive unreachable"):
        _versioned(path).save(failing())

    assert len(list(path.iterdir())) == 1  # the failed version's folder is gone
    assert [p.name for p in path.glob("*/*")] == ["cube.zarr"]  # no temporary left
    latest = _versioned(path)
    assert len(latest.list_versions()) == 1
    xr.testing.assert_identical(latest.load().load(), _cube(seed=1))


def test_killed_save_temporary_is_removed_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    pid = int(subprocess.check_output([sys.executable, "-c", "import os; print(os.getpid())"]))
    killed = temporary_path(path / "2026-01-01T00.00.00.000Z" / "cube.zarr")
    killed = killed.with_name(killed.name.replace(f"-{os.getpid()}.", f"-{pid}."))
    write_store(killed, _cube(n_time=5))
    _versioned(path).save(_cube())
    assert not killed.parent.exists()
    assert len(_versioned(path).list_versions()) == 1


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (_cube(start="2024-06-11"), r"block 1: starts at 2024-06-11.*not after.*2024-06-12"),
        (_cube(n_time=1).isel(time=[0, 0]), r"block 1: times are not strictly increasing"),
        (_cube(start="2024-07-01").drop_vars("source"), r"block 1: variables differ.*source"),
        (
            _cube(start="2024-07-01").assign(source=lambda d: d.source.astype("int32")),
            r"block 1: variable 'source' has dims.*int32",
        ),
        (
            _cube(start="2024-07-01").assign_coords(lat=lambda d: d.lat + 0.1),
            r"block 1: coordinate 'lat' differs",
        ),
    ],
)
def test_bad_blocks_are_rejected_naming_dataset_and_block(
    tmp_path: Path, second: xr.Dataset, message: str
) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "cube.zarr"))
    with pytest.raises(DatasetError, match=message) as err:
        ds.save(iter([_cube(), second]))
    assert "cube.zarr" in str(err.value)
    assert not (tmp_path / "cube.zarr").exists()


def test_generator_save_holds_one_block(tmp_path: Path) -> None:
    """The peak is a few blocks (a block, its encoded chunks, the shard it is merged into
    read and rewritten: about 5.5 blocks of 24 maps in shards of 48), whatever the period."""
    n_blocks, n_time = 40, 24
    shape = (n_time, 72, 104)
    times = pd.date_range("2024-06-01", periods=n_blocks * n_time, freq="30min")

    def blocks() -> Iterator[xr.Dataset]:
        rng = np.random.default_rng(0)
        for k in range(n_blocks):
            yield xr.Dataset(
                {"rain": (("time", "lat", "lon"), rng.random(shape, dtype=np.float32))},
                coords={"time": times[k * n_time : (k + 1) * n_time]},
            )

    total = n_blocks * n_time * 72 * 104 * 4
    ds = XarrayZarrDataset(filepath=str(tmp_path / "big.zarr"))
    tracemalloc.start()
    try:
        ds.save(blocks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < total / 4, (peak, total)
    assert ds.load().sizes["time"] == n_blocks * n_time


def test_append_from_previous_adds_new_times_and_keeps_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    cube = _cube(n_time=100)
    _versioned(path, append_from_previous=True).save(cube.isel(time=slice(0, 70)))
    old = _versioned(path).load().load()
    time.sleep(0.01)
    _versioned(path, append_from_previous=True).save(
        time_blocks(cube.isel(time=slice(70, None)), 20)
    )

    latest = _versioned(path)
    xr.testing.assert_identical(latest.load().load(), cube)
    first = latest.list_versions(full_path=False)[-1]
    pinned = XarrayZarrDataset(filepath=str(path), version=Version(first, None))
    xr.testing.assert_identical(pinned.load().load(), old)  # shared shards untouched
    # The first day's shard was not rewritten: both versions hold the same file (a hard link).
    shard = path / first / "cube.zarr" / "precipitation" / "c" / "0" / "0" / "0"
    assert shard.stat().st_nlink == 2

    time.sleep(0.01)
    with pytest.raises(DatasetError, match="not after the store's last time"):
        _versioned(path, append_from_previous=True).save(cube.isel(time=slice(90, None)))


def test_a_store_update_recomputes_the_last_steps_of_the_previous_version(
    tmp_path: Path,
) -> None:
    """A StoreWriter writes itself into the temporary folder, given the previous version:
    a StoreUpdate keeps its steps before the update's start (hard links) and appends."""
    path = tmp_path / "cube.zarr"
    cube = _cube(n_time=100)
    stale = cube.isel(time=slice(0, 70)).copy(deep=True)
    stale["precipitation"][60:] = -1.0  # the last ten steps were incomplete
    _versioned(path, append_from_previous=True).save(stale)
    time.sleep(0.01)
    tail = cube.isel(time=slice(60, None))
    _versioned(path, append_from_previous=True).save(
        StoreUpdate(time_blocks(tail, 20), tail["time"].values[0])
    )
    latest = _versioned(path)
    xr.testing.assert_identical(latest.load().load(), cube)
    first = latest.list_versions(full_path=False)[-1]
    shard = path / first / "cube.zarr" / "precipitation" / "c" / "0" / "0" / "0"
    assert shard.stat().st_nlink == 2
    pinned = XarrayZarrDataset(filepath=str(path), version=Version(first, None))
    xr.testing.assert_identical(pinned.load().load(), stale)


def test_a_failed_store_writer_leaves_no_version(tmp_path: Path) -> None:
    class Failing:
        def write_store(self, path: Path, *, layout, previous) -> int:
            write_store(path, _cube(n_time=10), layout=layout)
            raise RuntimeError("worker lost")

    path = tmp_path / "cube.zarr"
    with pytest.raises(DatasetError, match="worker lost"):
        _versioned(path).save(Failing())
    assert list(path.iterdir()) == []


def test_append_blocks_to_an_open_store(tmp_path: Path) -> None:
    path = tmp_path / "cube.zarr"
    cube = _cube()
    assert append_blocks(path, time_blocks(cube.isel(time=slice(0, 50)), 20)) == 50
    assert append_blocks(path, [cube.isel(time=slice(50, None))]) == 50
    xr.testing.assert_identical(open_store(path).load(), cube)


def test_unversioned_save_replaces_the_store(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "cube.zarr"))
    ds.save(_cube(seed=1))
    ds.save(_cube(seed=2, n_time=10))
    xr.testing.assert_identical(ds.load().load(), _cube(seed=2, n_time=10))
    assert [p.name for p in tmp_path.iterdir()] == ["cube.zarr"]


def test_append_from_previous_needs_versions(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="versioned"):
        XarrayZarrDataset(filepath=str(tmp_path / "c.zarr"), append_from_previous=True)


def test_missing_store_error_names_the_path(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "absent.zarr"))
    with pytest.raises(DatasetError, match=r"absent\.zarr"):
        ds.load()
    assert not ds.exists()


def test_preview_lists_variables_period_and_size(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "cube.zarr"))
    ds.save(_cube())
    preview = ds.preview()
    assert preview["columns"] == [
        "variable",
        "dims",
        "dtype",
        "units",
        "chunks",
        "shards",
        "on_disk",
    ]
    rows = {row[0]: row for row in preview["data"]}
    assert rows["precipitation"][1:6] == [
        "time=100 × lat=4 × lon=3",
        "float32",
        "mm/h",
        "1 × 4 × 3",
        "48 × 4 × 3",
    ]
    assert rows["(store)"][1] == "time=100: 2024-06-10T00:00 → 2024-06-12T01:30"
    assert rows["(store)"][6].endswith(" MB")
    json.dumps(preview)


def test_export_netcdf_of_a_period(tmp_path: Path) -> None:
    ds = XarrayZarrDataset(filepath=str(tmp_path / "cube.zarr"))
    cube = _cube()
    ds.save(cube)
    export_netcdf(ds.load(), tmp_path / "june11.nc", start="2024-06-11", end="2024-06-11T23:30")
    with xr.open_dataset(tmp_path / "june11.nc", engine="h5netcdf") as exported:
        xr.testing.assert_identical(exported.load(), cube.sel(time="2024-06-11"))


def test_store_layout_from_dict_rejects_unknown_keys() -> None:
    assert StoreLayout.from_dict(None) == StoreLayout()
    with pytest.raises(ValueError, match="time_shards"):
        StoreLayout.from_dict({"time_shards": 4})


def _cube_blocks(cube: xr.Dataset) -> Iterator[xr.Dataset]:
    return time_blocks(cube, 30)  # a plain function returning a generator


def test_node_returning_blocks_writes_one_version(tmp_path: Path) -> None:
    from kedro.io import MemoryDataset
    from kedro.pipeline import Pipeline, node
    from kedro.runner import SequentialRunner

    catalog = DataCatalog(
        {
            "cube": MemoryDataset(_cube()),
            "store": XarrayZarrDataset(
                filepath=str(tmp_path / "store.zarr"), version=Version(None, None)
            ),
        }
    )
    pipeline = Pipeline([node(_cube_blocks, "cube", "store", name="write_blocks")])
    SequentialRunner().run(pipeline, catalog)
    assert len(list((tmp_path / "store.zarr").glob("*/store.zarr/zarr.json"))) == 1
    xr.testing.assert_identical(catalog.load("store").load(), _cube())
