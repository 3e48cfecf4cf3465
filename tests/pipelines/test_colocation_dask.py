"""With the Dask executor (``--env=dask``) the colocation pipeline's workers write the store."""

from __future__ import annotations

from pathlib import Path

import xarray as xr
import yaml
from distributed import get_worker

import rainscore.colocate.distributed as distributed

DASK_ENV = Path(__file__).resolve().parents[2] / "conf" / "dask" / "parameters_execution.yml"


def test_dask_workers_write_the_sequential_radar_on_imerg(project, module_project, monkeypatch):
    module_project.run("ingestion")
    sequential = module_project.run("colocation")

    project.run("ingestion")
    execution = yaml.safe_load(DASK_ENV.read_text())["execution"]
    assert execution["colocation"]["executor"] == "dask"
    # conf/dask's executor keys, on a local cluster of threads (a test cannot fork workers).
    project.params["execution"] = {**execution, "dask_processes": False, "progress": False}
    # Blocks of one half hour, rounded up by the writer to the scratch store's shards of 4.
    project.params["colocation"]["engine"]["block_half_hours"] = 1
    project.config["radar_on_imerg_unchecked"]["layout"] = {"time_shard": 4}
    writes: list[tuple[str, int]] = []
    write_region = distributed.write_region

    def spy(path: str, block: xr.Dataset) -> int:
        writes.append((get_worker().address, block.sizes["time"]))  # raises off a worker
        return write_region(path, block)

    monkeypatch.setattr(distributed, "write_region", spy)
    catalog = project.run("colocation")

    assert sorted(n for _, n in writes) == [4, 4, 4]  # each worker writes whole shards
    assert all(address.startswith("inproc://") for address, _ in writes)
    for name in ("radar_on_imerg", "colocated_pairs"):
        xr.testing.assert_identical(catalog.load(name).load(), sequential.load(name).load())
