"""Direct random reads of a store's maps (MapReader) against zarr-python, every layout;
region writes, truncation and updates of a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

from rainscore.stores import (
    MapReader,
    StoreLayout,
    StoreUpdate,
    StoreWriter,
    create_store,
    open_store,
    truncate_store,
    write_region,
    write_store,
)


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


def test_regions_written_block_by_block_equal_the_store_written_at_once(tmp_path: Path) -> None:
    """create_store lays out the time axis; write_region fills whole shards, in any order."""
    inputs = _inputs()
    layout = StoreLayout(time_shard=4)
    write_store(tmp_path / "whole.zarr", inputs, layout=layout)
    path = tmp_path / "regions.zarr"
    create_store(path, inputs.isel(time=slice(0, 1)), inputs["time"].values, layout=layout)
    assert open_store(path)["time"].size == 30
    for start in (8, 0, 28, 4, 12, 16, 20, 24):  # the last region is shorter: the store ends
        assert write_region(path, inputs.isel(time=slice(start, start + 4))) == min(4, 30 - start)
    xr.testing.assert_identical(open_store(path).load(), open_store(tmp_path / "whole.zarr").load())


def test_a_region_of_part_of_a_shard_is_refused(tmp_path: Path) -> None:
    """Two writers of one shard would each rewrite it whole: only whole shards are written."""
    inputs = _inputs()
    path = tmp_path / "regions.zarr"
    create_store(path, inputs, inputs["time"].values, layout=StoreLayout(time_shard=4))
    with pytest.raises(ValueError, match="steps 2–6 do not cover whole time units of 4"):
        write_region(path, inputs.isel(time=slice(2, 6)))
    shifted = inputs.isel(time=slice(0, 4)).assign_coords(time=inputs.time[:4] + 60_000_000_000)
    with pytest.raises(ValueError, match="are not a run of its axis"):
        write_region(path, shifted)
    with pytest.raises(FileExistsError, match="exists"):
        create_store(path, inputs, inputs["time"].values)


def test_store_update_keeps_the_steps_before_its_start_and_leaves_the_source(
    tmp_path: Path,
) -> None:
    """A new version from a hard-link copy of the previous one, cut where the recomputed
    steps start: the previous store keeps every value and file."""
    inputs = _inputs()
    previous = tmp_path / "previous.zarr"
    write_store(previous, inputs.isel(time=slice(0, 20)), layout=StoreLayout(time_shard=8))
    before = {p: p.read_bytes() for p in previous.rglob("*") if p.is_file()}
    recomputed = inputs.isel(time=slice(13, None)).copy(deep=True)
    recomputed["precipitation"] = recomputed["precipitation"] + 1.0

    update = StoreUpdate(recomputed, recomputed["time"].values[0])
    assert isinstance(update, StoreWriter)
    path = tmp_path / "next.zarr"
    assert update.write_store(path, layout=StoreLayout(time_shard=8), previous=previous) == 30

    expected = xr.concat([inputs.isel(time=slice(0, 13)), recomputed], "time", data_vars="minimal")
    xr.testing.assert_equal(open_store(path).load(), expected)
    assert {p: p.read_bytes() for p in previous.rglob("*") if p.is_file()} == before
    first_shard = path / "precipitation" / "c" / "0" / "0" / "0"
    assert first_shard.stat().st_nlink == 2  # kept whole: shared with the previous store


def test_store_update_without_previous_or_start_writes_its_data(tmp_path: Path) -> None:
    inputs = _inputs()
    write_store(tmp_path / "previous.zarr", inputs.isel(time=slice(0, 10)))
    StoreUpdate(inputs, None).write_store(
        tmp_path / "a.zarr", layout=StoreLayout(), previous=tmp_path / "previous.zarr"
    )
    StoreUpdate(inputs, inputs["time"].values[5]).write_store(
        tmp_path / "b.zarr", layout=StoreLayout(), previous=None
    )
    for name in ("a.zarr", "b.zarr"):
        xr.testing.assert_equal(open_store(tmp_path / name).load(), inputs)


def test_truncate_store_cuts_every_time_variable(tmp_path: Path) -> None:
    inputs = _inputs()
    path = tmp_path / "store.zarr"
    write_store(path, inputs, layout=StoreLayout(time_shard=8))
    assert truncate_store(path, inputs["time"].values[11]) == 11
    xr.testing.assert_identical(open_store(path).load(), inputs.isel(time=slice(0, 11)))
    shards = (path / "precipitation" / "c").rglob("*")
    assert sorted(str(p.relative_to(path)) for p in shards if p.is_file()) == [
        "precipitation/c/0/0/0",
        "precipitation/c/1/0/0",
    ]
