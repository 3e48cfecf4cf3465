"""Benchmark: rainscore.scores.score_maps against pysteps.verification, map by map.

Scores the same seeded, realistic rain maps (72 x 104 cells: spatially correlated,
intermittent, lognormal intensities; the forecast a displaced, noisy copy of the
observation) with the full suite of ``score_maps`` and with pysteps called map by map for the
same scores, and prints maps/s per family and overall, and the speed-ups.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_scores.py [--maps 200] [--seed 0]
        [--parallel-maps 2400] [--workers 2] [--two-years]

``--two-years`` scores 35 040 maps in one ``score_maps_parallel`` call (measured, not
extrapolated). ``--parallel-maps N`` also times ``score_maps_parallel`` (time blocks on 1 and on
``--workers`` processes) on N and 2N maps and extrapolates to two years of half-hourly maps,
counting the start-up of the worker processes once.

pysteps (and scikit-image, which its SAL needs) is a benchmark/test-only dependency. The maps'
labels and pysteps' side come from ``score_bench.py``, shared with ``bench_score_calls.py``.
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

import numpy as np  # noqa: E402
from score_bench import as_maps, load_average, pysteps_calls  # noqa: E402

from rainscore.execution import ExecutorConfig  # noqa: E402
from rainscore.scores import (  # noqa: E402
    FAMILIES,
    ScoreConfig,
    score_maps,
    score_maps_parallel,
)
from rainscore.synthetic.map_pairs import rain_map_pairs  # noqa: E402

TWO_YEARS = 35_040  # half-hourly maps


def rain_maps(n_maps: int, seed: int, shape: tuple[int, int] = (72, 104)) -> tuple[np.ndarray, ...]:
    """Seeded forecast/observation pairs ``(n_maps, ny, nx)`` in mm/h (the tests' maps)."""
    return rain_map_pairs(n_maps, shape, seed=seed)


def pysteps_families(config: ScoreConfig) -> dict[str, Callable[[np.ndarray, np.ndarray], None]]:
    """The same scores as ``score_maps``, computed by pysteps for one map."""
    ref = pysteps_calls(config.wet_threshold, config.sal_threshold_ratio, config.sal_quantile)
    return {
        "continuous": ref["continuous"],
        "categorical": lambda f, o: ref["categorical"](f, o, config.thresholds),
        "fss": lambda f, o: ref["fss"](f, o, config.thresholds, config.windows),
        "sal": ref["sal"],
    }


def best_of(repeats: int, func: Callable[[], object]) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=200, help="number of maps (default 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for rainscore")
    parser.add_argument(
        "--parallel-maps", type=int, default=0, help="time the parallel path on N and 2N maps"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--two-years",
        action="store_true",
        help="also score 35 040 maps (2 400 distinct ones, repeated; 4.2 GB) in one call",
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)

    fc, obs = rain_maps(args.maps, args.seed)
    forecast, observed = as_maps(fc), as_maps(obs)
    config = ScoreConfig()
    print(
        f"{args.maps} maps of {fc.shape[1]} x {fc.shape[2]} cells, seed {args.seed}, "
        f"wet fraction {np.mean(obs >= 0.1):.2f}; {os.cpu_count()} CPUs, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, {platform.processor() or 'cpu'}"
    )
    print(f"thresholds {config.thresholds} mm/h, windows {config.windows} cells")
    print(f"load average (1, 5, 15 min) before: {load_average()}\n")

    ours: dict[str, float] = {}
    for family in FAMILIES:
        family_config = ScoreConfig(families=(family,))
        ours[family] = best_of(
            args.repeats, lambda c=family_config: score_maps(forecast, observed, config=c)
        )
    ours["all (score_maps)"] = best_of(
        args.repeats, lambda: score_maps(forecast, observed, config=config)
    )

    theirs: dict[str, float] = {}
    for family, func in pysteps_families(config).items():
        start = time.perf_counter()
        for i in range(args.maps):
            func(fc[i], obs[i])
        theirs[family] = time.perf_counter() - start
    theirs["all (score_maps)"] = sum(theirs.values())

    header = f"{'family':<18}{'rainscore ms/map':>18}{'maps/s':>10}"
    header += f"{'pysteps ms/map':>16}{'maps/s':>10}{'speed-up':>10}"
    print(header)
    for name, seconds in ours.items():
        mine, ref = 1e3 * seconds / args.maps, 1e3 * theirs[name] / args.maps
        print(
            f"{name:<18}{mine:>18.3f}{1e3 / mine:>10.0f}{ref:>16.2f}{1e3 / ref:>10.1f}"
            f"{ref / mine:>9.1f}x"
        )
    per_map = ours["all (score_maps)"] / args.maps
    print(
        f"\ntwo years ({TWO_YEARS} maps): rainscore {TWO_YEARS * per_map:.0f} s on one core, "
        f"pysteps {TWO_YEARS * theirs['all (score_maps)'] / args.maps / 60:.0f} min"
    )
    if args.parallel_maps:
        print()
        parallel_two_years(args.parallel_maps, args.seed + 1, config, workers=(1, args.workers))
    if args.two_years:
        print()
        two_years_direct(args.seed + 1, config, args.workers)
    print(f"\nload average (1, 5, 15 min) after: {load_average()}")


