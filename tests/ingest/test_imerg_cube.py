"""The IMERG cube: regular axis, gaps, incremental reuse and when reuse must not happen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import IngestionConfig, build_imerg_cube

CONFIG = IngestionConfig()
SEQUENTIAL = ExecutorConfig(executor="sequential", progress=False)


@pytest.fixture
def granules(tiny_world) -> list[str]:
    return sorted(str(p) for p in (tiny_world / "imerg").rglob("3B-HHR*"))


def test_cube_on_a_regular_axis_with_gaps_listed(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    cube, log = build_imerg_cube(
        granules[:4] + granules[6:], box=box, config=CONFIG, execution=SEQUENTIAL
    )
    assert cube.sizes["time"] == 12
    assert json.loads(cube.attrs["missing_times"]) == [
        ["2024-06-10T14:00:00", "2024-06-10T14:30:00"]
    ]
    assert cube["precipitation"].isel(time=[4, 5]).isnull().all()
    assert cube.attrs["crs"] == "EPSG:4326"
    assert cube.attrs["source_root"].endswith("imerg/2024/06/10")
    assert (log["status"] == "read").sum() == 10


def test_reuse_of_unchanged_granules(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    first, _ = build_imerg_cube(granules[:8], box=box, config=CONFIG, execution=SEQUENTIAL)
    cube, log = build_imerg_cube(
        granules, box=box, config=CONFIG, execution=SEQUENTIAL, previous=first
    )
    status = log.set_index("path")["status"]
    assert (status[granules[:8]] == "reused").all()
    assert (status[granules[8:]] == "read").all()
    fresh, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    for name in ("precipitation", "pmw_age_forward", "pmw_age_backward"):
        np.testing.assert_array_equal(cube[name].values, fresh[name].values)


def test_no_reuse_for_another_box_or_variables(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    first, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    smaller = Box(45.0, 45.5, 1.0, 2.0)
    cube, log = build_imerg_cube(
        granules, box=smaller, config=CONFIG, execution=SEQUENTIAL, previous=first
    )
    assert (log["status"] == "read").all()
    assert cube.sizes["lat"] == 5
    only = IngestionConfig(imerg_variables=("precipitation",))
    cube, log = build_imerg_cube(
        granules, box=box, config=only, execution=SEQUENTIAL, previous=first
    )
    assert (log["status"] == "read").all()
    assert list(cube.data_vars) == ["precipitation"]


def test_duplicates_and_other_runs_are_skipped(granules, tiny_box, tmp_path) -> None:
    late = tmp_path / granules[0].split("/")[-1].replace("3B-HHR.", "3B-HHR-L.").replace(
        ".HDF5", ".RT-H5"
    )
    late.write_bytes(Path(granules[0]).read_bytes())
    cube, log = build_imerg_cube(
        [*granules, str(late)], box=Box.from_dict(tiny_box), config=CONFIG, execution=SEQUENTIAL
    )
    row = log.set_index("path").loc[str(late)]
    assert row["status"] == "skipped"
    assert row["reason"] == "other_product"
    assert cube.attrs["product"] == "Final"
    assert pd.Timestamp(cube.time.values[0]) == pd.Timestamp("2024-06-10T12:00")


def test_pmw_age_from_the_files_matches_the_worlds_truth(granules, tiny_box, tiny_world) -> None:
    import xarray as xr

    cube, _ = build_imerg_cube(
        granules, box=Box.from_dict(tiny_box), config=CONFIG, execution=SEQUENTIAL
    )
    truth = xr.open_dataset(tiny_world / "truth" / "truth.nc")
    derived = cube["pmw_age_forward"].values
    true = truth["pmw_age"].values
    both = np.isfinite(derived) & np.isfinite(true)
    assert both.mean() > 0.5
    # MWobservationTime is stored in whole minutes: agreement to a minute
    np.testing.assert_allclose(derived[both], true[both], atol=1.0)
    assert (derived[both] == 0).mean() > 0.05  # some pixels are seen during the half hour


@pytest.mark.parametrize("block_half_hours", [1, 5, 48])
def test_blocks_give_the_whole_cube_value_for_value(
    granules, tiny_box, tmp_path, block_half_hours
) -> None:
    from rainscore.ingest import ImergCubeBlocks
    from rainscore.stores import open_store, write_store

    box = Box.from_dict(tiny_box)
    paths = granules[:4] + granules[6:]  # a gap of two half hours
    whole, whole_log = build_imerg_cube(paths, box=box, config=CONFIG, execution=SEQUENTIAL)
    blocks = ImergCubeBlocks(
        paths, box=box, config=CONFIG, execution=SEQUENTIAL, block_half_hours=block_half_hours
    )
    write_store(tmp_path / "cube.zarr", blocks)
    stored = open_store(tmp_path / "cube.zarr").load()
    assert set(stored.data_vars) == set(whole.data_vars)
    np.testing.assert_array_equal(stored.time.values, whole.time.values)
    for name in whole.data_vars:
        np.testing.assert_array_equal(stored[name].values, whole[name].values, err_msg=name)
    assert {k: v for k, v in stored.attrs.items() if k != "Conventions"} == {
        k: v for k, v in whole.attrs.items() if k != "Conventions"
    }
    pd.testing.assert_frame_equal(blocks.log(), whole_log)


def test_blocks_reuse_a_lazily_opened_previous_store(granules, tiny_box, tmp_path) -> None:
    from rainscore.ingest import ImergCubeBlocks
    from rainscore.stores import open_store, write_store

    box = Box.from_dict(tiny_box)
    first = ImergCubeBlocks(granules[:8], box=box, config=CONFIG, execution=SEQUENTIAL)
    write_store(tmp_path / "first.zarr", first)
    previous = open_store(tmp_path / "first.zarr")  # dask-backed: read a block at a time
    again = ImergCubeBlocks(
        granules,
        box=box,
        config=CONFIG,
        execution=SEQUENTIAL,
        previous=previous,
        block_half_hours=5,
    )
    write_store(tmp_path / "again.zarr", again)
    status = again.log().set_index("path")["status"]
    assert (status[granules[:8]] == "reused").all()
    assert (status[granules[8:]] == "read").all()
    fresh, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    stored = open_store(tmp_path / "again.zarr").load()
    for name in ("precipitation", "pmw_age_forward", "pmw_age_backward"):
        np.testing.assert_array_equal(stored[name].values, fresh[name].values)


def _pmw_blocks(n_times: int, size: int, seed: int = 0, shape: tuple[int, int] = (3, 4)):
    """Random mw fields (a sparse overpass every few hours, unknown half hours, a pixel
    never seen) on a regular axis, in blocks of ``size``."""
    import xarray as xr

    rng = np.random.default_rng(seed)
    dims = (n_times, *shape)
    source = np.where(rng.random(dims) < 0.15, rng.integers(1, 9, dims), 0).astype(np.float32)
    source[rng.random(dims) < 0.03] = np.nan
    source[:, 0, 0] = 0.0  # never seen
    minutes = rng.integers(0, 30, dims).astype(np.float32)
    minutes[rng.random(dims) < 0.1] = np.nan
    time = pd.date_range("2024-06-10", periods=n_times, freq="30min")
    whole = xr.Dataset(
        {
            "mw_source": (("time", "lat", "lon"), source),
            "mw_observation_time": (("time", "lat", "lon"), minutes),
        },
        coords={
            "time": time,
            "lat": 45.05 + 0.1 * np.arange(shape[0]),
            "lon": 1.05 + 0.1 * np.arange(shape[1]),
        },
    )
    return whole, [whole.isel(time=slice(i, i + size)) for i in range(0, n_times, size)]


@pytest.mark.parametrize("product", ["Late", "Early"])
@pytest.mark.parametrize("size", [1, 2, 7, 200])
def test_pmw_age_across_block_edges_is_the_whole_periods(product, size) -> None:
    from rainscore.ingest.imerg_cube import _PmwAges
    from rainscore.io import pmw_age

    whole, blocks = _pmw_blocks(150, size)
    ages = _PmwAges(product)
    out = [b for block in blocks for b in ages.push(block)] + ages.flush()
    assert [b.sizes["time"] for b in out] == [b.sizes["time"] for b in blocks]
    expected = pmw_age(whole, product=product)
    for name in ("pmw_age_forward", "pmw_age_backward"):
        got = np.concatenate([b[name].values for b in out])
        np.testing.assert_array_equal(got, expected[name].values, err_msg=name)


def test_pmw_age_blocks_hold_memory_flat_in_the_period() -> None:
    """Blocks are released as soon as their ages are known: the peak of a period four times
    longer is about the same (the pixel never seen is left out: it would hold every block
    back until the end, by design of the backward age)."""
    import tracemalloc

    from rainscore.ingest.imerg_cube import _PmwAges

    def peak(n_blocks: int) -> int:
        whole, blocks = _pmw_blocks(48 * n_blocks, 48, seed=1, shape=(20, 30))
        del whole
        tracemalloc.start()
        ages = _PmwAges("Late")
        for block in blocks:
            block = block.copy(deep=True)
            block["mw_source"][:, 0, 0] = 3.0  # seen every half hour
            for _ in ages.push(block):
                pass
        ages.flush()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak

    assert peak(40) < 1.3 * peak(10)


@pytest.mark.parametrize("bad", [0, -48, 1.5, True, "48"])
def test_a_bad_block_size_is_refused_naming_the_parameter(bad) -> None:
    with pytest.raises(ValueError, match=r"ingestion\.block_half_hours .* got"):
        IngestionConfig.from_dict({"block_half_hours": bad})


def test_block_reads_share_one_start_of_the_workers(granules, tiny_box, monkeypatch) -> None:
    """Threads read every block (one pool for all of them) and give the sequential cube."""
    import rainscore.ingest.parallel as parallel
    from rainscore.ingest import ImergCubeBlocks

    started = []
    real = parallel.open_executor

    def counting(config, **kwargs):
        started.append(config.executor)
        return real(config, **kwargs)

    monkeypatch.setattr(parallel, "open_executor", counting)
    box = Box.from_dict(tiny_box)
    threads = ExecutorConfig(executor="threads", workers=2, progress=False)
    blocks = list(
        ImergCubeBlocks(granules, box=box, config=CONFIG, execution=threads, block_half_hours=3)
    )
    assert started == ["threads"]
    assert len(blocks) == 4
    whole, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    for name in whole.data_vars:
        got = np.concatenate([b[name].values for b in blocks])
        np.testing.assert_array_equal(got, whole[name].values, err_msg=name)
