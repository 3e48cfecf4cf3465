"""Streaming half-hour sums of regridded radar frames (init / add / compute).

For each half hour and cell, the sums keep: the sum of the rates of the frames valid at the
cell (a frame is valid at a cell when at least one of its pixels there is valid, i.e. its
regridded mean is finite), how many such frames there were, and the sum of the frames'
valid fractions. Memory is three arrays of the block's size, whatever the number of frames.
"""

from __future__ import annotations

import numpy as np


class HalfHourSums:
    """Accumulates regridded frames into the half hours of one time block.

    Args:
        n_half_hours: Number of half hours in the block.
        shape: (n_lat, n_lon) of the target grid.
        frames_per_half_hour: Frames expected in a half hour (the denominator of the
            valid fraction).
    """

    def __init__(self, n_half_hours: int, shape: tuple[int, int], frames_per_half_hour: int):
        self.frames_per_half_hour = frames_per_half_hour
        self._rate = np.zeros((n_half_hours, *shape))
        self._n_valid = np.zeros((n_half_hours, *shape), dtype=np.int16)
        self._fraction = np.zeros((n_half_hours, *shape))
        self.n_frames = np.zeros(n_half_hours, dtype=np.int16)

    def add(self, k: int, rate: np.ndarray, valid_fraction: np.ndarray) -> None:
        """Add one frame to half hour ``k``.

        Args:
            k: Index of the half hour in the block.
            rate: The frame's regridded rate (mm/h), NaN where the frame is invalid.
            valid_fraction: The frame's valid fraction per cell.
        """
        valid = np.isfinite(rate)
        np.add(self._rate[k], rate, out=self._rate[k], where=valid)
        self._n_valid[k] += valid
        self._fraction[k] += valid_fraction
        self.n_frames[k] += 1

    def compute(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The half-hour fields.

        Returns:
            ``(rain, valid_fraction, n_frames, n_valid_frames)``: ``rain`` (float32, mm/h)
            is the mean over the frames valid at each cell of their rates, NaN where none
            is; ``valid_fraction`` (float32) is the sum of the frames' valid fractions over
            ``frames_per_half_hour`` (a missing frame counts 0); ``n_frames`` (int16) the
            frames added to each half hour; ``n_valid_frames`` (int16, per half hour and
            cell) how many of them were valid at the cell, i.e. how many frames ``rain``
            averages.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            rain = np.where(self._n_valid > 0, self._rate / self._n_valid, np.nan)
        fraction = self._fraction / self.frames_per_half_hour
        return (
            rain.astype(np.float32),
            fraction.astype(np.float32),
            self.n_frames.copy(),
            self._n_valid.copy(),
        )
