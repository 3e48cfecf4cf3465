"""Features and local error maps computed block by block from lazily loaded pairs equal
those of the whole period held in memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from kedro.io.core import Version

from rainscore.analysis import local_error_blocks, local_error_maps, map_features
from rainscore.datasets import XarrayZarrDataset
from rainscore.grids import Box
from rainscore.stores import StoreLayout, open_store, write_store
from rainscore.testing import fake_pairs

BOX = Box(lat_min=45.0, lat_max=46.2, lon_min=1.0, lon_max=2.6)  # 12 × 16 cells
N_TIMES = 23


@pytest.fixture(scope="module")
def pairs() -> xr.Dataset:
    return fake_pairs(N_TIMES, seed=3, box=BOX)


@pytest.fixture(scope="module")
def lazy_pairs(pairs: xr.Dataset, tmp_path_factory: pytest.TempPathFactory) -> xr.Dataset:
    """The same pairs written to a store and opened lazily (dask chunks of 5 half hours)."""
    path = tmp_path_factory.mktemp("pairs") / "pairs.zarr"
    write_store(path, pairs, layout=StoreLayout(time_chunk=1, time_shard=5))
    lazy = open_store(path)
    assert lazy["imerg"].chunks is not None
    return lazy


@pytest.mark.parametrize("block_size", [1, 7, N_TIMES, 100])
def test_features_block_by_block_equal_the_whole(
    pairs: xr.Dataset, lazy_pairs: xr.Dataset, block_size: int
) -> None:
    whole = map_features(pairs, block_size=N_TIMES)
    assert len(whole) == N_TIMES
    assert whole["n_valid"].gt(0).all()
    pd.testing.assert_frame_equal(map_features(lazy_pairs, block_size=block_size), whole)
    pd.testing.assert_frame_equal(map_features(pairs, block_size=block_size), whole)


def test_a_block_size_below_one_is_refused(pairs: xr.Dataset) -> None:
    with pytest.raises(ValueError, match="map_features: block_size must be >= 1, got 0"):
        map_features(pairs, block_size=0)
    with pytest.raises(ValueError, match="local_error_blocks: block_size must be >= 1, got 0"):
        next(local_error_blocks(pairs, threshold=0.5, window=3, block_size=0))


@pytest.mark.parametrize("block_size", [1, 7, 100])
def test_local_error_blocks_equal_the_whole(
    pairs: xr.Dataset, lazy_pairs: xr.Dataset, block_size: int
) -> None:
    whole = local_error_maps(pairs, threshold=0.5, window=3)
    assert np.isfinite(whole["local_fraction_error"].values).sum() > 0
    blocks = list(
        local_error_blocks(
            lazy_pairs, threshold=0.5, window=3, block_size=block_size, attrs={"target_score": "x"}
        )
    )
    assert len(blocks) == -(-N_TIMES // block_size)
    assert all(b["abs_error"].chunks is None for b in blocks)  # in memory
    assert all(b.sizes["time"] <= block_size for b in blocks)
    joined = xr.concat(blocks, dim="time", combine_attrs="override")
    xr.testing.assert_identical(joined, whole.assign_attrs(target_score="x"))


def test_local_error_blocks_saved_as_one_store_version(
    pairs: xr.Dataset, lazy_pairs: xr.Dataset, tmp_path: Path
) -> None:
    """What the scoring node returns (a generator of blocks) saved by the catalog's store."""
    whole = local_error_maps(pairs, threshold=0.5, window=9)
    dataset = XarrayZarrDataset(
        filepath=str(tmp_path / "local_error_maps.zarr"), version=Version(None, None)
    )
    dataset.save(
        local_error_blocks(
            lazy_pairs, threshold=0.5, window=9, block_size=6, attrs={"target_score": "fss"}
        )
    )
    assert len(list((tmp_path / "local_error_maps.zarr").iterdir())) == 1  # one version
    loaded = XarrayZarrDataset(
        filepath=str(tmp_path / "local_error_maps.zarr"), version=Version(None, None)
    ).load()
    assert loaded.attrs["target_score"] == "fss"
    assert loaded.attrs["window"] == 9
    assert loaded["local_fraction_error"].attrs["window"] == 9
    for name in ("local_fraction_error", "abs_error", "mask"):
        np.testing.assert_array_equal(loaded[name].values, whole[name].values)
    np.testing.assert_array_equal(loaded["time"].values, whole["time"].values)


@pytest.mark.parametrize("lazy", [False, True])
def test_features_of_no_maps_are_an_empty_table_with_every_column(
    pairs: xr.Dataset, lazy_pairs: xr.Dataset, lazy: bool
) -> None:
    whole = map_features(pairs)
    empty = map_features((lazy_pairs if lazy else pairs).isel(time=slice(0, 0)))
    assert len(empty) == 0
    assert list(empty.columns) == list(whole.columns)
    assert empty.index.name == "time"
    assert empty.index.dtype == whole.index.dtype
    pd.testing.assert_series_equal(empty.dtypes, whole.dtypes)


@pytest.mark.parametrize("lazy", [False, True])
def test_local_errors_of_no_maps_are_one_empty_block_with_every_variable(
    pairs: xr.Dataset, lazy_pairs: xr.Dataset, lazy: bool
) -> None:
    whole = local_error_maps(pairs, threshold=0.5, window=3)
    blocks = list(
        local_error_blocks(
            (lazy_pairs if lazy else pairs).isel(time=slice(0, 0)),
            threshold=0.5,
            window=3,
            attrs={"target_score": "x"},
        )
    )
    assert len(blocks) == 1
    (empty,) = blocks
    assert empty.sizes == {"time": 0, "lat": whole.sizes["lat"], "lon": whole.sizes["lon"]}
    xr.testing.assert_identical(empty, whole.isel(time=slice(0, 0)).assign_attrs(target_score="x"))


def _traced_peak(func, *args, **kwargs) -> int:
    """Peak of the memory traced while ``func`` runs (numpy's buffers included)."""
    tracemalloc.start()
    try:
        func(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _consume(blocks) -> None:
    for _ in blocks:
        pass


@pytest.mark.parametrize(
    ("name", "run"),
    [
        ("map_features", lambda p: map_features(p, block_size=6)),
        (
            "local_error_blocks",
            lambda p: _consume(local_error_blocks(p, threshold=0.5, window=3, block_size=6)),
        ),
    ],
)
def test_lazy_pairs_are_read_with_memory_flat_in_the_period(name: str, run, tmp_path: Path) -> None:
    """Each block read from a store is released once computed: four times the maps, about
    the same peak (a loaded block kept to the end would make it grow with the period)."""
    box = Box(lat_min=44.0, lat_max=47.0, lon_min=0.0, lon_max=4.0)  # 30 × 40 cells
    peaks = {}
    for n_times in (12, 48):
        path = tmp_path / f"pairs_{n_times}.zarr"
        layout = StoreLayout(time_chunk=1, time_shard=6)
        write_store(path, fake_pairs(n_times, seed=5, box=box), layout=layout)
        lazy = open_store(path)
        run(lazy)  # imports and caches warmed before the measure
        peaks[n_times] = _traced_peak(run, open_store(path))
    assert peaks[48] < 1.3 * peaks[12], f"{name}: {peaks}"
