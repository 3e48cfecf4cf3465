"""Smoke run of benchmarks/bench_inference.py at a tiny size (so that it cannot rot)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_inference.py"


def test_inference_benchmark_smoke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    spec = importlib.util.spec_from_file_location("bench_inference", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--smoke"])
    assert result["maps"] == 4  # the smoke world's four half hours, every one read and scored
    assert result["read_s_per_map"] > 0 and result["infer_s_per_map"] > 0
    out = capsys.readouterr().out
    assert "4 granules, 4 maps read, 4 rows scored, box 5x6 cells" in out
    wall = re.search(r"readers alone, wall: ([0-9.]+)x", out)
    assert wall and float(wall[1]) == result["ratio"]
    verdict = "MET" if result["ratio"] <= 1.5 else "NOT MET"
    assert out.rstrip().splitlines()[-2].endswith(f"(wall): {verdict}")
    assert list(tmp_path.iterdir()) == []  # the world was written to a temporary folder
