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
validity arrays): O(1) per pixel per window, vectorised over maps. The tables are unsigned
integers kept modulo ``2**8`` (``2**16`` for windows over 15 cells): window counts are
exact because they fit, and one byte per cell makes the tables small and fast.

References:
    Roberts, N. M. and Lean, H. W. (2008). Scale-selective verification of rainfall
    accumulations from high-resolution forecasts of convective events. *Mon. Wea. Rev.* 136,
    78-97, doi:10.1175/2007MWR2123.1.

    Mittermaier, M., Roberts, N. and Thompson, S. A. (2013). A long-term assessment of
    precipitation forecast skill using the Fractions Skill Score. *Meteorol. Appl.* 20,
    176-186, doi:10.1002/met.296.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

import numpy as np
import xarray as xr

from rainscore.scores.categorical import check_thresholds
from rainscore.scores.pairing import (
    SPATIAL_DIMS,
    PairedFields,
    apply_in_chunks,
    are_numpy_fields,
    pair_arrays,
    pair_fields,
    unstack_maps,
)
from rainscore.scores.wetness import Dryness, dryness, pixel_counts

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
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iu":
        raise ValueError(f"windows must be a non-empty 1-D list of integers, got {windows}")
    listed = values.tolist()  # a few numbers: Python compares them faster than numpy
    if any(w < 1 or w % 2 == 0 for w in listed):
        raise ValueError(f"windows must be positive odd numbers of cells, got {listed}")
    if any(a >= b for a, b in itertools.pairwise(listed)):
        raise ValueError(f"windows must be strictly increasing, got {listed}")
    return values.astype(np.int64)


@functools.lru_cache(maxsize=32)
def _count_dtype(max_window: int, ny: int, nx: int) -> np.dtype:
    """The narrowest unsigned integer that holds every window count and row prefix sum.

    Summed-area tables are kept modulo ``2**bits``: a window count is a difference of four
    table entries, exact modulo ``2**bits``, hence exact as long as it fits in ``bits``
    (``w * w`` cells, or the whole map if smaller). The row prefix sums (at most ``nx``) must
    fit too, because they are computed several cells to a 64-bit word.
    """
    largest = max(min(max_window * max_window, ny * nx), nx)
    for dtype in (np.uint8, np.uint16, np.uint32):
        if largest <= np.iinfo(dtype).max:
            return np.dtype(dtype).newbyteorder("<")
    raise ValueError(f"maps of {ny} x {nx} cells are too large for window counts")


