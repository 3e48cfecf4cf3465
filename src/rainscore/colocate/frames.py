"""The radar frame model: what a frame stands for in time, and how frames make a half hour.

A radar series is made of frames of one kind, one every ``minutes`` minutes:

- **accumulation** (Météo-France 5-minute mosaics, OPERA ``ACRR``, MeteoNet): a depth over
  the ``minutes`` before the file's time stamp (the end of its window). The half hour
  [T, T + 30) holds the ``30 / minutes`` frames ending at T + minutes … T + 30, weighted
  equally.
- instantaneous **rate** (OPERA ``RATE``): a snapshot at its nominal time (ODYSSEY's
  observation window runs 10 minutes before to 5 after it, e.g. 17:50–18:05 for the 18:00
  product; NIMBUS has start = end), standing for the interval around it. The half hour
  [T, T + 30] holds the ``30 / minutes + 1`` snapshots at T, T + minutes, …, T + 30, with
  trapezoid weights (1, 2, …, 2, 1) / (2 · 30 / minutes): ¼, ½, ¼ for 15-minute rates.
  The snapshots on the half-hour boundaries count in both half hours they bound.

The kind and length come from the data (the radar inventory's ``units``, ``accumulation_minutes``
and times: :func:`frame_model`), or from the one parameter ``ingestion.radar_frame_minutes``;
frames per half hour, weights and the frames a cell needs all follow from them. Pairing
(which half hour, at which position, with the lag) is :mod:`rainscore.colocate.pairing`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rainscore.colocate.pairing import (
    ACCUMULATION,
    FRAME_KINDS,
    RATE,
    FramePairs,
    as_utc_naive,
    on_frame_lattice,
    pair_frames,
)
from rainscore.half_hour import HALF_HOUR_MINUTES
from rainscore.units import ACCUMULATION_UNITS, RATE_UNITS

#: Units of a frame's values, by kind (as :func:`rainscore.io.open_radar` returns them).
KIND_OF_UNITS = {ACCUMULATION_UNITS: ACCUMULATION, RATE_UNITS: RATE}


@dataclass(frozen=True)
class FrameModel:
    """The frames of a radar series: their kind and length.

    Attributes:
        kind: :data:`~rainscore.colocate.pairing.ACCUMULATION` or
            :data:`~rainscore.colocate.pairing.RATE`.
        minutes: Accumulation length, or spacing of the rate snapshots; divides 30.
    """

    kind: str = ACCUMULATION
    minutes: int = 5

    def __post_init__(self) -> None:
        if self.kind not in FRAME_KINDS:
            raise ValueError(f"radar frame kind must be one of {FRAME_KINDS}, got {self.kind!r}")
        if (
            isinstance(self.minutes, bool)
            or not isinstance(self.minutes, int | np.integer)
            or self.minutes < 1
            or HALF_HOUR_MINUTES % self.minutes
        ):
            raise ValueError(
                f"radar frame length must be a whole number of minutes dividing "
                f"{HALF_HOUR_MINUTES}, got {self.minutes!r}"
            )
        object.__setattr__(self, "minutes", int(self.minutes))

    @property
    def frames_per_half_hour(self) -> int:
        """Frames a complete half hour holds: 6 for 5-minute accumulations, 3 for 15-minute
        rates (the snapshots at both ends included)."""
        steps = HALF_HOUR_MINUTES // self.minutes
        return steps if self.kind == ACCUMULATION else steps + 1

    @property
    def weights(self) -> tuple[int, ...]:
        """Weight of each position in a half hour, in integer units (see :attr:`total_weight`):
        all 1 for accumulations, trapezoid (1, 2, …, 2, 1) for rates."""
        n = self.frames_per_half_hour
        if self.kind == ACCUMULATION:
            return (1,) * n
        return (1,) + (2,) * (n - 2) + (1,)

    @property
    def total_weight(self) -> int:
        """Sum of :attr:`weights`: a weight ``w`` counts ``w / total_weight`` of the half hour."""
        return sum(self.weights)

    def describe(self) -> str:
        """One line for messages and attrs, e.g. ``15-minute rate snapshots (3 per half hour)``."""
        what = "accumulations" if self.kind == ACCUMULATION else "rate snapshots"
        return f"{self.minutes}-minute {what} ({self.frames_per_half_hour} per half hour)"

    def check_times(self, times: np.ndarray) -> None:
        """Raise ``ValueError`` unless every frame time is on the frame lattice."""
        off = ~on_frame_lattice(times, self.minutes)
        if off.any():
            raise ValueError(
                f"frame times {np.asarray(times)[off]} are not on the {self.minutes}-minute "
                f"lattice of {self.describe()}"
            )

    def pair(self, times: np.ndarray, lag_minutes: int) -> FramePairs:
        """The half hours the frames at ``times`` are paired with, and their positions
        (:func:`rainscore.colocate.pairing.pair_frames`)."""
        return pair_frames(
            times, kind=self.kind, frame_minutes=self.minutes, lag_minutes=lag_minutes
        )

    def span(
        self, first: np.ndarray, last: np.ndarray, lag_minutes: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """First and last half hours reached by files whose frames run from time ``first``
        to time ``last`` (equal for single-frame files), by :meth:`pair`'s rule.

        Returns:
            ``(first_half_hour, last_half_hour)``, ``datetime64[ns]``.
        """
        rows = np.arange(len(first))
        opening = self.pair(first, lag_minutes)  # by frame, then half hour
        closing = self.pair(last, lag_minutes)
        earliest = np.searchsorted(opening.frame, rows, side="left")
        latest = np.searchsorted(closing.frame, rows, side="right") - 1
        return opening.half_hour[earliest], closing.half_hour[latest]


def kind_of_units(units: str) -> str:
    """The frame kind of values in ``units`` (``mm``: accumulation, ``mm/h``: rate).

    Raises:
        ValueError: For other units.
    """
    try:
        return KIND_OF_UNITS[units]
    except KeyError:
        raise ValueError(
            f"radar units {units!r} are neither 'mm' (an accumulation) nor 'mm/h' (a rate)"
        ) from None


def _rate_times(inventory: pd.DataFrame) -> np.ndarray:
    """Each row's ``nominal_time``, or its ``end_time`` where the inventory has none."""
    end = as_utc_naive(inventory["end_time"])
    if "nominal_time" not in inventory.columns:
        return end
    nominal = as_utc_naive(inventory["nominal_time"])
    return np.where(np.isnat(nominal), end, nominal)


