"""What the two score benchmarks share: the labelled maps, and pysteps doing the same work.

``bench_scores.py`` (the full suite of ``score_maps``) and ``bench_score_calls.py`` (each public
call on small configurations) score the same seeded maps with ``rainscore.scores`` and with
``pysteps.verification`` map by map; this module is their one copy of both sides' setup.
Imported by the two scripts (``python benchmarks/<script>.py`` puts this folder on the path).
pysteps (and scikit-image, which its SAL needs) is a benchmark/test-only dependency.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import xarray as xr

CATEGORICAL = ["POD", "FAR", "CSI", "ETS", "HSS", "BIAS"]
"""The pysteps names of the six categorical scores ``categorical_scores`` computes."""

CONTINUOUS = ["ME", "MAE", "RMSE", "corr_p", "corr_s"]
"""The pysteps continuous scores; relative bias and KGE are computed from the same pixels."""


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


def pysteps_calls(
    wet_threshold: float = 0.1, sal_threshold_ratio: float = 1 / 15, sal_quantile: float = 0.95
) -> dict[str, Callable[..., object]]:
    """pysteps doing the work of each family on one map: ``func(f, o, **options)``.

    ``continuous(f, o)``: ``det_cont_fct`` on all pixels and on the wet ones ("single"
    conditioning), plus relative bias and KGE; ``categorical(f, o, thresholds)``:
    ``det_cat_fct`` with the six scores per threshold; ``fss(f, o, thresholds, windows)``;
    ``sal(f, o)``; ``accumulate(fc, obs, thresholds)``: ``det_cat_fct_init/accum/compute``
    over a stack of maps.

    Args:
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        sal_threshold_ratio: SAL's object threshold as a fraction of the quantile.
        sal_quantile: SAL's quantile.

    Returns:
        The functions by family.
    """
    try:
        import skimage  # noqa: F401  (pysteps' SAL needs it)
    except ImportError as err:
        raise SystemExit("pysteps' SAL needs scikit-image: pip install scikit-image") from err
    from pysteps import verification
    from pysteps.verification.salscores import sal as pysteps_sal

    def continuous(f: np.ndarray, o: np.ndarray) -> None:
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
        pysteps_sal(f, o, thr_factor=sal_threshold_ratio, thr_quantile=sal_quantile)

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


def load_average() -> str:
    """The machine's load averages: other jobs sharing the cores slow every timing."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
