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
    # One row per call, configuration and kind of fields on 1 and on 2 maps, each with its two
    # times and ratio: fss (3 configurations), categorical_scores (2) and the accumulator on
    # NumPy fields and on DataArrays, continuous_scores and sal on DataArrays, score_maps (4).
    table = [row for row in rows if row[0] in CALLS | {"ContingencyAccumulator"}]
    assert len(table) == 2 * 18
    ratios, extra = {}, {}
    for row in table:
        numbers = [x for x in row if x.replace(".", "", 1).isdigit()]
        ours, theirs, ratio = (float(x) for x in numbers[-3:])
        assert ours > 0 and theirs > 0 and abs(ratio - ours / theirs) < 0.01 * ratio + 0.01
        assert (row[-1] == "SLOWER") == (ratio > 1.0)
        fields = row[-6 if row[-1] == "SLOWER" else -5]
        key = " ".join([*row[: -6 if row[-1] == "SLOWER" else -5], fields.rstrip("*")])
        ratios[(key, int(numbers[-4]))] = ratio
        extra[key] = fields.endswith("*")
    # More work than pysteps: the labelled calls of the functions that take NumPy fields too,
    # and every score_maps table.
    assert {key for key, more in extra.items() if more} == {
        key
        for key in extra
        if key.startswith("score_maps")
        or (key.endswith("xarray") and key.replace("xarray", "numpy") in extra)
    }
    # The ratios again by call and size: 18 rows of two ratios (1 and 2 maps), same values.
    lines = out.splitlines()
    pivot = lines[lines.index(next(x for x in lines if x.startswith("ratio rainscore"))) + 2 :]
    pivot = [line for line in pivot[:18] if line.startswith("  ")]
    assert len(pivot) == 18
    for line in pivot:
        label, one, two = line.strip().rsplit(None, 2)
        call, rest = label.split(", ", 1)
        key = " ".join([call, *rest.rsplit(", ", 1)])
        assert float(one) == pytest.approx(ratios[(key, 1)], abs=0.006)
        assert float(two) == pytest.approx(ratios[(key, 2)], abs=0.006)
    # The verdict against the goal, on the rows of the same work only, consistent with them;
    # the others are listed after it, the slower ones by name.
    same = [(key, n) for key, n in ratios if not extra[key]]
    slower = sum(ratios[k] > 1.0 for k in same)
    verdict = [line for line in lines if line.startswith(("PASS:", "FAIL:"))]
    assert len(verdict) == 1
    assert verdict[0].startswith("FAIL:" if slower else "PASS:")
    assert (f"{slower} of {len(same)} calls slower" if slower else f"all {len(same)} calls") in (
        verdict[0]
    )
    n_extra = len(ratios) - len(same)
    more = sum(ratios[k] > 1.0 for k in ratios if extra[k[0]])
    assert f"more work than pysteps: {n_extra} calls, {more} slower" in out
    assert status == 0  # without --check, slower calls are flagged, not fatal