def inventory_frame_times(
    inventory: pd.DataFrame, model: FrameModel
) -> tuple[np.ndarray, np.ndarray]:
    """Time of the first and of the last frame of each inventory row (``datetime64[ns]``).

    An accumulation's time is the end of its window: the last is ``end_time``, the first
    ``start_time`` + the frame length (multi-frame files), capped at ``end_time``. A rate's
    time is its ``nominal_time``, or ``end_time`` where the inventory has none.
    """
    if model.kind == RATE:
        when = _rate_times(inventory)
        return when, when
    end = as_utc_naive(inventory["end_time"])
    if "start_time" not in inventory.columns:
        return end, end
    start = as_utc_naive(inventory["start_time"])
    first = np.minimum(start + np.timedelta64(model.minutes, "m"), end)
    return np.where(np.isnat(start), end, first), end


def _whole_minutes(value: float, what: str) -> int:
    if not np.isfinite(value) or value != round(value):
        raise ValueError(f"{what} is {value!r} minutes, not a whole number of minutes")
    return round(value)


def _most_common(values: np.ndarray) -> float | None:
    """The most frequent finite value (the smallest among ties), None if there is none."""
    values = pd.Series(values, dtype=float).dropna()
    return None if values.empty else float(values.mode().iloc[0])


def _kind(usable: pd.DataFrame) -> str:
    if "units" not in usable.columns or usable["units"].isna().all():
        return ACCUMULATION
    kinds = [kind_of_units(u) for u in usable["units"].dropna()]
    return str(pd.Series(kinds).mode().iloc[0])


