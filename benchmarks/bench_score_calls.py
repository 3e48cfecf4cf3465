"""Benchmark: each public score call on a small configuration against pysteps doing the same work.

``bench_scores.py`` times the full suite of ``score_maps``; this one times the simple calls a
user makes — one threshold, one window, one map or a few dozen — where fixed costs (checks,
alignment, labelling the result) weigh most. For each public call of ``rainscore.scores`` and
each configuration it scores the same seeded maps (72 x 104 cells by default) with the call
and with pysteps map by map for the same scores, in one process, the two interleaved, and
prints the best of ``--repeats`` runs of each, their ratio, and ``SLOWER`` where ours is
slower (ratio > 1).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_score_calls.py [--maps 48]
        [--repeats 30] [--shape 72 104] [--seed 0] [--clock cpu|wall] [--only fss] [--check]

``--check`` exits with status 1 when a call is slower than pysteps. Timings are best-of-N
CPU times of this process by default (``--clock wall`` for wall times): other jobs on a
loaded machine slow both sides, and only the ratios of one run compare. It ends with the
ratios by call and number of maps and a PASS/FAIL line against the goal of issue 11 (no public
call slower than pysteps on the same work). pysteps (and scikit-image, which its SAL needs) is
a benchmark/test-only dependency; its side comes from ``score_bench.py``, shared with
``bench_scores.py``.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import NamedTuple  # noqa: E402

import numpy as np  # noqa: E402
from score_bench import as_maps, load_average, pysteps_calls  # noqa: E402

from rainscore.scores import (  # noqa: E402
    ContingencyAccumulator,
    ScoreConfig,
    categorical_scores,
    continuous_scores,
    fss,
    sal,
    score_maps,
)
from rainscore.synthetic.map_pairs import rain_map_pairs  # noqa: E402


class Case(NamedTuple):
    """One public call on one configuration, and pysteps doing the same work map by map."""

    call: str
    config: str
    n_maps: int
    ours: Callable[[], object]
    theirs: Callable[[], object]


def cases(fc: np.ndarray, obs: np.ndarray, sizes: tuple[int, ...]) -> list[Case]:
    """Every public call on small configurations, on the first ``n`` maps for each size."""
    ref = pysteps_calls()
    small = {"thresholds": (1.0,), "windows": (5,)}
    default = ScoreConfig()
    out: list[Case] = []
    for n in sizes:
        f, o = fc[:n], obs[:n]
        forecast, observed = as_maps(f), as_maps(o)

        def each(func: Callable[..., object], f=f, o=o, **options: object) -> Callable[[], None]:
            def run() -> None:
                for i in range(len(f)):
                    func(f[i], o[i], **options)

            return run

        def table(name: str, a=(forecast, observed), **options: object) -> Callable[[], object]:
            config = ScoreConfig(families=(name,), **options)  # built once, outside the timing
            return lambda: score_maps(*a, config=config)

        fc_obs = (forecast, observed)
        out += [
            Case(
                "fss",
                "t=1.0, w=5",
                n,
                lambda a=fc_obs: fss(*a, **small),
                each(ref["fss"], thresholds=(1.0,), windows=(5,)),
            ),
            Case(
                "fss",
                "t=1.0, w=1,3,5,9,15",
                n,
                lambda a=fc_obs: fss(*a, thresholds=(1.0,)),
                each(ref["fss"], thresholds=(1.0,), windows=default.windows),
            ),
            Case(
                "fss",
                "defaults (5 t x 5 w)",
                n,
                lambda a=fc_obs: fss(*a),
                each(ref["fss"], thresholds=default.thresholds, windows=default.windows),
            ),
            Case(
                "categorical_scores",
                "t=1.0",
                n,
                lambda a=fc_obs: categorical_scores(*a, thresholds=(1.0,)),
                each(ref["categorical"], thresholds=(1.0,)),
            ),
            Case(
                "categorical_scores",
                "defaults (5 t)",
                n,
                lambda a=fc_obs: categorical_scores(*a),
                each(ref["categorical"], thresholds=default.thresholds),
            ),
            Case(
                "continuous_scores",
                "defaults",
                n,
                lambda a=fc_obs: continuous_scores(*a),
                each(ref["continuous"]),
            ),
            Case("sal", "defaults", n, lambda a=fc_obs: sal(*a), each(ref["sal"])),
            Case(
                "ContingencyAccumulator",
                "t=1.0, accumulate + compute",
                n,
                lambda a=fc_obs: ContingencyAccumulator((1.0,)).accumulate(*a).compute(),
                lambda f=f, o=o: ref["accumulate"](f, o, (1.0,)),
            ),
            Case(
                "score_maps",
                "fss t=1.0, w=5",
                n,
                table("fss", **small),
                each(ref["fss"], thresholds=(1.0,), windows=(5,)),
            ),
            Case(
                "score_maps",
                "categorical t=1.0",
                n,
                table("categorical", thresholds=(1.0,)),
                each(ref["categorical"], thresholds=(1.0,)),
            ),
            Case(
                "score_maps",
                "continuous",
                n,
                table("continuous"),
                each(ref["continuous"]),
            ),
            Case(
                "score_maps",
                "sal",
                n,
                table("sal"),
                each(ref["sal"]),
            ),
        ]
    return out


CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
"""``cpu``: CPU time of this process, which other jobs on a loaded machine inflate far less
than the wall time (both sides run on one thread)."""


def time_cases(
    todo: list[Case], repeats: int, budget_s: float, clock: Callable[[], float]
) -> list[tuple[Case, float, float]]:
    """Best time (s) on ``clock`` of each side of each case, the two sides run alternately.

    Each case runs ``repeats`` times on each side, or fewer (at least 3) once it has taken
    ``budget_s`` seconds of wall time.
    """
    results = []
    for case in todo:
        case.ours(), case.theirs()  # warm-up: imports, caches
        best = [np.inf, np.inf]
        began = time.perf_counter()
        for i in range(repeats):
            for side, func in enumerate((case.ours, case.theirs)):
                start = clock()
                func()
                best[side] = min(best[side], clock() - start)
            spent = time.perf_counter() - began
            if i >= 2 and spent > budget_s:
                break
        results.append((case, best[0], best[1]))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 1 with ``--check`` if a call is slower than pysteps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=48, help="maps of the batch (default 48)")
    parser.add_argument("--shape", type=int, nargs=2, default=(72, 104), metavar=("NY", "NX"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=30, help="best of N (default 30)")
    parser.add_argument(
        "--budget", type=float, default=2.0, help="seconds per case after 3 repeats (default 2)"
    )
    parser.add_argument(
        "--clock", choices=tuple(CLOCKS), default="cpu", help="cpu (default) or wall time"
    )
    parser.add_argument("--only", default="", help="only the calls whose name contains this")
    parser.add_argument("--check", action="store_true", help="exit 1 if a call is slower")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    fc, obs = rain_map_pairs(args.maps, tuple(args.shape), seed=args.seed)
    sizes = tuple(sorted({1, args.maps}))
    print(
        f"maps of {fc.shape[1]} x {fc.shape[2]} cells, seed {args.seed}, wet fraction "
        f"{np.mean(obs >= 0.1):.2f}; {os.cpu_count()} CPUs, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {platform.processor() or 'cpu'}; "
        f"{args.clock} time, best of {args.repeats} (interleaved with pysteps, at most "
        f"{args.budget:g} s a case)"
    )
    print(f"load average (1, 5, 15 min) before: {load_average()}\n")
    todo = [case for case in cases(fc, obs, sizes) if args.only in case.call]
    results = time_cases(todo, args.repeats, args.budget, CLOCKS[args.clock])

    print(report(results, sizes))
    print(f"\nload average (1, 5, 15 min) after: {load_average()}")
    slower = [case for case, ours, theirs in results if ours > theirs]
    return 1 if args.check and slower else 0


def report(results: list[tuple[Case, float, float]], sizes: tuple[int, ...]) -> str:
    """The timings, the ratios per call and size, and the verdict against the goal.

    The goal (issue 11): no public call slower than pysteps on the same work, on one map
    and on a batch, i.e. every ratio ``rainscore / pysteps <= 1``.
    """
    lines = [
        f"{'call':<24}{'configuration':<30}{'maps':>5}{'rainscore ms':>14}"
        f"{'pysteps ms':>12}{'ratio':>8}"
    ]
    ratios: dict[tuple[str, str], dict[int, float]] = {}
    for case, ours, theirs in results:
        ratio = ours / theirs
        ratios.setdefault((case.call, case.config), {})[case.n_maps] = ratio
        flag = "  SLOWER" if ratio > 1.0 else ""
        lines.append(
            f"{case.call:<24}{case.config:<30}{case.n_maps:>5}{1e3 * ours:>14.3f}"
            f"{1e3 * theirs:>12.3f}{ratio:>8.2f}{flag}"
        )
    lines += ["", "ratio rainscore / pysteps by call and number of maps (<= 1: not slower)"]
    lines.append(f"  {'call, configuration':<54}" + "".join(f"{n:>8}" for n in sizes))
    for (call, config), by_size in ratios.items():
        cells = "".join(f"{by_size[n]:>8.2f}" if n in by_size else f"{'-':>8}" for n in sizes)
        lines.append(f"  {call + ', ' + config:<54}{cells}")
    slower = [(case, ours / theirs) for case, ours, theirs in results if ours > theirs]
    goal = "no public score call slower than pysteps (every ratio <= 1)"
    if slower:
        worst = max(ratio for _, ratio in slower)
        lines.append(
            f"\nFAIL: {goal}: {len(slower)} of {len(results)} calls slower, worst {worst:.2f}"
        )
    else:
        lines.append(f"\nPASS: {goal}: all {len(results)} calls")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
