"""Benchmark: peak memory of the default pipeline against the length of the period.

Writes two synthetic worlds of different lengths (default 5 and 20 days, the demo's box
and radar) and runs the default pipeline on each in its own copy of the project (this
tree's ``conf/base`` and ``pyproject.toml``, a ``conf/local/parameters.yml`` with the
world's box, the package imported from this tree's ``src``): ``kedro run --pipelines=X``
for ingestion, colocation and scoring in turn, each in a subprocess whose memory is
measured two ways:

- **tree**: the resident memory of the ``kedro`` process and all its descendants (worker
  processes) summed, sampled every 20 ms (psutil); the goals apply to this one;
- **largest**: the largest single process's peak (``ru_maxrss`` of ``wait4``, exact; what
  ``/usr/bin/time -v`` reports).

Prints the peaks per pipeline for both worlds, their ratio (long / short: 1.0 is memory
flat in the period), the disk used by the pipelines' outputs (``data/`` but the raw world)
and by the raw world per month (the slope between the two worlds × 30 days), and the
two-year peak: each pipeline's peak extrapolated linearly from the two worlds to 730 days
(a negative slope counts as flat), the largest of them. Goals: ratio ≤ 1.15 and two-year
peak < 4 GB, each printed PASS or FAIL.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_memory.py [--days 5 20] [--dir DIR]
        [--keep] [--worlds DIR] [--pipelines ...] [--pairs] [--smoke]

``--worlds DIR`` writes the worlds there once and reuses them (hard links) in later runs.
``--pipelines`` measures some of them only (each needs the previous ones' outputs: a
subset must start with ingestion). ``--pairs`` measures the scoring alone, on synthetic
colocated pairs written straight to the project's store (``rainscore.testing.fake_pairs``,
a day at a time): long periods in minutes instead of the hours of writing a world,
ingesting and colocating it. ``--smoke`` runs 0.25 and 0.5 days on a 10 × 15-cell box with
the sequential executor (``--smoke --pipelines ingestion`` and ``--smoke --pairs``, the
test suite's, take a minute or two each): it checks that the benchmark runs, not the
goals.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import psutil
import xarray as xr
import yaml
from kedro.io.core import Version

from rainscore.datasets import XarrayZarrDataset
from rainscore.grids import Box
from rainscore.synthetic import SyntheticWorld, WorldConfig
from rainscore.testing import fake_pairs

ROOT = Path(__file__).resolve().parents[1]
PIPELINES = ("ingestion", "colocation", "scoring")
RATIO_GOAL = 1.15
TWO_YEARS_DAYS = 730
TWO_YEAR_GOAL_GB = 4.0
SAMPLE_S = 0.02
SMOKE_BOX = {"lat_min": 45.0, "lat_max": 46.0, "lon_min": 1.0, "lon_max": 2.5}
RAW = Path("data") / "01_raw" / "demo"
PAIRS = Path("data") / "03_primary" / "colocated_pairs.zarr"
START = "2024-06-10T00:00"


class Peak(NamedTuple):
    """Memory and time of one pipeline run."""

    tree_bytes: int
    largest_bytes: int
    wall_s: float


def _tree_rss(process: psutil.Process) -> int:
    total = 0
    for proc in (process, *process.children(recursive=True)):
        with contextlib.suppress(psutil.Error):  # gone between the listing and the reading
            total += proc.memory_info().rss
    return total


def measure(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> Peak:
    """Run ``command`` to completion; its peak memory (tree and largest process) and time.

    Raises:
        RuntimeError: The command failed (its output is in ``log``, whose tail is shown).
    """
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        try:
            process = psutil.Process(proc.pid)
            while not done.is_set():
                peak[0] = max(peak[0], _tree_rss(process))
                done.wait(SAMPLE_S)
        except psutil.Error:  # the process ended
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-30:])
        raise RuntimeError(f"{' '.join(command)} failed ({proc.returncode}) in {cwd}:\n{tail}")
    largest = usage.ru_maxrss * 1024  # kB on Linux
    return Peak(max(peak[0], largest), largest, wall)


def make_project(
    root: Path,
    days: float,
    box: dict[str, float],
    margin_km: float,
    seed: int,
    params: dict | None = None,
    worlds: Path | None = None,
    pairs: bool = False,
) -> Path:
    """A copy of the project at ``root`` with a synthetic world of ``days`` in its raw folder
    (``params`` override the base parameters, besides the box).

    With ``worlds``, the world is written once to ``worlds/days_<days>`` and hard-linked
    into the project (the pipelines never write raw files); a world found there is reused.
    With ``pairs``, no world: the project's ``colocated_pairs`` store holds
    :func:`write_pairs`'s synthetic pairs instead (for the scoring alone).

    Raises:
        ValueError: The world found in ``worlds`` has another configuration.
    """
    shutil.copytree(ROOT / "conf" / "base", root / "conf" / "base")
    (root / "conf" / "local").mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # kedro wants it; the package comes from PYTHONPATH (kedro_env)
    local = {"box": box, **(params or {})}
    (root / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(local))
    if pairs:
        write_pairs(root / PAIRS, days, Box.from_dict(box), seed)
        return root
    config = WorldConfig.from_dict(
        {
            "start": START,
            "days": days,
            "seed": seed,
            "box": Box.from_dict(box),
            "margin_km": margin_km,
        }
    )
    if worlds is None:
        SyntheticWorld(config).write(root / RAW, progress=False)
        return root
    cached = worlds / f"days_{days:g}"
    if not (cached / "world.json").is_file():
        SyntheticWorld(config).write(cached, progress=False)
    found = json.loads((cached / "world.json").read_text())["config"]
    if found != json.loads(json.dumps(config.to_dict())):
        raise ValueError(f"--worlds: {cached} holds a world of another configuration")
    shutil.copytree(cached, root / RAW, copy_function=os.link)
    return root


def write_pairs(path: Path, days: float, box: Box, seed: int) -> None:
    """A version of the ``colocated_pairs`` store at ``path``: ``days`` of synthetic pairs
    (:func:`rainscore.testing.fake_pairs`, a day of maps at a time, one seed per day)."""
    n_maps = round(days * 48)
    start = pd.Timestamp(START)

    def blocks() -> Iterator[xr.Dataset]:
        for i in range(0, n_maps, 48):
            yield fake_pairs(
                min(48, n_maps - i),
                seed=seed + i,
                box=box,
                start=start + pd.Timedelta(minutes=30 * i),
            )

    XarrayZarrDataset(filepath=str(path), version=Version(None, None)).save(blocks())


def folder_bytes(path: Path, exclude: Path | None = None) -> int:
    """Bytes of the files under ``path`` (each hard-linked file once), ``exclude`` left out."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for file in path.rglob("*"):
        if exclude is not None and file.is_relative_to(exclude):
            continue
        if file.is_file() and not file.is_symlink():
            stat = file.stat()
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total


