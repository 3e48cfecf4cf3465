"""Smoke run of benchmarks/bench_score_calls.py at a tiny size (so that it cannot rot).

It imports benchmarks/score_bench.py (the maps and pysteps' side, shared with bench_scores.py,
whose own smoke run is in tests/test_benchmarks_smoke.py): this run covers both.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_score_calls.py"
CALLS = {"fss", "categorical_scores", "continuous_scores", "sal", "score_maps"}

pytest.importorskip("pysteps.verification")
pytest.importorskip("skimage")


def test_score_calls_benchmark_smoke(capsys, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH.parent))  # as `python benchmarks/...` does
    spec = importlib.util.spec_from_file_location("bench_score_calls", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    status = bench.main(["--maps", "2", "--shape", "12", "16", "--repeats", "1"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] and line[0] != " "]
    calls = {row[0] for row in rows}
    assert CALLS | {"ContingencyAccumulator"} <= calls
    # One row per call and configuration on 1 and on 2 maps, each with its two times and ratio.
    table = [row for row in rows if row[0] in CALLS | {"ContingencyAccumulator"}]
    assert len(table) == 2 * 12
    ratios = {}
    for row in table:
        numbers = [x for x in row if x.replace(".", "", 1).isdigit()]
        ours, theirs, ratio = (float(x) for x in numbers[-3:])
        assert ours > 0 and theirs > 0 and abs(ratio - ours / theirs) < 0.01 * ratio + 0.01
        assert (row[-1] == "SLOWER") == (ratio > 1.0)
        ratios[(" ".join(row[: -5 if row[-1] == "SLOWER" else -4]), int(numbers[-4]))] = ratio
    # The ratios again by call and size: 12 rows of two ratios (1 and 2 maps), same values.
    lines = out.splitlines()
    pivot = lines[lines.index(next(x for x in lines if x.startswith("ratio rainscore"))) + 2 :]
    pivot = [line for line in pivot[:12] if line.startswith("  ")]
    assert len(pivot) == 12
    for line in pivot:
        label, one, two = line.strip().rsplit(None, 2)
        key = label.replace(", ", " ", 1)
        assert float(one) == pytest.approx(ratios[(key, 1)], abs=0.006)
        assert float(two) == pytest.approx(ratios[(key, 2)], abs=0.006)
    # The verdict against the goal, consistent with the rows.
    slower = sum(row[-1] == "SLOWER" for row in table)
    verdict = [line for line in lines if line.startswith(("PASS:", "FAIL:"))]
    assert len(verdict) == 1
    assert verdict[0].startswith("FAIL:" if slower else "PASS:")
    if slower:
        assert f"{slower} of 24 calls slower" in verdict[0]
    assert status == 0  # without --check, slower calls are flagged, not fatal
