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
loaded machine slow both sides, and only the ratios of one run compare. pysteps (and
scikit-image, which its SAL needs) is a benchmark/test-only dependency.
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
import xarray as xr  # noqa: E402

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

CATEGORICAL = ["POD", "FAR", "CSI", "ETS", "HSS", "BIAS"]
"""The pysteps names of the six categorical scores ``categorical_scores`` computes."""

CONTINUOUS = ["ME", "MAE", "RMSE", "corr_p", "corr_s"]
"""The pysteps continuous scores; relative bias and KGE are computed from the same pixels."""


class Case(NamedTuple):
    """One public call on one configuration, and pysteps doing the same work map by map."""

    call: str
    config: str
    n_maps: int
    ours: Callable[[], object]
    theirs: Callable[[], object]


def as_maps(values: np.ndarray) -> xr.DataArray:
    """``(n, ny, nx)`` rain rates as a labelled (time, lat, lon) DataArray in mm/h."""
    n, ny, nx = values.shape
    return xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={
            "time": np.datetime64("2024-06-01T00:00") + np.arange(n) * np.timedelta64(30, "m"),
            "lat": np.round(42.85 + 0.1 * np.arange(ny), 6),
            "lon": np.round(-2.75 + 0.1 * np.arange(nx), 6),
        },
        attrs={"units": "mm/h"},
    )


def pysteps_calls(wet_threshold: float = 0.1) -> dict[str, Callable[..., object]]:
    """pysteps doing the work of each family on one map: ``func(f, o, **options)``."""
    try:
        import skimage  # noqa: F401  (pysteps' SAL needs it)
    except ImportError as err:
        raise SystemExit("pysteps' SAL needs scikit-image: pip install scikit-image") from err
    from pysteps import verification
    from pysteps.verification.salscores import sal as pysteps_sal

    def continuous(f: np.ndarray, o: np.ndarray) -> None:
        # All valid pixels and the wet ones ("single" conditioning), as continuous_scores.
        for conditioning in (None, "single"):
            out = verification.det_cont_fct(
                f, o, CONTINUOUS, conditioning=conditioning, thr=wet_threshold
            )
            if conditioning is None:
                ff, oo = f, o
            else:
                keep = (f >= wet_threshold) | (o >= wet_threshold)
                ff, oo = f[keep], o[keep]
            (ff - oo).sum() / oo.sum()  # relative bias
            alpha, beta = np.std(ff) / np.std(oo), np.mean(ff) / np.mean(oo)
            1 - np.sqrt((out["corr_p"] - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2)  # KGE

    def categorical(f: np.ndarray, o: np.ndarray, thresholds: tuple[float, ...]) -> None:
        for t in thresholds:
            verification.det_cat_fct(f, o, t, scores=CATEGORICAL)

    def neighbourhood(
        f: np.ndarray, o: np.ndarray, thresholds: tuple[float, ...], windows: tuple[int, ...]
    ) -> None:
        for t in thresholds:
            for w in windows:
                verification.fss(f, o, t, w)

    def objects(f: np.ndarray, o: np.ndarray) -> None:
        pysteps_sal(f, o)

    def accumulate(
        fc: np.ndarray, obs: np.ndarray, thresholds: tuple[float, ...]
    ) -> dict[str, float]:
        out = {}
        for t in thresholds:
            table = verification.det_cat_fct_init(t)
            for f, o in zip(fc, obs, strict=True):
                verification.det_cat_fct_accum(table, f, o)
            out.update(verification.det_cat_fct_compute(table, scores=CATEGORICAL))
        return out

    return {
        "continuous": continuous,
        "categorical": categorical,
        "fss": neighbourhood,
        "sal": objects,
        "accumulate": accumulate,
    }


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


def load_average() -> str:
    """The machine's load averages: other jobs sharing the cores slow every timing."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


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

    print(
        f"{'call':<24}{'configuration':<30}{'maps':>5}{'rainscore ms':>14}"
        f"{'pysteps ms':>12}{'ratio':>8}"
    )
    slower = []
    for case, ours, theirs in results:
        ratio = ours / theirs
        flag = "  SLOWER" if ratio > 1.0 else ""
        if flag:
            slower.append(case)
        print(
            f"{case.call:<24}{case.config:<30}{case.n_maps:>5}{1e3 * ours:>14.3f}"
            f"{1e3 * theirs:>12.3f}{ratio:>8.2f}{flag}"
        )
    print(f"\nload average (1, 5, 15 min) after: {load_average()}")
    if slower:
        print(f"{len(slower)} of {len(results)} calls slower than pysteps (ratio > 1)")
    else:
        print(f"all {len(results)} calls at least as fast as pysteps (every ratio <= 1)")
    return 1 if args.check and slower else 0


if __name__ == "__main__":
    raise SystemExit(main())
