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
from dataclasses import dataclass

import numpy as np
import xarray as xr

from rainscore.scores.pairing import SPATIAL_DIMS, pair_fields
from rainscore.scores.wetness import Dryness, dryness, wet_pixels

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


@dataclass(frozen=True)
class _SortedPositives:
    """The valid positive values of each row of a ``(n, p)`` field, sorted, with their ties.

    Rain fields are mostly zeros: the zeros form one tie group ranked apart, so only the
    positive values need sorting, row by row.

    Attributes:
        index: Flat indices (into the raveled field) of the valid positive values, by row
            and then by increasing value.
        row: The row of each.
        starts: Positions in ``index`` where a run of equal values of one row starts.
        run_length: The length of each run.
        run: For each position in ``index``, the number of its run.
        count: ``(n,)`` number of valid positive values of each row.
    """

    index: np.ndarray
    row: np.ndarray
    starts: np.ndarray
    run_length: np.ndarray
    run: np.ndarray
    count: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, valid: np.ndarray) -> _SortedPositives:
        """Sort the valid positive values of each row of ``x``."""
        n, p = x.shape
        positive = valid & (x > 0.0)
        parts = [np.zeros(0, dtype=np.int64)]
        for i in range(n):
            columns = np.flatnonzero(positive[i])
            parts.append(i * p + columns[np.argsort(x[i, columns])])
        index = np.concatenate(parts)
        row = index // p
        values = x.ravel()[index]
        new_run = np.ones(index.size, dtype=bool)
        np.not_equal(values[1:], values[:-1], out=new_run[1:])
        new_run[1:] |= row[1:] != row[:-1]
        starts = np.flatnonzero(new_run)
        run_length = np.diff(starts, append=index.size)
        run = np.cumsum(new_run) - 1
        return cls(index, row, starts, run_length, run, np.bincount(row, minlength=n))


def _average_ranks(
    sorted_: _SortedPositives, sel: np.ndarray, n_sel: np.ndarray, *, all_valid: bool
) -> tuple[np.ndarray, np.ndarray]:
    """1-based ranks among the selected pixels of each row, ties given their average rank.

    Args:
        sorted_: :class:`_SortedPositives` of the field for a validity mask containing ``sel``.
        sel: ``(n, p)`` selected pixels.
        n_sel: ``(n,)`` number of selected pixels of each row.
        all_valid: ``sel`` is the validity mask itself (every positive value is selected).

    Returns:
        ``(n, p)`` ranks, 0 at the pixels that are not selected; and ``(n,)`` sums of the
        squared ranks of each row. Ranks are multiples of 1/2, so both are exact.
    """
    n = sel.shape[0]
    # Rank of a selected positive value: the selected zeros of its row, the selected values
    # of its row below its run, and the middle of the selected members of its run.
    if all_valid:
        chosen = None
        n_positive = sorted_.count
        before, size = sorted_.starts, sorted_.run_length
    else:
        chosen = sel.ravel()[sorted_.index].astype(np.float64)
        n_positive = np.bincount(sorted_.row, weights=chosen, minlength=n)
        before = (np.cumsum(chosen) - chosen)[sorted_.starts]
        size = np.add.reduceat(chosen, sorted_.starts) if sorted_.starts.size else chosen[:0]
    n_zero = n_sel - n_positive
    zero_rank = (n_zero + 1) / 2.0
    row_base = np.zeros(n)
    row_base[1:] = np.cumsum(n_positive)[:-1]
    middle = before + (size + 1.0) / 2.0 + (n_zero - row_base)[sorted_.row[sorted_.starts]]
    value = middle[sorted_.run]
    if chosen is not None:
        value *= chosen
    ranks = sel * zero_rank[:, None]
    ranks.ravel()[sorted_.index] = value
    squares = n_zero * zero_rank**2 + np.bincount(sorted_.row, weights=value * value, minlength=n)
    return ranks, squares


