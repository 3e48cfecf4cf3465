"""Smoke runs of the benchmarks at a tiny size, so that none of them can rot unnoticed.

Each benchmark runs as a user runs it (a subprocess of ``benchmarks/<name>.py --smoke``) and
must exit 0 and print its result lines. The last test checks that every script in
``benchmarks/`` has such a run somewhere in the test suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
BENCHMARKS = ROOT / "benchmarks"


def _run(script: str, *args: str, cwd: Path) -> str:
    """Run ``benchmarks/<script> args`` in ``cwd``; its stdout (fails with its stderr)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(cwd)}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done.stdout


def _ratio(out: str, label: str) -> float:
    """The ratio printed after ``label`` (``<label>: <number>x``)."""
    match = re.search(re.escape(label) + r"[^:]*: ([0-9.]+)x", out)
    assert match, f"no line {label!r} in:\n{out}"
    return float(match[1])


def test_bench_colocation_smoke(tmp_path: Path) -> None:
    out = _run("bench_colocation.py", "--smoke", cwd=tmp_path)
    for label in (
        "colocation end to end / demo read[cache]",
        "colocation end to end / demo read:",
        "colocation end to end / demo read+decode",
        "DataArray reader / lean reader",
        "whole mosaics, colocation end to end (box window) / whole-file read+decode",
    ):
        assert _ratio(out, label.rstrip(":")) > 0
    assert "identical results: True" in out
    assert re.search(r"ours-step: [0-9.]+ ms/frame", out)  # the manual loops' half-hour sums
    assert "demo world's files 122x113, box window 58x49" in out  # the demo world's layout
    assert list(tmp_path.iterdir()) == []  # its files were written to a temporary folder


def test_bench_imerg_read_smoke(tmp_path: Path) -> None:
    out = _run("bench_imerg_read.py", "--smoke", cwd=tmp_path)
    assert _ratio(out, "open_imerg / xarray, same 4 variables") > 0
    assert _ratio(out, "open_imerg / xarray, all 10 vs xarray's 4") > 0
    assert "same box values (precipitation sum, first file): True" in out


def test_bench_synthetic_smoke(tmp_path: Path) -> None:
    out = _run("bench_synthetic.py", "--smoke", cwd=tmp_path)
    assert "world of 0.0833333 days: 24 radar, 4 imerg" in out
    assert re.search(r"against the budget .*: time [0-9.]+x, size [0-9.]+x", out)


def test_bench_scores_smoke(tmp_path: Path) -> None:
    out = _run("bench_scores.py", "--maps", "4", "--repeats", "1", cwd=tmp_path)
    for family in ("continuous", "categorical", "fss", "sal", "all (score_maps)"):
        assert re.search(re.escape(family) + r" .* [0-9.]+x$", out, re.MULTILINE), family


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_every_benchmark_has_a_smoke_run(script: str) -> None:
    """A test somewhere in tests/ names the script and runs it (``--smoke`` or tiny sizes)."""
    stem = Path(script).stem
    runs = [
        path
        for path in (ROOT / "tests").rglob("test_*.py")
        if stem in (text := path.read_text()) and ("--smoke" in text or "main(" in text)
    ]
    assert runs, f"benchmarks/{script} has no smoke run in tests/"
