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

LABELLED = "labelled: checks the coordinates and builds a Dataset, which pysteps does not"
"""Why a DataArray call of a function that also takes NumPy fields does more than pysteps."""

TABLE = "a table: every dryness flag and count per map, labelled by time, beside the scores"
"""Why ``score_maps`` does more than pysteps (which returns the scores alone)."""


class Case(NamedTuple):
    """One public call on one configuration, and pysteps doing the same work map by map.

    ``extra`` is empty where both sides do the same work (the issue's goal applies), else
    what our call does on top (the row is printed, and left out of the verdict).
    """

    call: str
    config: str
    fields: str
    n_maps: int
    ours: Callable[[], object]
    theirs: Callable[[], object]
    extra: str = ""


def cases(fc: np.ndarray, obs: np.ndarray, sizes: tuple[int, ...]) -> list[Case]:
    """Every public call on small configurations, on the first ``n`` maps for each size.

    ``fss``, ``categorical_scores`` and ``ContingencyAccumulator`` are timed twice: on NumPy
    fields (one 2-D map or a 3-D stack, as pysteps takes them: the same work) and on
    DataArrays (labelled results: more work). The other calls take DataArrays only.
    """
    ref = pysteps_calls()
    small = {"thresholds": (1.0,), "windows": (5,)}
    default = ScoreConfig()
    out: list[Case] = []
    for n in sizes:
        f, o = fc[:n], obs[:n]
        forecast, observed = as_maps(f), as_maps(o)
        plain = (f[0], o[0]) if n == 1 else (f, o)
        fc_obs = (forecast, observed)

        def each(func: Callable[..., object], f=f, o=o, **options: object) -> Callable[[], None]:
            def run() -> None:
                for i in range(len(f)):
                    func(f[i], o[i], **options)

            return run

        def table(name: str, a=(forecast, observed), **options: object) -> Callable[[], object]:
            config = ScoreConfig(families=(name,), **options)  # built once, outside the timing
            return lambda: score_maps(*a, config=config)

        def both(
            call: str,
            config: str,
            ours: Callable,
            theirs: Callable,
            n=n,
            plain=plain,
            fc_obs=fc_obs,
        ) -> list[Case]:
            """The call on NumPy fields (same work) and on DataArrays (labelled)."""
            return [
                Case(call, config, "numpy", n, lambda: ours(*plain), theirs),
                Case(call, config, "xarray", n, lambda: ours(*fc_obs), theirs, LABELLED),
            ]

        def accumulate(a: object, b: object) -> object:
            table = ContingencyAccumulator((1.0,)).accumulate(a, b)
            return table.compute_arrays() if isinstance(a, np.ndarray) else table.compute()

        fss_one = each(ref["fss"], thresholds=(1.0,), windows=(5,))
        out += [
            *both("fss", "t=1.0, w=5", lambda a, b: fss(a, b, **small), fss_one),
            *both(
                "fss",
                "t=1.0, w=1,3,5,9,15",
                lambda a, b: fss(a, b, thresholds=(1.0,)),
                each(ref["fss"], thresholds=(1.0,), windows=default.windows),
            ),
            *both(
                "fss",
                "defaults (5 t x 5 w)",
                fss,
                each(ref["fss"], thresholds=default.thresholds, windows=default.windows),
            ),
            *both(
                "categorical_scores",
                "t=1.0",
                lambda a, b: categorical_scores(a, b, thresholds=(1.0,)),
                each(ref["categorical"], thresholds=(1.0,)),
            ),
            *both(
                "categorical_scores",
                "defaults (5 t)",
                categorical_scores,
                each(ref["categorical"], thresholds=default.thresholds),
            ),
            Case(
                "continuous_scores",
                "defaults",
                "xarray",
                n,
                lambda a=fc_obs: continuous_scores(*a),
                each(ref["continuous"]),
            ),
            Case("sal", "defaults", "xarray", n, lambda a=fc_obs: sal(*a), each(ref["sal"])),
            *both(
                "ContingencyAccumulator",
                "t=1.0, accumulate + compute",
                accumulate,
                lambda f=f, o=o: ref["accumulate"](f, o, (1.0,)),
            ),
            Case(
                "score_maps", "fss t=1.0, w=5", "xarray", n, table("fss", **small), fss_one, TABLE
            ),
            Case(
                "score_maps",
                "categorical t=1.0",
                "xarray",
                n,
                table("categorical", thresholds=(1.0,)),
                each(ref["categorical"], thresholds=(1.0,)),
                TABLE,
            ),
            Case(
                "score_maps",
                "continuous",
                "xarray",
                n,
                table("continuous"),
                each(ref["continuous"]),
                TABLE,
            ),
            Case("score_maps", "sal", "xarray", n, table("sal"), each(ref["sal"]), TABLE),
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
    slower = [case for case, ours, theirs in results if ours > theirs and not case.extra]
    return 1 if args.check and slower else 0


def _ratio(ours: float, theirs: float) -> float:
    """``ours / theirs`` to the two decimals printed, so that the flags and the verdict
    agree with the table (1.004 prints as 1.00 and is not slower)."""
    return round(ours / theirs, 2)


def report(results: list[tuple[Case, float, float]], sizes: tuple[int, ...]) -> str:
    """The timings, the ratios per call and size, and the verdict against the goal.

    The goal (issue 11): no public call slower than pysteps on the same work, on one map
    and on a batch, i.e. every ratio ``rainscore / pysteps <= 1`` among the rows where both
    sides do the same work. The rows where our call does more (``Case.extra``) are printed
    with the rest, marked ``*``, and listed under the verdict with what they do on top.
    """
    lines = [
        f"{'call':<24}{'configuration':<30}{'fields':<8}{'maps':>5}{'rainscore ms':>14}"
        f"{'pysteps ms':>12}{'ratio':>8}"
    ]
    ratios: dict[tuple[str, str, str], dict[int, float]] = {}
    for case, ours, theirs in results:
        ratio = _ratio(ours, theirs)
        ratios.setdefault((case.call, case.config, case.fields), {})[case.n_maps] = ratio
        flag = "  SLOWER" if ratio > 1.0 else ""
        fields = case.fields + ("*" if case.extra else "")
        lines.append(
            f"{case.call:<24}{case.config:<30}{fields:<8}{case.n_maps:>5}{1e3 * ours:>14.3f}"
            f"{1e3 * theirs:>12.3f}{ratio:>8.2f}{flag}"
        )
    lines += [
        "* more work than pysteps (listed below the verdict)",
        "",
        "ratio rainscore / pysteps by call and number of maps (<= 1: not slower)",
        f"  {'call, configuration, fields':<62}" + "".join(f"{n:>8}" for n in sizes),
    ]
    for (call, config, fields), by_size in ratios.items():
        cells = "".join(f"{by_size[n]:>8.2f}" if n in by_size else f"{'-':>8}" for n in sizes)
        lines.append(f"  {call + ', ' + config + ', ' + fields:<62}{cells}")
    same = [(case, _ratio(ours, theirs)) for case, ours, theirs in results if not case.extra]
    slower = [ratio for _, ratio in same if ratio > 1.0]
    goal = "no public score call slower than pysteps on the same work (every ratio <= 1)"
    if slower:
        lines.append(
            f"\nFAIL: {goal}: {len(slower)} of {len(same)} calls slower, worst {max(slower):.2f}"
        )
    else:
        lines.append(f"\nPASS: {goal}: all {len(same)} calls")
    extra = [(case, _ratio(ours, theirs)) for case, ours, theirs in results if case.extra]
    if extra:
        n_slower = sum(ratio > 1.0 for _, ratio in extra)
        lines.append(
            f"not in the verdict, more work than pysteps: {len(extra)} calls, {n_slower} slower"
        )
        for reason in dict.fromkeys(case.extra for case, _ in extra):
            rows = [
                f"{case.call} {case.config} ({case.n_maps}) {ratio:.2f}"
                for case, ratio in extra
                if case.extra == reason and ratio > 1.0
            ]
            lines.append(f"  {reason}; slower: " + ("; ".join(rows) or "none"))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
