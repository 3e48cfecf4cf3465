"""Continuous scores of a rain-rate forecast: errors, correlations and the Kling-Gupta efficiency.

Every score is computed twice: on all valid pixels and on *wet* pixels only (valid and
**either** field ``>= wet_threshold``; suffix ``_wet``). Vectorised over maps with numpy: no
loop over time.

References:
    Jolliffe, I. T. and Stephenson, D. B. (2012). *Forecast Verification: A Practitioner's
    Guide in Atmospheric Science*, 2nd ed., Wiley, ch. 5 (ME, MAE, RMSE, correlations).

    Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009). Decomposition of the
    mean squared error and NSE performance criteria: implications for improving hydrological
    modelling. *J. Hydrol.* 377, 80-91, doi:10.1016/j.jhydrol.2009.08.003 (KGE).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr

from rainscore.scores.pairing import SPATIAL_DIMS, pair_fields
from rainscore.scores.wetness import dryness, wet_pixels

__all__ = ["CONTINUOUS_SCORES", "continuous_scores"]

CONTINUOUS_SCORES: dict[str, dict[str, str]] = {
    "me": {"long_name": "mean error (forecast - obs)", "units": "mm/h"},
    "rel_bias": {"long_name": "relative bias sum(forecast - obs) / sum(obs)", "units": "1"},
    "mae": {"long_name": "mean absolute error", "units": "mm/h"},
    "rmse": {"long_name": "root mean squared error", "units": "mm/h"},
    "pearson": {"long_name": "Pearson correlation coefficient", "units": "1"},
    "spearman": {"long_name": "Spearman rank correlation coefficient", "units": "1"},
    "kge": {"long_name": "Kling-Gupta efficiency (Gupta et al. 2009)", "units": "1"},
}
"""Names and attributes of the continuous scores (each also exists with suffix ``_wet``)."""

_RATIO_SCORES = ("rel_bias", "pearson", "spearman", "kge")


def _is_constant(x: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """True for rows whose selected values are all equal (or that select nothing)."""
    hi = np.where(sel, x, -np.inf).max(axis=1)
    lo = np.where(sel, x, np.inf).min(axis=1)
    return ~(hi > lo)


def _moments(
    f: np.ndarray, o: np.ndarray, sel: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Means, population variances and covariance of the selected pixels of each row."""
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f = np.where(sel, f, 0.0).sum(axis=1) / n
        mean_o = np.where(sel, o, 0.0).sum(axis=1) / n
        df = np.where(sel, f - mean_f[:, None], 0.0)
        do = np.where(sel, o - mean_o[:, None], 0.0)
        var_f = np.einsum("ij,ij->i", df, df) / n
        var_o = np.einsum("ij,ij->i", do, do) / n
        cov = np.einsum("ij,ij->i", df, do) / n
    return mean_f, mean_o, var_f, var_o, cov


def _pearson(
    f: np.ndarray,
    o: np.ndarray,
    sel: np.ndarray,
    var_f: np.ndarray,
    var_o: np.ndarray,
    cov: np.ndarray,
) -> np.ndarray:
    """Pearson correlation from the moments; NaN where either field is constant."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.clip(cov / np.sqrt(var_f * var_o), -1.0, 1.0)
    constant = _is_constant(f, sel) | _is_constant(o, sel)
    return np.where(constant, np.nan, r)


def _rank_order(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row, the indices that sort the valid positive values, truncated to the longest run.

    Rain fields are mostly zeros: sorting only the positive values (the zeros form one tie
    group, ranked apart) and keeping only the columns that hold a positive value in some row
    is several times faster than ranking every pixel.
    """
    positive = valid & (x > 0.0)
    longest = int(np.count_nonzero(positive, axis=1).max(initial=0))
    return np.argsort(np.where(positive, x, np.inf), axis=1)[:, :longest]