def kedro_env() -> dict[str, str]:
    """The subprocesses' environment: this tree's package, no telemetry, one BLAS thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.update(
        KEDRO_DISABLE_TELEMETRY="1",
        DO_NOT_TRACK="1",
        GX_ANALYTICS_ENABLED="false",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    return env


def _gb(nbytes: float) -> str:
    return f"{nbytes / 1e9:.2f} GB"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the peaks, ratios, disk use and verdicts."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=float, nargs=2, default=(5.0, 20.0))
    parser.add_argument("--seed", type=int, default=20240610)
    parser.add_argument("--dir", type=Path, default=None, help="where the projects go")
    parser.add_argument("--keep", action="store_true", help="keep the projects")
    parser.add_argument(
        "--worlds", type=Path, default=None, help="write the worlds here once, reuse them"
    )
    parser.add_argument("--pipelines", nargs="+", choices=PIPELINES, default=list(PIPELINES))
    parser.add_argument(
        "--smoke", action="store_true", help="0.25 and 0.5 days, tiny box, sequential"
    )
    parser.add_argument(
        "--pairs",
        action="store_true",
        help="the scoring alone, on synthetic colocated pairs instead of a world",
    )
    args = parser.parse_args(argv)
    demo = yaml.safe_load((ROOT / "conf" / "base" / "parameters_demo.yml").read_text())["demo"]
    box = yaml.safe_load((ROOT / "conf" / "base" / "parameters.yml").read_text())["box"]
    margin = float(demo["margin_km"])
    days = sorted(args.days)
    params = None
    if args.smoke:
        days, box, margin = [0.25, 0.5], SMOKE_BOX, 10.0
        params = {"execution": {"executor": "sequential", "progress": False}}
    pipelines = [name for name in PIPELINES if name in args.pipelines]
    if args.pairs:
        pipelines = ["scoring"]
    if days[0] == days[1]:
        parser.error(f"--days needs two different lengths, got {days}")
    load = os.getloadavg()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB; load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; python {platform.python_version()}"
    )
    what = "synthetic pairs" if args.pairs else "worlds"
    print(f"box {box}; {what} of {days[0]:g} and {days[1]:g} days; code from {ROOT / 'src'}")
    base = Path(tempfile.mkdtemp(prefix="bench_memory_", dir=args.dir))
    env = kedro_env()
    peaks: dict[float, dict[str, Peak]] = {}
    disk: dict[float, tuple[int, int]] = {}
    try:
        for d in days:
            t0 = time.perf_counter()
            project = make_project(
                base / f"days_{d:g}", d, box, margin, args.seed, params, args.worlds, args.pairs
            )
            print(f"{what} of {d:g} days written in {time.perf_counter() - t0:.0f} s")
            peaks[d] = {}
            for name in pipelines:
                log = project / f"{name}.log"
                command = [sys.executable, "-m", "kedro", "run", f"--pipelines={name}"]
                peaks[d][name] = measure(command, project, env, log)
                p = peaks[d][name]
                print(
                    f"  {d:>5g} days  {name:<11} tree {_gb(p.tree_bytes)}  "
                    f"largest {_gb(p.largest_bytes)}  {p.wall_s:6.1f} s"
                )
            disk[d] = (
                folder_bytes(project / "data", exclude=project / RAW),
                folder_bytes(project / RAW),
            )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"projects kept in {base}")

    short, long_ = days
    print(f"\npeak RSS per pipeline ({short:g} → {long_:g} days, ratio long/short):")
    ratios, slopes, two_years = {}, {}, {}
    for name in pipelines:
        a, b = peaks[short][name], peaks[long_][name]
        ratios[name] = b.tree_bytes / a.tree_bytes
        slopes[name] = (b.tree_bytes - a.tree_bytes) / (long_ - short)  # bytes per day
        two_years[name] = b.tree_bytes + max(slopes[name], 0.0) * (TWO_YEARS_DAYS - long_)
        print(
            f"  {name:<11} tree {_gb(a.tree_bytes)} → {_gb(b.tree_bytes)}  ×{ratios[name]:.3f}   "
            f"largest {_gb(a.largest_bytes)} → {_gb(b.largest_bytes)}  "
            f"×{b.largest_bytes / a.largest_bytes:.3f}   "
            f"two years {_gb(two_years[name])} ({slopes[name] * 30 / 1e9:+.3f} GB per month)"
        )
    peak_short = max(p.tree_bytes for p in peaks[short].values())
    peak_long = max(p.tree_bytes for p in peaks[long_].values())
    ratio = peak_long / peak_short
    # Each pipeline grows at its own rate: the run's two-year peak is the largest of theirs
    # (never below the extrapolation of the run's peak alone, which a flat pipeline with
    # the larger peak could hide a growing one behind).
    worst = max(two_years, key=two_years.__getitem__)
    two_year = two_years[worst]
    per_month = tuple((disk[long_][k] - disk[short][k]) / (long_ - short) * 30 for k in (0, 1))
    ratio_ok, two_year_ok = ratio <= RATIO_GOAL, two_year < TWO_YEAR_GOAL_GB * 1e9
    print(
        f"peak of the run: {_gb(peak_short)} → {_gb(peak_long)}, ratio {ratio:.3f} "
        f"(goal ≤ {RATIO_GOAL}): {_verdict(ratio_ok)}"
    )
    print(
        f"two-year peak (each pipeline linear from the two worlds, the largest: {worst}, "
        f"{slopes[worst] * 30 / 1e9:+.3f} GB per month): {_gb(two_year)} "
        f"(goal < {TWO_YEAR_GOAL_GB:g} GB): {_verdict(two_year_ok)}"
    )
    print(
        f"disk per month: pipeline outputs {per_month[0] / 1e9:.2f} GB, raw world "
        f"{per_month[1] / 1e9:.2f} GB (outputs of the {long_:g}-day world: "
        f"{_gb(disk[long_][0])})"
    )
    return {
        "days": days,
        "peaks": peaks,
        "ratios": ratios,
        "ratio": ratio,
        "two_year_bytes": two_year,
        "two_year_per_pipeline": two_years,
        "disk_per_month": per_month,
        "passed": {"ratio": ratio_ok, "two_year": two_year_ok},
    }


if __name__ == "__main__":
    main()
