"""Smoke run of benchmarks/bench_score_calls.py at a tiny size (so that it cannot rot)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_score_calls.py"

pytest.importorskip("pysteps.verification")
pytest.importorskip("skimage")


def test_score_calls_benchmark_smoke(capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_score_calls", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    status = bench.main(["--maps", "2", "--shape", "12", "16", "--repeats", "1"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line[0] != " "]
    calls = {row[0] for row in rows}
    public = {"fss", "categorical_scores", "continuous_scores", "sal", "score_maps"}
    assert public | {"ContingencyAccumulator"} <= calls
    # One row per call and configuration on 1 and on 2 maps, each with its two times and ratio.
    table = [row for row in rows if row[0] in public | {"ContingencyAccumulator"}]
    assert len(table) == 2 * 12
    for row in table:
        numbers = [x for x in row if x.replace(".", "", 1).isdigit()]
        ours, theirs, ratio = (float(x) for x in numbers[-3:])
        assert ours > 0 and theirs > 0 and abs(ratio - ours / theirs) < 0.01 * ratio + 0.01
        assert (row[-1] == "SLOWER") == (ratio > 1.0)
    assert status == 0  # without --check, slower calls are flagged, not fatal