def _average_ranks(x: np.ndarray, order: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """1-based ranks of ``x`` among the selected pixels of each row, ties averaged.

    Args:
        x: ``(n, p)`` non-negative values.
        order: :func:`_rank_order` of ``x`` for a validity mask that contains ``sel``.
        sel: ``(n, p)`` selected pixels.

    Returns:
        ``(n, p)`` ranks; values at unselected pixels are meaningless.
    """
    n, p = x.shape
    m = order.shape[1]
    zero = sel & (x == 0.0)
    n_zero = np.count_nonzero(zero, axis=1)
    zero_rank = ((n_zero + 1) / 2.0)[:, None]
    if m == 0:
        return np.where(zero, zero_rank, 0.0)
    flat = (order + (np.arange(n) * p)[:, None]).ravel()
    values = x.ravel()[flat]
    chosen = (sel & (x > 0.0)).ravel()[flat]
    # Ordinal rank among the selected positive values of the row, in sorted order.
    ordinal = np.cumsum(chosen.reshape(n, m), axis=1).ravel()
    tied = np.zeros(n * m, dtype=bool)
    np.equal(values[1:], values[:-1], out=tied[1:])
    tied[::m] = False
    tied &= values > 0.0
    if tied.any():
        # Average ordinal rank of the selected members of each run of equal values.
        starts = np.flatnonzero(~tied)
        group = np.cumsum(~tied) - 1
        size = np.add.reduceat(chosen.astype(np.int64), starts)
        before = (ordinal - chosen)[starts]
        ranked = (before + (size + 1) / 2.0)[group]
    else:
        ranked = ordinal.astype(np.float64)
    ranks = np.zeros(n * p)
    ranks[flat] = (ranked.reshape(n, m) + n_zero[:, None]).ravel()
    return np.where(zero, zero_rank, ranks.reshape(n, p))


def _scores_on(
    f: np.ndarray, o: np.ndarray, sel: np.ndarray, rank_f: np.ndarray, rank_o: np.ndarray
) -> dict[str, np.ndarray]:
    """All continuous scores over the selected pixels of each row."""
    n = np.count_nonzero(sel, axis=1).astype(np.float64)
    n[n == 0] = np.nan
    mean_f, mean_o, var_f, var_o, cov = _moments(f, o, sel, n)
    pearson = _pearson(f, o, sel, var_f, var_o, cov)
    *_, rvar_f, rvar_o, rcov = _moments(rank_f, rank_o, sel, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        err = np.where(sel, f - o, 0.0)
        sum_err = err.sum(axis=1)
        sum_o = mean_o * n
        alpha = np.sqrt(var_f / var_o)
        beta = mean_f / mean_o
        kge = 1.0 - np.sqrt((pearson - 1.0) ** 2 + (alpha - 1.0) ** 2 + (beta - 1.0) ** 2)
        return {
            "me": sum_err / n,
            "rel_bias": np.where(sum_o > 0.0, sum_err / sum_o, np.nan),
            "mae": np.abs(err).sum(axis=1) / n,
            "rmse": np.sqrt(np.einsum("ij,ij->i", err, err) / n),
            "pearson": pearson,
            "spearman": _pearson(rank_f, rank_o, sel, rvar_f, rvar_o, rcov),
            "kge": np.where((mean_o > 0.0) & (var_o > 0.0), kge, np.nan),
        }


def continuous_arrays(
    forecast: np.ndarray, obs: np.ndarray, valid: np.ndarray, *, wet_threshold: float
) -> dict[str, np.ndarray]:
    """Continuous scores of ``(n_maps, n_pixels)`` arrays; see :func:`continuous_scores`.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.

    Returns:
        Arrays of shape ``(n_maps,)`` keyed by score name (``me``, ..., ``me_wet``, ...,
        ``n_valid``, ``n_wet``, ``both_dry``).
    """
    wet = wet_pixels(forecast, obs, valid, wet_threshold)
    order_f = _rank_order(forecast, valid)
    order_o = _rank_order(obs, valid)
    out: dict[str, np.ndarray] = {}
    for suffix, sel in (("", valid), ("_wet", wet)):
        rank_f = _average_ranks(forecast, order_f, sel)
        rank_o = _average_ranks(obs, order_o, sel)
        for name, values in _scores_on(forecast, obs, sel, rank_f, rank_o).items():
            out[name + suffix] = values
    dry = dryness(forecast, obs, valid, wet_threshold=wet_threshold)
    for name in _RATIO_SCORES:
        out[name] = np.where(dry.both_dry, np.nan, out[name])
    out["n_valid"] = dry.n_valid
    out["n_wet"] = dry.n_wet
    out["both_dry"] = dry.both_dry
    return out


def continuous_scores(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    wet_threshold: float = 0.1,
    reduce_dims: Sequence[Hashable] = SPATIAL_DIMS,
) -> xr.Dataset:
    """Mean error, relative bias, MAE, RMSE, Pearson, Spearman and KGE, on all and wet pixels.

    Over the valid pixels ``i`` (mask True, both fields finite) of each map, with forecast
    ``f`` and observation ``o``:

    - ``me`` = mean(f - o); ``mae`` = mean|f - o|; ``rmse`` = sqrt(mean (f - o)^2);
    - ``rel_bias`` = sum(f - o) / sum(o) (NaN when sum(o) = 0);
    - ``pearson``: linear correlation; ``spearman``: Pearson correlation of the ranks, ties
      given their average rank (NaN when either field is constant);
    - ``kge``: the Kling-Gupta efficiency in its original form (Gupta et al. 2009),
      ``1 - sqrt((r - 1)^2 + (alpha - 1)^2 + (beta - 1)^2)`` with r the Pearson correlation,
      ``alpha = sigma_f / sigma_o`` (population standard deviations) and
      ``beta = mean_f / mean_o`` (not the 2012 variant with the ratio of the coefficients
      of variation); NaN when ``mean_o`` or ``sigma_o`` is 0.

    The same scores with suffix ``_wet`` use only the wet pixels: valid and **either** field
    ``>= wet_threshold`` (the union of the two rain areas, so that misses and false alarms
    both count). Where both fields are dry (no wet pixel) the ratio scores (``rel_bias``,
    ``pearson``, ``spearman``, ``kge``) are NaN and ``both_dry`` is True; ``me``, ``mae`` and
    ``rmse`` stay defined (they are small, not undefined).

    Args:
        forecast: Forecast rain rates (mm/h), e.g. IMERG; NaN = missing.
        obs: Observed rain rates (mm/h), e.g. radar on the same grid; NaN = missing.
        mask: Optional boolean mask (True = scoreable), dims a subset of the fields' dims.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        reduce_dims: Dimensions to reduce over; the others (usually ``time``) are kept.

    Returns:
        Dataset over the kept dimensions with ``me``, ``rel_bias``, ``mae``, ``rmse``,
        ``pearson``, ``spearman``, ``kge``, the same with suffix ``_wet``, ``n_valid``,
        ``n_wet`` and ``both_dry``.

    Raises:
        TypeError: Inputs are not DataArrays, or the mask is not boolean.
        ValueError: Dims, coordinates or units do not match, or a rain rate is negative.

    References:
        Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009), J. Hydrol. 377,
        80-91, doi:10.1016/j.jhydrol.2009.08.003.
    """
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=reduce_dims)
    arrays = pair.apply(continuous_arrays, flat=True, wet_threshold=wet_threshold)
    attrs = {name + sfx: a for name, a in CONTINUOUS_SCORES.items() for sfx in ("", "_wet")}
    attrs["n_valid"] = {"long_name": "number of valid pixels", "units": "1"}
    attrs["n_wet"] = {"long_name": f"number of pixels >= {wet_threshold} mm/h in either field"}
    attrs["both_dry"] = {"long_name": "no pixel >= wet_threshold in either field"}
    data = {k: pair.to_dataarray(v, attrs=attrs[k]) for k, v in arrays.items()}
    return xr.Dataset(data, attrs={"wet_threshold": wet_threshold, "wet_threshold_units": "mm/h"})