def _table_width(nx: int, pad: int, dtype: np.dtype) -> int:
    """Columns of a summed-area table: ``nx + 2 pad + 1``, rounded up to whole 64-bit words."""
    width = nx + 2 * pad + 1
    return width + -width % (8 // dtype.itemsize)


_ROW_LOOP_FIELDS = 64
"""From this many map fields in a block, column prefix sums add row by row (the per-call
cost of ``ny`` additions is amortised); below it, by a doubling scan."""


def _summed_area_table(stack: np.ndarray, pad: int, dtype: np.dtype) -> np.ndarray:
    """Summed-area table of a ``(n_fields, n, ny, nx)`` boolean stack, modulo ``2**bits``.

    The table, ``(n_fields, n, ny + 2 pad + 1, width)``, has ``pad + 1`` zero rows and
    columns before the data and ``pad`` after (``width`` is rounded up to whole 64-bit
    words), so that windows run past the border into cells that hold nothing.

    Row prefix sums are computed ``8 // itemsize`` cells at a time in 64-bit words (SIMD
    within a register): multiplying a word of 0/1 cells by ``0x0101...01`` gives the prefix
    sums inside the word (no carry: each is at most 8), and each word then adds the running
    total of the words before it. Column prefix sums are one vector addition per row, or for
    fewer than ``_ROW_LOOP_FIELDS`` map fields a doubling scan (``log2(ny)`` additions).
    Unsigned integers wrap, so the table is exact modulo ``2**bits`` (see
    :func:`_count_dtype`).
    """
    n_fields, n, ny, nx = stack.shape
    lanes = 8 // dtype.itemsize
    top = pad + 1
    width = _table_width(nx, pad, dtype)
    table = np.zeros((n_fields, n, ny + 2 * pad + 1, width), dtype=dtype)
    table[:, :, top : top + ny, top : top + nx] = stack.view(np.uint8)
    words = table.view("<u8")[:, :, top : top + ny]
    bits = 8 * dtype.itemsize
    ones = np.uint64(sum(1 << (bits * lane) for lane in range(lanes)))
    words *= ones
    word_totals = words >> np.uint64(64 - bits)
    offsets = np.cumsum(word_totals, axis=-1)
    offsets -= word_totals
    offsets *= ones
    words += offsets
    if n_fields * n < _ROW_LOOP_FIELDS:
        # Few fields: a doubling scan, each row adding the one 1, 2, 4, ... rows above it
        # (log2(ny) additions of the whole table) costs less than one addition per row.
        data = table[:, :, top : top + ny]
        shift = 1
        while shift < ny:
            np.add(data[:, :, shift:], data[:, :, :-shift].copy(), out=data[:, :, shift:])
            shift *= 2
    else:
        for row in range(top + 1, top + ny):
            np.add(table[:, :, row], table[:, :, row - 1], out=table[:, :, row])
    table[:, :, top + ny :] = table[:, :, top + ny - 1 : top + ny]
    return table


def _window_counts(
    table: np.ndarray, half: int, pad: int, ny: int, rows: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """Counts of each field of the stack in the ``(2 half + 1)^2`` window around each cell.

    Both differences of the summed-area table are taken on whole contiguous rows: the
    column difference as a shift of the flattened rows, so that the count of data column
    ``x`` lands in column ``x`` of ``out`` and the last ``width - nx`` columns of each row
    hold meaningless values, to be ignored.

    Args:
        table: Output of :func:`_summed_area_table`, ``(n_fields, n, Y, width)``.
        half: Half the window size.
        pad: The ``pad`` of the table.
        ny: Rows of the maps.
        rows: ``(n_fields, n, ny, width)`` work array of the table's dtype.
        out: Array of the same shape and dtype, overwritten.

    Returns:
        ``out``: the counts of data cell ``(y, x)`` at ``[..., y, x]``.
    """
    lo, hi = pad - half, pad + half + 1
    np.subtract(table[:, :, hi : hi + ny], table[:, :, lo : lo + ny], out=rows)
    flat_rows, flat_out = rows.reshape(-1), out.reshape(-1)
    np.subtract(flat_rows[hi:], flat_rows[lo : lo - hi], out=flat_out[: flat_out.size - hi])
    return out


def _sliding_sums(values: np.ndarray, length: int, axis: int) -> np.ndarray:
    """Sums of ``length`` consecutive entries along ``axis`` (that axis shrinks by
    ``length - 1``), from sums over 1, 2, 4, ... entries: ``2 log2(length)`` additions at
    most, whatever the length.
    """

    lead = (slice(None),) * axis  # index of the axes before ``axis``
    size = values.shape[axis] - length + 1
    total: np.ndarray | None = None
    power, span, offset = values, 1, 0
    while True:
        if length & span:
            part = power[(*lead, slice(offset, offset + size))]
            total = part if total is None else total + part
            offset += span
        if 2 * span > length:
            return total
        shorter = power.shape[axis] - span
        power = power[(*lead, slice(0, shorter))] + power[(*lead, slice(span, span + shorter))]
        span *= 2


def _box_counts(stack: np.ndarray, half: int, width: int, dtype: np.dtype) -> np.ndarray:
    """Counts of each field of the stack in the ``(2 half + 1)^2`` window around each cell.

    For a single window: sliding sums down the columns, then along the rows, of the
    zero-padded stack (no summed-area table). The counts are laid out as those of
    :func:`_window_counts` (data column ``x`` in column ``x`` of ``width``, the columns
    past ``nx`` to be ignored) and are the same integers.

    The sums along the rows run over the rows laid end to end (one long axis, whose whole
    contiguous slices numpy adds fastest, instead of ``ny`` short rows): a sum that runs
    past the end of a row into the next lands in a column from ``width - 2 half`` on, past
    ``nx``: ignored.

    Args:
        stack: ``(n_fields, m, ny, nx)`` booleans.
        half: Half the window size.
        width: Columns of the result, at least ``nx + 2 half + 1``.
        dtype: Unsigned integers that hold a window count (:func:`_count_dtype`).

    Returns:
        ``(n_fields, m, ny, width)`` counts.
    """
    n_fields, m, ny, nx = stack.shape
    length = 2 * half + 1
    padded = np.zeros((n_fields, m, ny + 2 * half, width), dtype=dtype)
    padded[:, :, half : half + ny, half : half + nx] = stack
    columns = _sliding_sums(padded, length, axis=2)
    rows = np.zeros(columns.size + length - 1, dtype=dtype)  # the last row runs into zeros
    rows[: columns.size] = columns.reshape(-1)
    return _sliding_sums(rows, length, axis=0).reshape(n_fields, m, ny, width)


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
    stack = np.stack([(np.nan_to_num(field) >= threshold) & valid, valid])
    table = _summed_area_table(stack, pad, _count_dtype(win, ny, nx))
    shape = (*stack.shape[:3], table.shape[-1])
    counts = _window_counts(
        table, pad, pad, ny, np.empty(shape, table.dtype), np.empty(shape, table.dtype)
    )
    n_events, n_valid = counts[..., :nx].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        fractions = np.where(valid & (n_valid > 0), n_events / n_valid, np.nan)
    return fractions[0] if squeeze else fractions


_FIELDS_PER_BLOCK = 88
"""Map fields (maps x event fields) whose summed-area tables are built together: 8 maps with
the default 5 thresholds (11 fields a map), about 1 MB of tables and counts; more maps when
there are fewer thresholds. Enough to amortise the per-row loop, small enough to stay in
cache."""


_FRACTION_BYTES = 256 * 1024
"""Bytes of float work (fractions, their inverse denominators, validity) per group of maps:
a group's fractions are computed and summed while they are in the core's cache."""


def fss_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    thresholds: np.ndarray,
    windows: np.ndarray,
    wet_threshold: float,
    min_wet_fraction: float,
    dry: Dryness | None = None,
) -> dict[str, np.ndarray]:
    """FSS of ``(n_maps, ny, nx)`` arrays; see :func:`fss`.

    Where every pixel is valid (no mask, no missing value: the common case) the validity
    field is left out of the summed-area tables, the window sizes being known in advance
    (:func:`_inverse_window_sizes`): the same values for less work.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        thresholds: Event thresholds (mm/h), strictly increasing.
        windows: Odd window sizes (cells), strictly increasing.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        min_wet_fraction: Minimum wet fraction for a map's scores to count.
        dry: The :func:`~rainscore.scores.wetness.dryness` of these arrays (with the same
            ``min_wet_fraction``), if known.

    Returns:
        ``fss`` ``(n, K, W)``; ``fss_uniform``, ``base_rate``, ``skilful_scale`` ``(n, K)``;
        ``n_valid``, ``wet_fraction``, ``both_dry``, ``too_dry`` ``(n,)``.
    """
    n, ny, nx = forecast.shape
    n_thr = thresholds.size
    if dry is None:
        dry = dryness(
            forecast, obs, valid, wet_threshold=wet_threshold, min_wet_fraction=min_wet_fraction
        )
    all_valid = bool(valid.all())
    # Event stack: forecast events per threshold, observed events per threshold, validity
    # (unless every pixel is valid). Invalid pixels hold 0, so only a threshold <= 0 needs
    # the validity test.
    stack = np.empty((2 * n_thr + (not all_valid), n, ny, nx), dtype=bool)
    for k, threshold in enumerate(thresholds):
        np.greater_equal(forecast, threshold, out=stack[k])
        np.greater_equal(obs, threshold, out=stack[n_thr + k])
        if threshold <= 0 and not all_valid:
            stack[k] &= valid
            stack[n_thr + k] &= valid
    if not all_valid:
        stack[2 * n_thr] = valid
    events = stack[: 2 * n_thr].reshape(2, n_thr, n, -1)
    n_events = pixel_counts(events).transpose(0, 2, 1)  # (2, n, K)

    # Sums over the valid pixels of P_f P_o and of P_f^2 + P_o^2, for the scored maps only
    # (the others keep NaN). Window 1: fractions are the 0/1 events themselves.
    first = 1 if windows[0] == 1 else 0
    scored = dry.scored
    maps_per_block = max(1, _FIELDS_PER_BLOCK // stack.shape[0])
    if not first and n <= maps_per_block and scored.all():
        # Every map scored in one block (one map, say): the block's sums are the sums.
        sum_fo, sum_squares = _neighbourhood_sums(stack, windows, n_thr, all_valid=all_valid)
    else:
        sum_fo = np.full((n, n_thr, windows.size), np.nan)
        sum_squares = np.full((n, n_thr, windows.size), np.nan)
        scored = np.flatnonzero(scored)
        every_map = scored.size == n  # then slices, not copies
        if first:
            maps = slice(None) if every_map else scored
            sum_fo[maps, :, 0] = pixel_counts(events[0] & events[1]).T[maps]
            sum_squares[maps, :, 0] = n_events[0, maps] + n_events[1, maps]
        for i in range(0, scored.size if first < windows.size else 0, maps_per_block):
            block = slice(i, i + maps_per_block) if every_map else scored[i : i + maps_per_block]
            fo, squares = _neighbourhood_sums(
                stack[:, block], windows[first:], n_thr, all_valid=all_valid
            )
            sum_fo[block, :, first:] = fo
            sum_squares[block, :, first:] = squares

    with np.errstate(invalid="ignore", divide="ignore"):
        base_rate = n_events[1] / dry.n_valid[:, None]
    score = np.full(sum_fo.shape, np.nan)
    np.divide(2.0 * sum_fo, sum_squares, out=score, where=sum_squares > 0)
    uniform = 0.5 + base_rate / 2.0
    # The smallest window whose FSS reaches UFSS: windows where skilful, NaN elsewhere, and
    # the least of them (fmin skips NaN; NaN where none is skilful).
    skilful_windows = np.where(score >= uniform[:, :, None], windows.astype(np.float64), np.nan)
    skilful_scale = np.fmin.reduce(skilful_windows, axis=2)
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


@functools.lru_cache(maxsize=16)
def _inverse_window_sizes(ny: int, nx: int, width: int, half: int) -> np.ndarray:
    """``1 / (valid pixels in the window)`` of a map whose pixels are all valid.

    The window around cell ``(y, x)``, truncated at the border, holds ``rows(y) * cols(x)``
    cells. Laid out as the counts of :func:`_window_counts` (``ny`` rows of ``width``
    columns, 0.0 in the columns past ``nx``), flattened; read-only, cached on the shape
    (16 tables at most: 64 kB each for the 72 x 104 maps of France): the values
    :func:`_neighbourhood_sums` computes from the validity field, without it.
    """

    def cells(size: int) -> np.ndarray:
        centre = np.arange(size)
        return np.minimum(centre + half, size - 1) - np.maximum(centre - half, 0) + 1

    inverse = np.zeros((ny, width))
    inverse[:, :nx] = 1.0 / (cells(ny)[:, None] * cells(nx)[None, :]).astype(np.float64)
    inverse = inverse.reshape(-1)
    inverse.flags.writeable = False
    return inverse


def _neighbourhood_sums(
    stack: np.ndarray, windows: np.ndarray, n_thr: int, *, all_valid: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Sums over the valid pixels of ``P_f P_o`` and ``P_f^2 + P_o^2`` for a block of maps.

    Args:
        stack: ``(2 K + 1, m, ny, nx)`` booleans: forecast events at each of the ``K``
            thresholds, observed events, validity; or ``(2 K, m, ny, nx)``, the events only,
            if ``all_valid``.
        windows: Odd window sizes (cells).
        n_thr: ``K``.
        all_valid: Every pixel of the block is valid (the stack has no validity field).

    Returns:
        Both sums, ``(m, K, W)``.
    """
    n_fields, m, ny, nx = stack.shape
    n_events = 2 * n_thr
    pad = int(windows[-1]) // 2
    dtype = _count_dtype(int(windows[-1]), ny, nx)
    width = _table_width(nx, pad, dtype)
    if windows.size == 1:
        counts = _box_counts(stack, pad, width, dtype)
    else:
        table = _summed_area_table(stack, pad, dtype)
        rows = np.empty((n_fields, m, ny, width), dtype=dtype)
        counts = np.empty_like(rows)
    flat = counts.reshape(n_fields, m, -1)
    if not all_valid:
        # Valid data cells (1.0) in the layout of the counts (columns past nx are not
        # data), and 1.0 where not valid, so that valid / (count + invalid) is 1 / count or
        # 0 with no test.
        valid_cells = np.zeros((m, ny, width), dtype=np.uint8)
        valid_cells[..., :nx] = stack[-1].view(np.uint8)
        valid = valid_cells.reshape(m, -1).astype(np.float64)
        invalid = 1.0 - valid
    # The fractions are made and summed a few maps at a time, so that they stay in cache.
    group = max(1, _FRACTION_BYTES // ((n_events + 3) * ny * width * 8))
    if not all_valid:
        inverse = np.empty((min(group, m), ny * width))
    fractions = np.empty((n_events, min(group, m), ny * width))
    sum_fo = np.empty((m, n_thr, windows.size))
    sum_squares = np.empty((m, n_thr, windows.size))
    for j, w in enumerate(windows):
        if windows.size > 1:
            _window_counts(table, int(w) // 2, pad, ny, rows, counts)
        for start in range(0, m, group):
            maps = slice(start, min(start + group, m))
            size = maps.stop - start
            frac = fractions[:, :size]
            if all_valid:
                inv = _inverse_window_sizes(ny, nx, width, int(w) // 2)
            else:
                inv = inverse[:size]
                np.add(flat[-1, maps], invalid[maps], out=inv)
                np.divide(valid[maps], inv, out=inv)
            np.multiply(flat[:n_events, maps], inv, out=frac)
            sum_fo[maps, :, j] = np.vecdot(frac[:n_thr], frac[n_thr:]).T
            squares = np.vecdot(frac, frac)
            sum_squares[maps, :, j] = (squares[:n_thr] + squares[n_thr:]).T
    return sum_fo, sum_squares


def fss(
    forecast: xr.DataArray | np.ndarray,
    obs: xr.DataArray | np.ndarray,
    *,
    thresholds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    windows: Sequence[int] = (1, 3, 5, 9, 15),
    mask: xr.DataArray | np.ndarray | None = None,
    wet_threshold: float = 0.1,
    min_wet_fraction: float = 0.01,
) -> xr.Dataset | dict[str, np.ndarray]:
    """Fractions skill score per map, threshold and window, with UFSS and the skilful scale.

    Fractions are taken over **valid** pixels only: a window's fraction is its number of
    events (rain rate ``>= threshold``) divided by its number of valid pixels, windows being
    truncated at the map border and at masked or missing pixels (MET convention); only valid
    pixels are summed in the score. See the module docstring for the formulas. Scores are NaN
    for maps that are both dry or too dry (``wet_fraction < min_wet_fraction``), and where
    neither field has an event at the threshold.

    Plain NumPy fields, one map ``(lat, lon)`` or maps ``(map, lat, lon)`` as pysteps takes
    them, give plain NumPy results: the same values, to the bit, without the labels (and
    without the cost of checking and building them).

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(..., lat, lon)``; NaN = missing. Or a
            2-D or 3-D NumPy array (then ``obs`` too).
        obs: Observed rain rates (mm/h), same dims and coordinates; NaN = missing.
        thresholds: Event thresholds (mm/h), strictly increasing.
        windows: Window sizes in grid cells, odd and strictly increasing.
        mask: Optional boolean mask (True = scoreable); for NumPy fields a NumPy array of the
            map's or the fields' shape.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet (for the dryness flags).
        min_wet_fraction: Minimum fraction of valid pixels that are wet in either field for
            the scores of a map to count.

    Returns:
        Dataset with ``fss`` over ``(*map dims, threshold, window)``; ``fss_uniform`` (UFSS),
        ``base_rate`` (f_o) and ``skilful_scale`` (cells) over ``(*map dims, threshold)``;
        ``n_valid``, ``wet_fraction``, ``both_dry``, ``too_dry`` over the map dims. For
        NumPy fields, a dict of the same names: NumPy arrays ``(map, threshold, window)``,
        ``(map, threshold)`` and ``(map,)``, without the leading map axis for one 2-D map
        (then NumPy scalars for the per-map values).

    Raises:
        TypeError: Inputs are not both DataArrays or both NumPy arrays, or the mask is not
            boolean.
        ValueError: Bad thresholds or windows, mismatched inputs, or negative rain rates.

    References:
        Roberts, N. M. and Lean, H. W. (2008), *Mon. Wea. Rev.* 136, 78-97,
        doi:10.1175/2007MWR2123.1.
    """
    thr = check_thresholds(thresholds)
    win = check_windows(windows)
    if not 0.0 <= min_wet_fraction <= 1.0:
        raise ValueError(f"min_wet_fraction must be in [0, 1], got {min_wet_fraction}")
    options = {
        "thresholds": thr,
        "windows": win,
        "wet_threshold": wet_threshold,
        "min_wet_fraction": min_wet_fraction,
    }
    if are_numpy_fields(forecast, obs):
        fields = pair_arrays(forecast, obs, mask=mask)
        return unstack_maps(apply_in_chunks(fss_arrays, *fields, **options), forecast.ndim == 2)
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=SPATIAL_DIMS)
    return fss_dataset(pair.apply(fss_arrays, **options), pair, thr, win)


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
    coords = {"threshold": (thresholds, "mm/h"), "window": (windows, "grid cells")}
    attrs = {
        "fss": {"long_name": "fractions skill score", "units": "1"},
        "fss_uniform": {"long_name": "useful-skill FSS 0.5 + base_rate / 2", "units": "1"},
        "base_rate": {"long_name": "observed event fraction over valid pixels", "units": "1"},
        "skilful_scale": {
            "long_name": "smallest window with fss >= fss_uniform",
            "units": "grid cells",
        },
    }
    return pair.to_dataset(
        arrays,
        extra_coords=coords,
        attrs=attrs,
        dataset_attrs={
            "event_definition": "rain rate >= threshold",
            "window_edges": "truncated at the map border and at invalid pixels (MET style)",
        },
    )
