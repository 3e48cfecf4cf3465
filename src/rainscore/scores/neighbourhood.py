"""Fractions skill score (FSS) at thresholds x windows, over valid pixels only (MET style).

For a threshold ``t`` and a square window of ``w x w`` cells (``w`` odd), the *fraction* at a
valid pixel is the number of events (rain rate ``>= t``) divided by the number of **valid**
pixels in the window centred on it, for each field. Invalid pixels (masked or NaN) and
pixels beyond the map border count in neither the numerator nor the denominator: windows are
**truncated** at the border and at missing data, as in MET's neighbourhood methods, instead
of being zero-padded (pysteps) which biases fractions low near edges and holes. With the
fractions ``P_f`` and ``P_o`` at the valid pixels ``i`` of a map (Roberts and Lean 2008):

    FSS = 1 - sum_i (P_f - P_o)^2 / (sum_i P_f^2 + sum_i P_o^2)

NaN when neither field has an event. The useful-skill line is ``UFSS = 0.5 + f_o / 2``
where ``f_o`` (``base_rate``) is the observed event fraction over the valid pixels, and the
``skilful_scale`` is the smallest window whose FSS is ``>= UFSS`` (NaN if none).

Fractions come from summed-area tables (cumulative sums of the zero-padded event and
validity arrays): O(1) per pixel per window, vectorised over maps.

References:
    Roberts, N. M. and Lean, H. W. (2008). Scale-selective verification of rainfall
    accumulations from high-resolution forecasts of convective events. *Mon. Wea. Rev.* 136,
    78-97, doi:10.1175/2007MWR2123.1.

    Mittermaier, M., Roberts, N. and Thompson, S. A. (2013). A long-term assessment of
    precipitation forecast skill using the Fractions Skill Score. *Meteorol. Appl.* 20,
    176-186, doi:10.1002/met.296.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from rainscore.scores.categorical import check_thresholds
from rainscore.scores.pairing import SPATIAL_DIMS, PairedFields, pair_fields
from rainscore.scores.wetness import dryness

__all__ = ["check_windows", "fss", "neighbourhood_fractions"]


def check_windows(windows: Sequence[int]) -> np.ndarray:
    """Return windows as an int64 array; raise unless positive, odd and strictly increasing.

    Args:
        windows: Window sizes in grid cells.

    Returns:
        The windows as a 1-D int64 array.

    Raises:
        ValueError: Empty, not integers, even, non-positive, or not strictly increasing.
    """
    values = np.atleast_1d(np.asarray(windows))
    if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"windows must be a non-empty 1-D list of integers, got {windows}")
    if np.any(values < 1) or np.any(values % 2 == 0):
        raise ValueError(f"windows must be positive odd numbers of cells, got {list(values)}")
    if np.any(np.diff(values) <= 0):
        raise ValueError(f"windows must be strictly increasing, got {list(values)}")
    return values.astype(np.int64)


def _summed_area_tables(stack: np.ndarray, pad: int) -> np.ndarray:
    """Summed-area tables of a ``(..., ny, nx)`` stack of 0/1 fields, zero-padded by ``pad``.

    float32 holds the integer sums exactly (a 72 x 104 map sums to at most 7488 < 2**24) at
    half the memory traffic of float64. Row prefix sums run as a loop of vectorised row
    additions, much faster than ``numpy.cumsum`` along a non-contiguous axis.
    """
    *lead, ny, nx = stack.shape
    table = np.zeros((*lead, ny + 2 * pad + 1, nx + 2 * pad + 1), dtype=np.float32)
    table[..., pad + 1 : pad + 1 + ny, pad + 1 : pad + 1 + nx] = stack
    for row in range(1, table.shape[-2]):
        table[..., row, :] += table[..., row - 1, :]
    np.cumsum(table, axis=-1, out=table)
    return table


def _box_sums(table: np.ndarray, half: int, pad: int, ny: int, nx: int) -> np.ndarray:
    """Sum of the ``(2 half + 1)^2`` window around each pixel, as float64."""
    lo, hi = pad - half, pad + half + 1
    box = table[..., hi : hi + ny, hi : hi + nx] - table[..., lo : lo + ny, hi : hi + nx]
    box -= table[..., hi : hi + ny, lo : lo + nx]
    box += table[..., lo : lo + ny, lo : lo + nx]
    return box.astype(np.float64)


def neighbourhood_fractions(
    field: np.ndarray, valid: np.ndarray, *, threshold: float, window: int
) -> np.ndarray:
    """Event fraction in the ``window × window`` neighbourhood of every pixel.

    The fraction of pixels ``>= threshold`` among the **valid** pixels of the window centred
    on each pixel, the window truncated at the map border and at invalid pixels — the
    fractions the FSS compares (module docstring). NaN at invalid pixels.

    Args:
        field: Rain rates ``(n, ny, nx)`` (or ``(ny, nx)``), mm/h.
        valid: Boolean validity of each pixel, same shape.
        threshold: Event threshold (mm/h).
        window: Odd window size (cells).

    Returns:
        The fractions, same shape as ``field``.
    """
    win = int(check_windows([window])[0])
    field = np.asarray(field, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    squeeze = field.ndim == 2
    if squeeze:
        field, valid = field[None], valid[None]
    _, ny, nx = field.shape
    pad = win // 2
    events = ((np.nan_to_num(field) >= threshold) & valid).astype(np.float64)
    n_events = _box_sums(_summed_area_tables(events, pad), pad, pad, ny, nx)
    n_valid = _box_sums(_summed_area_tables(valid.astype(np.float64), pad), pad, pad, ny, nx)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(valid & (n_valid > 0), n_events / n_valid, np.nan)
    return fractions[0] if squeeze else fractions


_MAPS_PER_BLOCK = 4
"""Maps whose summed-area tables are built together: small enough to stay in cache (the
tables of 4 maps x 11 fields take ~2 MB); larger blocks are several times slower."""


def fss_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    thresholds: np.ndarray,
    windows: np.ndarray,
    wet_threshold: float,
    min_wet_fraction: float,
) -> dict[str, np.ndarray]:
    """FSS of ``(n_maps, ny, nx)`` arrays; see :func:`fss`.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        thresholds: Event thresholds (mm/h), strictly increasing.
        windows: Odd window sizes (cells), strictly increasing.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        min_wet_fraction: Minimum wet fraction for a map's scores to count.

    Returns:
        ``fss`` ``(n, K, W)``; ``fss_uniform``, ``base_rate``, ``skilful_scale`` ``(n, K)``;
        ``n_valid``, ``wet_fraction``, ``both_dry``, ``too_dry`` ``(n,)``.
    """
    blocks = [
        _fss_block(
            forecast[i : i + _MAPS_PER_BLOCK],
            obs[i : i + _MAPS_PER_BLOCK],
            valid[i : i + _MAPS_PER_BLOCK],
            thresholds=thresholds,
            windows=windows,
            wet_threshold=wet_threshold,
            min_wet_fraction=min_wet_fraction,
        )
        for i in range(0, max(forecast.shape[0], 1), _MAPS_PER_BLOCK)
    ]
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


def _fss_block(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    thresholds: np.ndarray,
    windows: np.ndarray,
    wet_threshold: float,
    min_wet_fraction: float,
) -> dict[str, np.ndarray]:
    """:func:`fss_arrays` for one block of maps."""
    n, ny, nx = forecast.shape
    n_thr = thresholds.size
    pad = int(windows.max()) // 2
    dry = dryness(
        forecast, obs, valid, wet_threshold=wet_threshold, min_wet_fraction=min_wet_fraction
    )
    # One stack: forecast events per threshold, observed events per threshold, validity.
    stack = np.empty((2 * n_thr + 1, n, ny, nx), dtype=bool)
    for k, threshold in enumerate(thresholds):
        np.logical_and(forecast >= threshold, valid, out=stack[k])
        np.logical_and(obs >= threshold, valid, out=stack[n_thr + k])
    stack[2 * n_thr] = valid
    events = stack[: 2 * n_thr].reshape(2, n_thr, n, -1)
    n_f = np.count_nonzero(events[0], axis=-1).T.astype(np.float64)
    n_o = np.count_nonzero(events[1], axis=-1).T.astype(np.float64)
    hits = np.count_nonzero(events[0] & events[1], axis=-1).T.astype(np.float64)
    table = _summed_area_tables(stack, pad) if windows.max() > 1 else None

    score = np.full((n, n_thr, windows.size), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        base_rate = n_o / dry.n_valid[:, None]
        for j, w in enumerate(windows):
            if w == 1:
                # Fractions are the 0/1 events: sum P_f P_o = hits, sum P^2 = event counts.
                sum_fo, sum_ff, sum_oo = hits, n_f, n_o
            else:
                box = _box_sums(table, int(w) // 2, pad, ny, nx)
                inverse = np.divide(1.0, box[-1], out=np.zeros_like(box[-1]), where=valid)
                box = (box[:-1] * inverse).reshape(2, n_thr, n, -1)
                sum_fo = np.einsum("knp,knp->nk", box[0], box[1])
                sum_ff = np.einsum("knp,knp->nk", box[0], box[0])
                sum_oo = np.einsum("knp,knp->nk", box[1], box[1])
            denominator = sum_ff + sum_oo
            score[:, :, j] = np.where(denominator > 0, 2.0 * sum_fo / denominator, np.nan)

    score[~dry.scored] = np.nan
    uniform = 0.5 + base_rate / 2.0
    skilful = score >= uniform[:, :, None]
    first = np.argmax(skilful, axis=2)
    skilful_scale = np.where(skilful.any(axis=2), windows[first].astype(np.float64), np.nan)
    return {
        "fss": score,
        "fss_uniform": uniform,
        "base_rate": base_rate,
        "skilful_scale": skilful_scale,
        "n_valid": dry.n_valid,
        "wet_fraction": dry.wet_fraction,
        "both_dry": dry.both_dry,
        "too_dry": dry.too_dry,
    }


def fss(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    thresholds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    windows: Sequence[int] = (1, 3, 5, 9, 15),
    mask: xr.DataArray | None = None,
    wet_threshold: float = 0.1,
    min_wet_fraction: float = 0.01,
) -> xr.Dataset:
    """Fractions skill score per map, threshold and window, with UFSS and the skilful scale.

    Fractions are taken over **valid** pixels only: a window's fraction is its number of
    events (rain rate ``>= threshold``) divided by its number of valid pixels, windows being
    truncated at the map border and at masked or missing pixels (MET convention); only valid
    pixels are summed in the score. See the module docstring for the formulas. Scores are NaN
    for maps that are both dry or too dry (``wet_fraction < min_wet_fraction``), and where
    neither field has an event at the threshold.

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(..., lat, lon)``; NaN = missing.
        obs: Observed rain rates (mm/h), same dims and coordinates; NaN = missing.
        thresholds: Event thresholds (mm/h), strictly increasing.
        windows: Window sizes in grid cells, odd and strictly increasing.
        mask: Optional boolean mask (True = scoreable).
        wet_threshold: Rain rate (mm/h) from which a pixel is wet (for the dryness flags).
        min_wet_fraction: Minimum fraction of valid pixels that are wet in either field for
            the scores of a map to count.

    Returns:
        Dataset with ``fss`` over ``(*map dims, threshold, window)``; ``fss_uniform`` (UFSS),
        ``base_rate`` (f_o) and ``skilful_scale`` (cells) over ``(*map dims, threshold)``;
        ``n_valid``, ``wet_fraction``, ``both_dry``, ``too_dry`` over the map dims.

    Raises:
        TypeError: Inputs are not DataArrays, or the mask is not boolean.
        ValueError: Bad thresholds or windows, mismatched inputs, or negative rain rates.

    References:
        Roberts, N. M. and Lean, H. W. (2008), *Mon. Wea. Rev.* 136, 78-97,
        doi:10.1175/2007MWR2123.1.
    """
    thr = check_thresholds(thresholds)
    win = check_windows(windows)
    if not 0.0 <= min_wet_fraction <= 1.0:
        raise ValueError(f"min_wet_fraction must be in [0, 1], got {min_wet_fraction}")
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=SPATIAL_DIMS)
    arrays = pair.apply(
        fss_arrays,
        thresholds=thr,
        windows=win,
        wet_threshold=wet_threshold,
        min_wet_fraction=min_wet_fraction,
    )
    return fss_dataset(arrays, pair, thr, win)


def fss_dataset(
    arrays: dict[str, np.ndarray], pair: PairedFields, thresholds: np.ndarray, windows: np.ndarray
) -> xr.Dataset:
    """Label the output of :func:`fss_arrays` as a Dataset.

    Args:
        arrays: Output of :func:`fss_arrays`.
        pair: The paired fields the arrays were computed from.
        thresholds: Event thresholds (mm/h).
        windows: Window sizes (cells).

    Returns:
        The labelled Dataset (see :func:`fss`).
    """
    coords = {
        "threshold": xr.Variable("threshold", thresholds, {"units": "mm/h"}),
        "window": xr.Variable("window", windows, {"units": "grid cells"}),
    }
    attrs = {
        "fss": {"long_name": "fractions skill score", "units": "1"},
        "fss_uniform": {"long_name": "useful-skill FSS 0.5 + base_rate / 2", "units": "1"},
        "base_rate": {"long_name": "observed event fraction over valid pixels", "units": "1"},
        "skilful_scale": {
            "long_name": "smallest window with fss >= fss_uniform",
            "units": "grid cells",
        },
    }
    data = {}
    for name, values in arrays.items():
        extra = ("threshold", "window")[: values.ndim - 1]
        data[name] = pair.to_dataarray(
            values,
            extra_dims=extra,
            extra_coords={d: coords[d] for d in extra},
            attrs=attrs.get(name),
        )
    return xr.Dataset(
        data,
        attrs={
            "event_definition": "rain rate >= threshold",
            "window_edges": "truncated at the map border and at invalid pixels (MET style)",
        },
    )
