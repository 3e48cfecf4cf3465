"""Smoke run of benchmarks/bench_training.py at a tiny size (so that it cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_training.py"


def test_training_benchmark_smoke(tmp_path: Path, capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_training", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.main(["--smoke", "--devices", "cpu", "--dir", str(tmp_path)])
    assert [(r["device"], r["workers"]) for r in rows] == [("cpu", 0)]
    assert rows[0]["samples_per_s"] > 0 and 0 <= rows[0]["wait_share"] < 1
    out = capsys.readouterr().out
    assert "samples/s" in out and "data waiting" in out and "goal < 10 %" in out
    assert list(tmp_path.iterdir()) == []  # the stores were built in a temporary folder
