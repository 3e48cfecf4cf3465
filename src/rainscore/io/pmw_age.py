"""Passive-microwave (PMW) age: how long before or after a half hour a pixel was seen.

IMERG does not store it; it is derived from the history of ``mw_source`` (sensor code,
0 = no PMW observation in the half hour) and ``mw_observation_time`` (minutes after the
half hour's start). With ``o`` the instant of an observation (half-hour start + its
observation minutes; the half hour's centre when the minutes are missing):

- ``pmw_age_forward(t)`` = 0 when the pixel is observed during the half hour [t, t + 30);
  otherwise t − o_last, the minutes from the last PMW overpass to the start of the half
  hour (so 1 for an overpass at minute 29 of the previous half hour).
- ``pmw_age_backward(t)`` = 0 when the pixel is observed during the half hour; otherwise
  o_next − (t + 30 min), the minutes from the end of the half hour to the next overpass.
  Only the Late and Final runs use future overpasses (they morph backward in time); for the
  Early run the backward age is all NaN.

"0 = a PMW observation in this half hour" is the convention of the synthetic world's truth
too (``rainscore.synthetic``), so derived and true ages compare directly.

A half hour missing from the time axis, or a NaN ``mw_source``, means *unknown*, not "no
PMW": the age is NaN until an observation is seen on the other side of the gap. Before the
first observation of the record (after the last, backward) the age is NaN too.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rainscore.half_hour import HALF_HOUR_MINUTES
from rainscore.io.imerg_filename import IMERG_PRODUCTS

_BLOCK_ELEMENTS = 4_000_000  # pixels × half hours processed at once (bounds memory)
_PRODUCTS = tuple(IMERG_PRODUCTS.values())
_EARLY = IMERG_PRODUCTS["early"]  # the run without backward age (no future data)


def _ages(
    source: np.ndarray, minutes: np.ndarray, slots: np.ndarray, n_slots: int, backward: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward ages of arrays (..., time) on a regular axis of ``n_slots``."""
    lead = source.shape[:-1]
    n_times = source.shape[-1]
    src = source.reshape(-1, n_times)
    obs_minutes = minutes.reshape(-1, n_times)
    forward = np.full(src.shape, np.nan, dtype=np.float32)
    backward_out = np.full(src.shape, np.nan, dtype=np.float32)
    axis = np.arange(n_slots)
    start = axis * float(HALF_HOUR_MINUTES)
    block = max(1, _BLOCK_ELEMENTS // max(n_slots, 1))
    for p0 in range(0, src.shape[0], block):
        s = src[p0 : p0 + block]
        m = obs_minutes[p0 : p0 + block]
        observed = s > 0
        unknown = np.isnan(s)
        instant = np.full((s.shape[0], n_slots), np.nan)
        when = start[slots] + np.where(np.isnan(m), HALF_HOUR_MINUTES / 2, m)
        instant[:, slots] = np.where(observed, when, np.nan)
        event = np.ones((s.shape[0], n_slots), dtype=bool)  # absent slots are unknown
        event[:, slots] = observed | unknown

        seen = np.zeros((s.shape[0], n_slots), dtype=bool)
        seen[:, slots] = observed

        last = np.where(event, axis, -1)
        np.maximum.accumulate(last, axis=1, out=last)
        o_last = np.take_along_axis(instant, np.maximum(last, 0), axis=1)
        o_last[last < 0] = np.nan
        forward[p0 : p0 + block] = np.where(seen, 0.0, start - o_last)[:, slots]

        if backward:
            nxt = np.where(event, axis, n_slots)[:, ::-1]
            nxt = np.minimum.accumulate(nxt, axis=1)[:, ::-1]
            o_next = np.take_along_axis(instant, np.minimum(nxt, n_slots - 1), axis=1)
            o_next[nxt >= n_slots] = np.nan
            end = start + HALF_HOUR_MINUTES
            backward_out[p0 : p0 + block] = np.where(seen, 0.0, o_next - end)[:, slots]
    return forward.reshape(*lead, n_times), backward_out.reshape(*lead, n_times)


def _slots(time: xr.DataArray) -> tuple[np.ndarray, int]:
    values = time.values.astype("datetime64[ns]")
    if values.size == 0:
        raise ValueError("pmw_age: the time axis is empty")
    minutes = (values - values[0]) / np.timedelta64(1, "m")
    if np.any(np.diff(minutes) <= 0):
        raise ValueError("pmw_age: time must be strictly increasing (sort and de-duplicate)")
    off_grid = np.nonzero(minutes % HALF_HOUR_MINUTES)[0]
    if off_grid.size:
        raise ValueError(
            f"pmw_age: time {values[off_grid[0]]} is not a whole number of half hours after "
            f"{values[0]}"
        )
    slots = (minutes // HALF_HOUR_MINUTES).astype(np.int64)
    return slots, int(slots[-1]) + 1


def pmw_age(ds: xr.Dataset, *, product: str | None = None) -> xr.Dataset:
    """Forward and backward passive-microwave age of every pixel and half hour.

    Vectorised over time with numpy (a forward fill of the last observation instant,
    reset at gaps); works on dask-backed datasets chunked in space.

    Args:
        ds: Dataset with ``mw_source`` and ``mw_observation_time`` (dims include
            ``time``), as returned by :func:`rainscore.io.open_imerg`, sorted on time.
        product: ``"Early"``, ``"Late"`` or ``"Final"``; default ``ds.attrs["product"]``.
            Early has no backward age.

    Returns:
        Dataset with float32 ``pmw_age_forward`` and ``pmw_age_backward`` (minutes), same
        dims and coordinates as ``ds.mw_source``; see the module doc for the definitions.

    Raises:
        ValueError: Missing variables, unknown product, unsorted or duplicated times, or
            times not on a 30-minute lattice.
    """
    missing = [v for v in ("mw_source", "mw_observation_time") if v not in ds]
    if missing:
        raise ValueError(f"pmw_age: the dataset lacks {missing}")
    product = product or ds.attrs.get("product")
    if product not in _PRODUCTS:
        raise ValueError(
            f"pmw_age: product must be one of {_PRODUCTS}, got {product!r} "
            "(pass product= when ds.attrs has none)"
        )
    slots, n_slots = _slots(ds["time"])
    forward, backward = xr.apply_ufunc(
        _ages,
        ds["mw_source"].astype(np.float32),
        ds["mw_observation_time"].astype(np.float32),
        input_core_dims=[["time"], ["time"]],
        output_core_dims=[["time"], ["time"]],
        kwargs={"slots": slots, "n_slots": n_slots, "backward": product != _EARLY},
        dask="parallelized",
        output_dtypes=[np.float32, np.float32],
        dask_gufunc_kwargs={"allow_rechunk": True},
    )
    dims = ds["mw_source"].dims
    note = (
        "NaN before the first observation of the record and after a gap (missing half hour "
        "or missing mw_source) until the next observation"
    )
    forward = forward.transpose(*dims).assign_attrs(
        units="min",
        long_name="time from the last passive-microwave observation to the end of the half hour",
        comment=note,
    )
    backward = backward.transpose(*dims).assign_attrs(
        units="min",
        long_name="time from the start of the half hour to the next passive-microwave observation",
        comment=note + ("; all NaN for the Early run" if product == _EARLY else ""),
    )
    return xr.Dataset(
        {"pmw_age_forward": forward, "pmw_age_backward": backward},
        attrs={"product": product},
    )