def parallel_two_years(
    n_maps: int, seed: int, config: ScoreConfig, workers: tuple[int, ...]
) -> None:
    """Time ``score_maps_parallel`` on ``n_maps`` and ``2 n_maps`` maps; extrapolate two years.

    Worker processes fork from a fork server that imports the numeric stack once per Python
    process (seconds): the first call pays it ("cold"), later calls do not ("warm"). The
    cost per map comes from two warm calls, ``(T(2N) - T(N)) / N``; two years take about
    ``T_cold(N) + (35040 - N)`` times that, the start-up counted once.
    """
    fc, obs = rain_maps(2 * n_maps, seed)
    forecast, observed = as_maps(fc), as_maps(obs)

    def run(n: int, w: int) -> float:
        start = time.perf_counter()
        score_maps_parallel(
            forecast[:n], observed[:n], config=config, execution=ExecutorConfig(workers=w)
        )
        return time.perf_counter() - start

    for w in workers:
        cold = run(n_maps, w)
        warm = [run(n_maps, w), run(2 * n_maps, w)]
        per_map = (warm[1] - warm[0]) / n_maps
        two_years = cold + (TWO_YEARS - n_maps) * per_map
        print(
            f"score_maps_parallel, {w} process{'es' if w > 1 else ''}: {n_maps} maps in "
            f"{cold:.1f} s cold, {warm[0]:.1f} s warm; {2 * n_maps} in {warm[1]:.1f} s warm "
            f"-> {1e3 * per_map:.2f} ms/map, two years ({TWO_YEARS} maps) {two_years:.0f} s"
        )


def two_years_direct(seed: int, config: ScoreConfig, workers: int) -> None:
    """Score two years of maps in one ``score_maps_parallel`` call, timed from a cold start.

    2 400 distinct maps are repeated to 35 040 (the cost of a map depends on its rain, not on
    its position in time); the in-memory float64 stack is 4.2 GB, pickled block by block to
    the workers, whose start-up is included.
    """
    fc, obs = rain_maps(2400, seed)
    reps = -(-TWO_YEARS // len(fc))
    forecast = as_maps(np.concatenate([fc] * reps)[:TWO_YEARS])
    observed = as_maps(np.concatenate([obs] * reps)[:TWO_YEARS])
    start = time.perf_counter()
    execution = ExecutorConfig(workers=workers)
    table = score_maps_parallel(forecast, observed, config=config, execution=execution)
    elapsed = time.perf_counter() - start
    print(
        f"score_maps_parallel, {workers} processes, two years ({len(table)} maps x "
        f"{table.shape[1]} columns) in one call, cold: {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
