"""The same numbers whatever runs the time blocks: sequential, threads, processes, Dask."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr
from dask.distributed import LocalCluster

from rainscore.colocate import ColocationConfig, colocate_radar
from rainscore.execution import ExecutorConfig

T0 = dt.datetime(2023, 6, 1, 12, 0)


@pytest.fixture
def radar_hours(series, grid):
    """Two hours of frames with rain, holes that move, one unreadable file."""
    rng = np.random.default_rng(7)
    for k in range(1, 25):
        field = rng.gamma(0.6, 0.4, grid.shape)
        field[field < 0.2] = 0.0
        field[: 5 + k % 4, : 20 + k % 3] = np.nan
        path = series.add(T0 + dt.timedelta(minutes=5 * k), field)
        if k == 9:
            path.write_bytes(b"truncated")
    return series.inventory()


def colocate_with(inventory, box, cache_dir, **params):
    return colocate_radar(
        inventory,
        box,
        cache_dir=cache_dir,
        config=ColocationConfig(block_half_hours=1),
        execution=ExecutorConfig(**{"executor": "sequential", "progress": False, **params}),
    )


@pytest.fixture
def sequential(radar_hours, box, tmp_path):
    return colocate_with(radar_hours, box, tmp_path / "weights")


def assert_same(result, reference):
    xr.testing.assert_identical(result.dataset, reference.dataset)
    assert result.bad_frames == reference.bad_frames


def test_the_reference_run(sequential):
    ds = sequential.dataset
    assert ds.n_frames.values.tolist() == [6, 5, 6, 6]
    assert len(sequential.bad_frames) == 1
    assert np.isfinite(ds.rain.values).mean() > 0.9


@pytest.mark.parametrize("executor", ["processes", "threads"])
def test_local_workers_give_the_same_numbers(radar_hours, box, tmp_path, sequential, executor):
    result = colocate_with(radar_hours, box, tmp_path / "weights", executor=executor)
    assert_same(result, sequential)


def test_a_dask_cluster_given_by_its_address_gives_the_same_numbers(
    radar_hours, box, tmp_path, sequential
):
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = colocate_with(
            radar_hours,
            box,
            tmp_path / "weights",
            executor="dask",
            dask_scheduler=cluster.scheduler_address,
        )
    assert_same(result, sequential)


def test_a_local_dask_cluster_gives_the_same_numbers(radar_hours, box, tmp_path, sequential):
    result = colocate_with(
        radar_hours,
        box,
        tmp_path / "weights",
        executor="dask",
        dask_scheduler="local",
        dask_processes=False,
    )
    assert_same(result, sequential)


def test_blocks_computed_on_a_local_dask_cluster_stream_into_a_store(
    radar_hours, box, tmp_path, sequential
):
    """With the Dask executor the blocks are computed on the workers and the store is written
    from the driver, block by block in time order: the stored period is the sequential one."""
    from rainscore.colocate import ColocationStream, iter_colocation
    from rainscore.stores import open_store, write_store

    stream = ColocationStream(
        iter_colocation(
            radar_hours,
            box,
            cache_dir=tmp_path / "weights",
            config=ColocationConfig(block_half_hours=1),
            execution=ExecutorConfig(
                executor="dask", dask_scheduler="local", dask_processes=False, progress=False
            ),
        )
    )
    assert write_store(tmp_path / "radar.zarr", stream) == 4
    stored = open_store(tmp_path / "radar.zarr").load()
    for name, var in sequential.dataset.data_vars.items():
        np.testing.assert_array_equal(stored[name].values, var.values)
    assert stream.bad_frames == sequential.bad_frames
