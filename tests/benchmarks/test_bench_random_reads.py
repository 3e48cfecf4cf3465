"""Smoke run of benchmarks/bench_random_reads.py at a tiny size (so that it cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_random_reads.py"


def test_random_reads_benchmark_smoke(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_random_reads", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    # Every read path checks its maps against the in-memory array before it is timed.
    rows = bench.main(
        ["--smoke", "--maps", "24", "--layouts", "1/48", "2/none/zstd", "--dir", str(tmp_path)]
    )
    assert [(r["store"].split(" ")[0], r["path"]) for r in rows] == [
        ("in-memory", "reference"),
        ("1/48", "MapReader"),
        ("1/48", "zarr"),
        ("1/48", "xarray"),
        ("2/none/zstd", "MapReader"),
        ("2/none/zstd", "zarr"),
        ("2/none/zstd", "xarray"),
        ("netCDF", "h5py"),
    ]
    assert all(wall > 0 and cpu > 0 for wall, cpu in (r["rate"] for r in rows))
    assert "maps/s" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # the stores were built in a temporary folder