def _correlation(cov: np.ndarray, var_f: np.ndarray, var_o: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(cov / np.sqrt(var_f * var_o), -1.0, 1.0)


def _scores_on(
    f: np.ndarray,
    o: np.ndarray,
    err: np.ndarray,
    abs_err: np.ndarray,
    sel: np.ndarray,
    sorted_f: _SortedPositives,
    sorted_o: _SortedPositives,
    *,
    all_valid: bool,
) -> dict[str, np.ndarray]:
    """All continuous scores over the selected pixels of each row (``all_valid``: ``sel`` is
    the validity mask)."""
    count = np.count_nonzero(sel, axis=1)
    weight = sel.astype(np.float64)
    n = count.astype(np.float64)
    n[count == 0] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_f = np.vecdot(weight, f) / n
        mean_o = np.vecdot(weight, o) / n
        df = f - mean_f[:, None]
        df *= weight
        do = o - mean_o[:, None]
        do *= weight
        var_f = np.vecdot(df, df) / n
        var_o = np.vecdot(do, do) / n
        cov = np.vecdot(df, do) / n
        weighted_err = err * weight
        sum_err = weighted_err.sum(axis=1)
        sum_o = mean_o * n

        # Spearman: Pearson correlation of the ranks. Ranks are multiples of 1/2 with mean
        # (n + 1) / 2, so their moments are exact whatever the order of summation.
        rank_f, squares_f = _average_ranks(sorted_f, sel, count, all_valid=all_valid)
        rank_o, squares_o = _average_ranks(sorted_o, sel, count, all_valid=all_valid)
        centre = n * ((n + 1.0) / 2.0) ** 2
        rank_var_f = (squares_f - centre) / n
        rank_var_o = (squares_o - centre) / n
        rank_cov = (np.vecdot(rank_f, rank_o) - centre) / n
        # A field is constant over the selection exactly when its ranks are.
        constant = ~(rank_var_f > 0.0) | ~(rank_var_o > 0.0)
        pearson = np.where(constant, np.nan, _correlation(cov, var_f, var_o))
        spearman = np.where(constant, np.nan, _correlation(rank_cov, rank_var_f, rank_var_o))

        alpha = np.sqrt(var_f / var_o)
        beta = mean_f / mean_o
        kge = 1.0 - np.sqrt((pearson - 1.0) ** 2 + (alpha - 1.0) ** 2 + (beta - 1.0) ** 2)
        return {
            "me": sum_err / n,
            "rel_bias": np.where(sum_o > 0.0, sum_err / sum_o, np.nan),
            "mae": np.vecdot(weight, abs_err) / n,
            "rmse": np.sqrt(np.vecdot(weighted_err, err) / n),
            "pearson": pearson,
            "spearman": spearman,
            "kge": np.where((mean_o > 0.0) & (var_o > 0.0), kge, np.nan),
        }


def continuous_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    wet_threshold: float,
    dry: Dryness | None = None,
) -> dict[str, np.ndarray]:
    """Continuous scores of ``(n_maps, n_pixels)`` arrays; see :func:`continuous_scores`.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        dry: The :func:`~rainscore.scores.wetness.dryness` of these arrays, if known.

    Returns:
        Arrays of shape ``(n_maps,)`` keyed by score name (``me``, ..., ``me_wet``, ...,
        ``n_valid``, ``n_wet``, ``both_dry``).
    """
    wet = wet_pixels(forecast, obs, valid, wet_threshold)
    if dry is None:
        dry = dryness(forecast, obs, valid, wet_threshold=wet_threshold)
    sorted_f = _SortedPositives.of(forecast, valid)
    sorted_o = _SortedPositives.of(obs, valid)
    err = forecast - obs
    abs_err = np.abs(err)
    out: dict[str, np.ndarray] = {}
    for suffix, sel in (("", valid), ("_wet", wet)):
        scores = _scores_on(
            forecast, obs, err, abs_err, sel, sorted_f, sorted_o, all_valid=sel is valid
        )
        for name, values in scores.items():
            out[name + suffix] = values
    for name in _RATIO_SCORES:
        out[name] = np.where(dry.no_wet_pixel, np.nan, out[name])
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
    attrs["both_dry"] = {"long_name": "valid pixels, but none >= wet_threshold in either field"}
    return pair.to_dataset(
        arrays,
        attrs=attrs,
        dataset_attrs={"wet_threshold": wet_threshold, "wet_threshold_units": "mm/h"},
    )
