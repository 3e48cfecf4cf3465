"""The pairing convention: which IMERG half hour a radar frame belongs to.

A radar file's time stamp marks the **end** of its accumulation. The IMERG half hour
[T, T + 30 min) pairs with the radar frames whose accumulation lies in
[T + lag, T + lag + 30 min): with 5-minute frames and no lag, the frames stamped
T + 5 min … T + 30 min. A frame ending at E therefore belongs to the half hour starting at
``floor(E − frame length − lag, 30 min)``. Frames must end on the frame lattice (every 5
minutes for 5-minute frames), so that none straddles two half hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HALF_HOUR = np.timedelta64(30, "m")
_NS_PER_MINUTE = 60 * 10**9


def as_utc_naive(times: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Times as ``datetime64[ns]`` in UTC without a time zone (aware times are converted)."""
    index = pd.DatetimeIndex(pd.to_datetime(times))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy(dtype="datetime64[ns]")


def floor_half_hour(times: np.ndarray) -> np.ndarray:
    """Start of the half hour holding each time (``datetime64[ns]``)."""
    ns = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    step = 30 * _NS_PER_MINUTE
    return ((ns // step) * step).astype("datetime64[ns]")


def paired_half_hour(frame_end: np.ndarray, *, frame_minutes: int, lag_minutes: int) -> np.ndarray:
    """Start of the IMERG half hour that radar frames ending at ``frame_end`` belong to.

    Args:
        frame_end: End times of the frames' accumulations (``datetime64``).
        frame_minutes: Length of a frame's accumulation.
        lag_minutes: Shift of the pairing (radar later than IMERG when positive).

    Returns:
        Half-hour starts, ``datetime64[ns]``, same shape as ``frame_end``.
    """
    shift = np.timedelta64(frame_minutes + lag_minutes, "m")
    return floor_half_hour(np.asarray(frame_end, dtype="datetime64[ns]") - shift)


def on_frame_lattice(frame_end: np.ndarray, frame_minutes: int) -> np.ndarray:
    """Whether each end time falls on the frame lattice (a whole number of frames past 00:00)."""
    ns = np.asarray(frame_end, dtype="datetime64[ns]").astype(np.int64)
    return ns % (frame_minutes * _NS_PER_MINUTE) == 0


def half_hours(start: np.datetime64, stop: np.datetime64) -> np.ndarray:
    """Half-hour starts from ``start`` (floored) up to, not including, ``stop``."""
    first = floor_half_hour(np.asarray([start]))[0]
    return np.arange(first, np.datetime64(stop, "ns"), HALF_HOUR).astype("datetime64[ns]")
