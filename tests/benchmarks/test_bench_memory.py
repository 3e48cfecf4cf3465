"""Smoke run of benchmarks/bench_memory.py at a tiny size (so that it cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_memory.py"


def test_memory_benchmark_smoke(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_memory", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    projects, worlds = tmp_path / "projects", tmp_path / "worlds"
    projects.mkdir()
    argv = ["--smoke", "--pipelines", "ingestion", "--dir", str(projects), "--worlds", str(worlds)]
    result = bench.main(argv)
    assert result["days"] == [0.25, 0.5]
    for peaks in result["peaks"].values():
        assert list(peaks) == ["ingestion"]
        peak = peaks["ingestion"]
        assert 50e6 < peak.largest_bytes <= peak.tree_bytes  # a kedro process: > 50 MB
        assert peak.wall_s > 0
    assert result["ratio"] > 0
    (two_year,) = result["two_year_per_pipeline"].values()
    assert result["two_year_bytes"] == two_year
    assert two_year >= max(p["ingestion"].tree_bytes for p in result["peaks"].values())
    assert result["disk_per_month"][1] > 0  # the longer world's raw files
    out = capsys.readouterr().out
    for text in ("peak RSS per pipeline", "ratio", "two-year peak", "disk per month"):
        assert text in out
    assert list(projects.iterdir()) == []  # the projects were removed
    assert sorted(p.name for p in worlds.iterdir()) == ["days_0.25", "days_0.5"]  # kept
    assert (worlds / "days_0.5" / "world.json").is_file()


def test_memory_benchmark_smoke_on_synthetic_pairs(tmp_path: Path, capsys) -> None:
    """``--pairs``: the scoring alone, on pairs written to the project's store."""
    spec = importlib.util.spec_from_file_location("bench_memory", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--smoke", "--pairs", "--dir", str(tmp_path)])
    assert result["days"] == [0.25, 0.5]
    for peaks in result["peaks"].values():
        assert list(peaks) == ["scoring"]
        assert 50e6 < peaks["scoring"].largest_bytes <= peaks["scoring"].tree_bytes
    assert list(result["two_year_per_pipeline"]) == ["scoring"]
    assert result["disk_per_month"][0] > 0  # the scoring's outputs grow with the maps
    assert "synthetic pairs of 0.25 and 0.5 days" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
