"""Benchmark: writing the synthetic demo world, against its budget (issue 2).

Writes ``WorldConfig(days=...)`` (default: the 3-day demo world of ``make demo``) into a
temporary folder, with the area weights cached beside it as the demo pipeline does, and
prints the wall and CPU time, the size on disk by kind of file, the peak resident memory,
and the ratios to the budget of the demo world (2 minutes and 500 MB on 2 cores), scaled by
the number of days for other lengths. The machine's load average is printed before and
after: other jobs on the cores slow the world down.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_synthetic.py [--days 3] [--dir DIR]

``--smoke`` (the test suite's run, seconds): two hours of a world on a 5 × 6-cell box with
half an hour of spin-up, against the budget scaled the same way (by days only: the ratios
of a smoke run say nothing about the budget).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import resource
import tempfile
import time
from pathlib import Path

from rainscore.grids import Box
from rainscore.synthetic import SyntheticWorld, WorldConfig

BUDGET_SECONDS = 120.0
BUDGET_BYTES = 500e6
BUDGET_DAYS = 3.0
SMOKE_BOX = Box(lat_min=46.0, lat_max=46.5, lon_min=2.0, lon_max=2.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--dir", type=Path, default=None, help="write here (kept)")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny world (2 h, 5 x 6 cells) for the test suite"
    )
    args = parser.parse_args()
    config = WorldConfig(days=args.days)
    if args.smoke:
        args.days = 2 / 24
        config = WorldConfig(days=args.days, box=SMOKE_BOX, spinup_hours=0.5)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPU cores, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
    print(f"load average before: {load}")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp) / "world"
        world = SyntheticWorld(config)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        manifest = world.write(root, progress=False, cache_dir=Path(tmp) / "weights")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        sizes = manifest.groupby("kind")["bytes"].sum()
        counts = manifest["kind"].value_counts()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    total = float(sizes.sum())
    scale = args.days / BUDGET_DAYS
    files = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    print(f"world of {args.days:g} days: {files} files")
    print(f"write(): {wall:.1f} s wall, {cpu:.1f} s CPU (this process), peak RSS {peak:.2f} GiB")
    print(
        "size on disk: "
        + ", ".join(f"{kind} {b / 1e6:.1f} MB" for kind, b in sizes.items())
        + f", total {total / 1e6:.1f} MB"
    )
    print(
        f"against the budget ({BUDGET_SECONDS * scale:.0f} s, {BUDGET_BYTES * scale / 1e6:.0f} MB "
        f"for {args.days:g} days): time {wall / (BUDGET_SECONDS * scale):.2f}x, "
        f"size {total / (BUDGET_BYTES * scale):.2f}x"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