def frame_model(inventory: pd.DataFrame, minutes: int | None = None) -> FrameModel:
    """The frame model of a radar series, from its inventory's usable rows (``status`` ok).

    Kind: that of most rows' ``units`` (accumulation without a ``units`` column). Length:
    ``minutes`` when given; else the ``frame_minutes`` column the ingestion writes; else,
    for accumulations, the most common ``accumulation_minutes`` (or ``end_time −
    start_time``); for rates, the most common spacing of consecutive nominal times (or, for a
    single snapshot, its observation window). An inventory without usable rows gives the
    default (5-minute accumulations).

    Args:
        inventory: Radar inventory (``path``, ``end_time``, ``status``; optional ``units``,
            ``start_time``, ``nominal_time``, ``accumulation_minutes``, ``frame_minutes``).
        minutes: The frame length if known (``ingestion.radar_frame_minutes``).

    Returns:
        The model.

    Raises:
        ValueError: Unknown units, a length that is not whole minutes dividing 30 (e.g.
            hourly accumulations), or a length that cannot be told from the data.
    """
    usable = inventory
    if "status" in inventory.columns:
        usable = inventory.loc[inventory["status"] == "ok"]
    usable = usable.loc[usable["end_time"].notna()]
    if usable.empty:
        return FrameModel() if minutes is None else FrameModel(minutes=minutes)
    kind = _kind(usable)
    if "units" in usable.columns:
        usable = usable.loc[
            [kind_of_units(u) == kind if isinstance(u, str) else True for u in usable["units"]]
        ]
    if minutes is None and "frame_minutes" in usable.columns:
        found = _most_common(pd.to_numeric(usable["frame_minutes"], errors="coerce").to_numpy())
        minutes = None if found is None else _whole_minutes(found, "the inventory's frame_minutes")
    if minutes is None:
        minutes = _derived_minutes(usable, kind)
    try:
        return FrameModel(kind, minutes)
    except ValueError as err:
        raise ValueError(
            f"radar {kind} frames of {minutes} minutes cannot be paired with IMERG half hours "
            f"({err}); set ingestion.radar_frame_minutes to a length dividing "
            f"{HALF_HOUR_MINUTES} to keep only such files"
        ) from None


def _derived_minutes(usable: pd.DataFrame, kind: str) -> int:
    end = as_utc_naive(usable["end_time"])
    start = as_utc_naive(usable["start_time"]) if "start_time" in usable.columns else None
    window = None if start is None else (end - start) / np.timedelta64(1, "m")
    if kind == ACCUMULATION:
        found = None
        if "accumulation_minutes" in usable.columns:
            found = _most_common(
                pd.to_numeric(usable["accumulation_minutes"], errors="coerce").to_numpy()
            )
        if found is None and window is not None:
            found = _most_common(np.where(window > 0, window, np.nan))
        if found is None:
            raise ValueError(
                "the radar inventory gives neither accumulation_minutes nor start_time: the "
                "accumulation length cannot be told; set ingestion.radar_frame_minutes"
            )
        return _whole_minutes(found, "the radar accumulation")
    times = np.unique(_rate_times(usable))
    spacing = np.diff(times) / np.timedelta64(1, "m")
    found = _most_common(spacing) if len(spacing) else None
    if found is None and window is not None:
        found = _most_common(np.where(window > 0, window, np.nan))
    if found is None:
        raise ValueError(
            "a single radar rate snapshot without an observation window: the spacing of the "
            "snapshots cannot be told; set ingestion.radar_frame_minutes"
        )
    return _whole_minutes(found, "the spacing of the radar rate snapshots")


def frame_times(attrs: dict, times: np.ndarray, kind: str) -> np.ndarray:
    """The pairing times of the frames of a DataArray from :func:`rainscore.io.open_radar`.

    Args:
        attrs: Its attrs (``nominal_time`` for rates, when the file has one).
        times: Its ``time`` coordinate (end of each frame's window), ``datetime64``.
        kind: The series' frame kind.

    Returns:
        Accumulations: ``times``. A rate: its nominal time (``times`` without one).
    """
    times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
    nominal = attrs.get("nominal_time")
    if kind == RATE and nominal is not None and len(times) == 1:
        return np.array([np.datetime64(pd.Timestamp(nominal).to_datetime64(), "ns")])
    return times
