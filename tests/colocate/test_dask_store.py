"""On Dask, the workers write the colocation store themselves, block by block."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from distributed import get_worker
from kedro.io.core import DatasetError, Version

import rainscore.colocate.distributed as distributed
from rainscore.colocate import (
    ColocationConfig,
    ColocationError,
    ColocationStream,
    WorkerColocation,
    colocation_writer,
    plan_colocation,
)
from rainscore.datasets import XarrayZarrDataset
from rainscore.execution import ExecutorConfig
from rainscore.stores import StoreLayout, open_store, write_store

T0 = dt.datetime(2023, 6, 1, 12, 0)
LAYOUT = StoreLayout(time_shard=2)
"""Two half hours a shard: the 3-hour period is three blocks of whole shards."""
DASK = ExecutorConfig(
    executor="dask", workers=2, dask_scheduler="local", dask_processes=False, progress=False
)


@pytest.fixture
def radar_hours(series, grid):
    """Three hours of frames with rain and moving holes, one unreadable file."""
    rng = np.random.default_rng(11)
    for k in range(1, 37):
        field = rng.gamma(0.6, 0.4, grid.shape)
        field[field < 0.2] = 0.0
        field[: 4 + k % 5, : 18 + k % 4] = np.nan
        path = series.add(T0 + dt.timedelta(minutes=5 * k), field)
        if k == 14:
            path.write_bytes(b"truncated")
    return series.inventory()


def _plan(inventory, box, tmp_path: Path, **config):
    return plan_colocation(
        inventory,
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(block_half_hours=1, **config),
    )


@pytest.fixture
def sequential(radar_hours, box, tmp_path):
    """The store written from the sequential blocks, and their bad frames."""
    stream = ColocationStream(_plan(radar_hours, box, tmp_path).run())
    write_store(tmp_path / "sequential.zarr", stream, layout=LAYOUT)
    return open_store(tmp_path / "sequential.zarr").load(), stream.bad_frames


def test_the_writer_follows_the_executor(radar_hours, box, tmp_path) -> None:
    plan = _plan(radar_hours, box, tmp_path)
    assert isinstance(colocation_writer(plan, DASK), WorkerColocation)
    sequential = ExecutorConfig(executor="sequential", progress=False)
    assert isinstance(colocation_writer(plan, sequential), ColocationStream)


def test_workers_write_the_sequential_store_block_by_block(
    radar_hours, box, tmp_path, sequential, monkeypatch
) -> None:
    """Every block is written by a Dask worker into its own region (whole shards); the store
    equals the one written from the driver value for value, with the same bad frames."""
    writes: list[tuple[str, list]] = []
    write_region = distributed.write_region

    def spy(path: str, block: xr.Dataset) -> int:
        writes.append((get_worker().address, block["time"].values.tolist()))  # on a worker
        return write_region(path, block)

    monkeypatch.setattr(distributed, "write_region", spy)
    colocation = WorkerColocation(_plan(radar_hours, box, tmp_path), DASK)
    assert colocation.write_store(tmp_path / "workers.zarr", layout=LAYOUT, previous=None) == 6

    assert len(writes) == 3  # blocks of 1 half hour rounded up to a shard of 2
    assert sorted(len(times) for _, times in writes) == [2, 2, 2]
    assert all(address.startswith("inproc://") for address, _ in writes)
    stored = open_store(tmp_path / "workers.zarr").load()
    reference, bad_frames = sequential
    xr.testing.assert_identical(stored, reference)
    assert stored["n_frames"].values.tolist() == [6, 6, 5, 6, 6, 6]
    assert colocation.bad_frames == bad_frames
    assert [Path(b.path).name for b in bad_frames] == ["RADAR_202306011310.h5"]


def test_the_dataset_saves_the_workers_store_atomically(radar_hours, box, tmp_path, sequential):
    dataset = XarrayZarrDataset(
        filepath=str(tmp_path / "radar.zarr"),
        layout={"time_shard": 2},
        version=Version(None, None),
    )
    dataset.save(WorkerColocation(_plan(radar_hours, box, tmp_path), DASK))
    xr.testing.assert_identical(dataset.load().load(), sequential[0])
    (version,) = (tmp_path / "radar.zarr").iterdir()
    assert [p.name for p in version.iterdir()] == ["radar.zarr"]


def test_a_failed_block_leaves_no_store(radar_hours, box, tmp_path) -> None:
    """strict mode: the worker that meets the unreadable file raises; the save removes its
    temporary store and the version folder."""
    dataset = XarrayZarrDataset(
        filepath=str(tmp_path / "radar.zarr"), layout={"time_shard": 2}, version=Version(None, None)
    )
    plan = _plan(radar_hours, box, tmp_path, strict=True)
    with pytest.raises(DatasetError, match=r"RADAR_202306011310\.h5: unreadable") as err:
        dataset.save(WorkerColocation(plan, DASK))
    assert isinstance(err.value.__cause__, ColocationError)
    assert list((tmp_path / "radar.zarr").iterdir()) == []


def test_workers_write_a_new_store_only(radar_hours, box, tmp_path) -> None:
    colocation = WorkerColocation(_plan(radar_hours, box, tmp_path), DASK)
    with pytest.raises(ValueError, match="not an append to"):
        colocation.write_store(tmp_path / "new.zarr", layout=LAYOUT, previous=tmp_path / "old")
