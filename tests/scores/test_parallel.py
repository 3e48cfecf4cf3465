"""Scoring in time blocks on workers gives the same table as one call."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.execution import ExecutorConfig
from rainscore.scores import ScoreConfig, score_maps, score_maps_parallel


def _fields(n: int = 30, seed: int = 0) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    rng = np.random.default_rng(seed)
    coords = {
        "time": pd.date_range("2024-01-01", periods=n, freq="30min"),
        "lat": np.round(45.05 + 0.1 * np.arange(12), 6),
        "lon": np.round(1.05 + 0.1 * np.arange(16), 6),
    }
    shape = (n, 12, 16)
    wet = rng.uniform(size=shape) < 0.4
    f = xr.DataArray(np.where(wet, rng.lognormal(0, 1, shape), 0.0), coords, ("time", "lat", "lon"))
    o = xr.DataArray(np.where(wet, rng.lognormal(0, 1, shape), 0.0), coords, ("time", "lat", "lon"))
    f.attrs["units"] = o.attrs["units"] = "mm/h"
    mask = xr.DataArray(rng.uniform(size=shape) < 0.9, coords, ("time", "lat", "lon"))
    return f, o, mask


@pytest.mark.parametrize(
    ("executor", "workers", "block_size"),
    [
        ("processes", 1, 7),
        ("processes", 2, 7),
        ("processes", 2, 100),
        ("processes", 3, 4),
        ("sequential", 2, 7),
        ("threads", 3, 4),
        ("dask", 2, 7),
    ],
)
def test_blocks_and_workers_change_nothing(executor: str, workers: int, block_size: int) -> None:
    f, o, mask = _fields()
    config = ScoreConfig(windows=(1, 3), thresholds=(0.5, 2.0))
    expected = score_maps(f, o, mask=mask, config=config)
    execution = ExecutorConfig(executor=executor, workers=workers, dask_processes=False)
    got = score_maps_parallel(
        f, o, mask=mask, config=config, execution=execution, block_size=block_size
    )
    pd.testing.assert_frame_equal(got, expected)


def test_bad_block_size() -> None:
    f, o, _ = _fields(n=3)
    with pytest.raises(ValueError, match="block_size must be >= 1, got 0"):
        score_maps_parallel(f, o, block_size=0)


@pytest.mark.parametrize("bad_map", [0, 29])
def test_an_error_in_any_block_reaches_the_caller(bad_map: int) -> None:
    # Block 0 goes to the worker process, the last block to the calling process.
    f, o, _ = _fields()
    o[bad_map] = -1.0
    with pytest.raises(ValueError, match="negative rain rate"):
        score_maps_parallel(f, o, execution=ExecutorConfig(workers=2), block_size=7)


def _lazy(da: xr.DataArray, chunk: int) -> xr.DataArray:
    """``da`` as a lazily loaded (dask-backed) array, as the catalog's stores give it."""
    return da.chunk({"time": chunk})


@pytest.mark.parametrize(("block_size", "chunk_size"), [(1, 16), (7, 3), (30, 16), (480, 16)])
def test_lazy_inputs_are_scored_block_by_block_identically(
    block_size: int, chunk_size: int
) -> None:
    f, o, mask = _fields()
    config = ScoreConfig(windows=(1, 3), thresholds=(0.5, 2.0))
    expected = score_maps(f, o, mask=mask, config=config)
    got = score_maps(
        _lazy(f, 4),
        _lazy(o, 4),
        mask=_lazy(mask, 4),
        config=config,
        chunk_size=chunk_size,
        block_size=block_size,
    )
    pd.testing.assert_frame_equal(got, expected)
    spatial_mask = mask.isel(time=0, drop=True)
    pd.testing.assert_frame_equal(
        score_maps(_lazy(f, 4), o, mask=spatial_mask, config=config, block_size=block_size),
        score_maps(f, o, mask=spatial_mask, config=config),
    )


def test_lazy_blocks_read_one_block_at_a_time() -> None:
    """score_maps reads a lazy input ``block_size`` maps per read, never the whole period."""
    from dask.callbacks import Callback

    f, o, mask = _fields()
    largest: list[int] = []

    class Sizes(Callback):
        def _posttask(self, key, result, dsk, state, worker_id) -> None:
            if isinstance(result, np.ndarray):
                largest.append(result.shape[0] if result.ndim == 3 else 0)

    with Sizes():
        score_maps(_lazy(f, 30), _lazy(o, 30), mask=_lazy(mask, 30), block_size=7)
    assert largest
    assert max(largest) <= 7


@pytest.mark.parametrize("executor", ["sequential", "processes"])
def test_lazy_inputs_scored_in_parallel_identically(executor: str) -> None:
    f, o, mask = _fields()
    config = ScoreConfig(windows=(3,), thresholds=(1.0,))
    expected = score_maps(f, o, mask=mask, config=config)
    got = score_maps_parallel(
        _lazy(f, 5),
        _lazy(o, 5),
        mask=_lazy(mask, 5),
        config=config,
        execution=ExecutorConfig(executor=executor, workers=2),
        block_size=8,
    )
    pd.testing.assert_frame_equal(got, expected)


def test_lazy_inputs_of_different_lengths_are_refused() -> None:
    f, o, _ = _fields()
    with pytest.raises(ValueError, match="score_maps: forecast has 30 times but obs has 29"):
        score_maps(_lazy(f, 5), o.isel(time=slice(0, 29)))
