"""The half hour, and which IMERG half hours a radar frame is paired with.

The half hour's length lives in :mod:`rainscore.half_hour`: an IMERG map's ``time`` is the
start T of its half hour [T, T + 30 min). With a lag, the half hour starting at T gets the
radar of [T + lag, T + lag + 30 min).

How a frame pairs depends on its kind (:mod:`rainscore.colocate.frames`):

- an **accumulation** of ``m`` minutes ending at E lies in the half hour starting at
  ``floor(E − m − lag, 30 min)``, at position ``(E − m − lag − T) / m``: the half hour holds
  the ``30 / m`` frames ending at T + lag + m … T + lag + 30;
- an instantaneous **rate** at its nominal time N, one every ``m`` minutes, is at position
  ``(N − lag − T) / m`` of the half hour starting at ``T = floor(N − lag, 30 min)``; a snapshot
  on a half-hour boundary also closes the half hour before (position ``30 / m``): the half
  hour holds the ``30 / m + 1`` snapshots at T + lag, …, T + lag + 30.

Frame times must be on the frame lattice (a whole number of frames past 00:00), so that no
accumulation straddles two half hours and every snapshot has its position.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from rainscore.half_hour import HALF_HOUR, HALF_HOUR_MINUTES

_NS_PER_MINUTE = 60 * 10**9
_HALF_HOUR_NS = HALF_HOUR_MINUTES * _NS_PER_MINUTE

ACCUMULATION = "accumulation"
"""A depth over a window ending at the frame's time stamp (ACRR, Météo-France, MeteoNet)."""
RATE = "rate"
"""An instantaneous rate at the frame's nominal time (OPERA RATE: ODYSSEY, NIMBUS)."""
FRAME_KINDS = (ACCUMULATION, RATE)


class FramePairs(NamedTuple):
    """Which half hours frames are paired with, one row per (frame, half hour).

    Attributes:
        frame: Index of the frame in the times given.
        half_hour: Start of the IMERG half hour (``datetime64[ns]``).
        position: Position of the frame in that half hour (0 = first), which sets its weight.
    """

    frame: np.ndarray
    half_hour: np.ndarray
    position: np.ndarray


def as_utc_naive(times: pd.Series | pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Times as ``datetime64[ns]`` in UTC without a time zone (aware times are converted)."""
    index = pd.DatetimeIndex(pd.to_datetime(times))
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy(dtype="datetime64[ns]")


def floor_half_hour(times: np.ndarray) -> np.ndarray:
    """Start of the half hour holding each time (``datetime64[ns]``)."""
    ns = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    return ((ns // _HALF_HOUR_NS) * _HALF_HOUR_NS).astype("datetime64[ns]")


def paired_half_hour(frame_end: np.ndarray, *, frame_minutes: int, lag_minutes: int) -> np.ndarray:
    """Start of the IMERG half hour that accumulations ending at ``frame_end`` belong to.

    Args:
        frame_end: End times of the frames' accumulations (``datetime64``).
        frame_minutes: Length of a frame's accumulation.
        lag_minutes: Shift of the pairing (radar later than IMERG when positive).

    Returns:
        Half-hour starts, ``datetime64[ns]``, same shape as ``frame_end``.
    """
    shift = np.timedelta64(frame_minutes + lag_minutes, "m")
    return floor_half_hour(np.asarray(frame_end, dtype="datetime64[ns]") - shift)


def pair_frames(
    times: np.ndarray, *, kind: str, frame_minutes: int, lag_minutes: int
) -> FramePairs:
    """The half hours frames are paired with, and their positions there (module docstring).

    Args:
        times: The frames' times (``datetime64``): the end of an accumulation, the nominal
            time of a rate; on the ``frame_minutes`` lattice.
        kind: :data:`ACCUMULATION` or :data:`RATE`.
        frame_minutes: Accumulation length, or spacing of the rate snapshots.
        lag_minutes: Shift of the pairing (radar later than IMERG when positive).

    Returns:
        One row per (frame, half hour), by frame then half hour: one per accumulation, one
        or two (on a half-hour boundary) per rate snapshot.

    Raises:
        ValueError: For an unknown ``kind``.
    """
    times = np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    frame = np.arange(len(times))
    step = np.timedelta64(frame_minutes, "m")
    if kind == ACCUMULATION:
        start = times - step - np.timedelta64(lag_minutes, "m")
        half_hour = floor_half_hour(start)
        return FramePairs(frame, half_hour, ((start - half_hour) // step).astype(np.int64))
    if kind != RATE:
        raise ValueError(f"frame kind must be one of {FRAME_KINDS}, got {kind!r}")
    when = times - np.timedelta64(lag_minutes, "m")
    half_hour = floor_half_hour(when)
    position = ((when - half_hour) // step).astype(np.int64)
    closing = position == 0  # also the last snapshot of the half hour before
    frame = np.concatenate([frame[closing], frame])
    half_hour = np.concatenate([half_hour[closing] - HALF_HOUR, half_hour])
    position = np.concatenate(
        [np.full(int(closing.sum()), HALF_HOUR_MINUTES // frame_minutes), position]
    )
    order = np.lexsort((half_hour, frame))
    return FramePairs(frame[order], half_hour[order], position[order])


def on_frame_lattice(frame_time: np.ndarray, frame_minutes: int) -> np.ndarray:
    """Whether each time falls on the frame lattice (a whole number of frames past 00:00)."""
    ns = np.asarray(frame_time, dtype="datetime64[ns]").astype(np.int64)
    return ns % (frame_minutes * _NS_PER_MINUTE) == 0


def half_hours(start: np.datetime64, stop: np.datetime64) -> np.ndarray:
    """Half-hour starts from ``start`` (floored) up to, not including, ``stop``."""
    first = floor_half_hour(np.asarray([start]))[0]
    return np.arange(first, np.datetime64(stop, "ns"), HALF_HOUR).astype("datetime64[ns]")
