"""Streaming half-hour sums of regridded radar frames (init / add / compute).

For each half hour and cell, the sums keep: the weighted sum of the rates of the frames
valid at the cell (a frame is valid at a cell when at least one of its pixels there is
valid, i.e. its regridded mean is finite), the sum of their weights, how many such frames
there were, and the weighted sum of the frames' valid fractions. Weights are the frame
model's integer weights (:attr:`rainscore.colocate.frames.FrameModel.weights`: all 1 for
accumulations, trapezoid for rate snapshots), so with unit weights the sums are plain sums.
Memory is four arrays of the block's size, whatever the number of frames.
"""

from __future__ import annotations

import numpy as np


class HalfHourSums:
    """Accumulates regridded frames into the half hours of one time block.

    Args:
        n_half_hours: Number of half hours in the block.
        shape: (n_lat, n_lon) of the target grid.
        total_weight: Sum of the weights of a complete half hour's frames (the denominator
            of the valid fraction: the number of frames for equal weights).
    """

    def __init__(self, n_half_hours: int, shape: tuple[int, int], total_weight: int):
        self.total_weight = total_weight
        self._rate = np.zeros((n_half_hours, *shape))
        self._weight = np.zeros((n_half_hours, *shape), dtype=np.int16)
        self._n_valid = np.zeros((n_half_hours, *shape), dtype=np.int16)
        self._fraction = np.zeros((n_half_hours, *shape))
        self.n_frames = np.zeros(n_half_hours, dtype=np.int16)

    def add(self, k: int, rate: np.ndarray, valid_fraction: np.ndarray, weight: int = 1) -> None:
        """Add one frame to half hour ``k``.

        Args:
            k: Index of the half hour in the block.
            rate: The frame's regridded rate (mm/h), NaN where the frame is invalid.
            valid_fraction: The frame's valid fraction per cell.
            weight: The frame's integer weight at its position in the half hour.
        """
        valid = np.isfinite(rate)
        if weight == 1:
            np.add(self._rate[k], rate, out=self._rate[k], where=valid)
            self._fraction[k] += valid_fraction
        else:
            np.add(self._rate[k], weight * rate, out=self._rate[k], where=valid)
            self._fraction[k] += weight * valid_fraction
        self._weight[k] += weight * valid
        self._n_valid[k] += valid
        self.n_frames[k] += 1

    def compute(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The half-hour fields.

        Returns:
            ``(rain, valid_fraction, n_frames, n_valid_frames)``: ``rain`` (float32, mm/h)
            is the weighted mean over the frames valid at each cell of their rates, NaN
            where none is; ``valid_fraction`` (float32) is the weighted sum of the frames'
            valid fractions over ``total_weight`` (a missing frame counts 0); ``n_frames``
            (int16) the frames added to each half hour; ``n_valid_frames`` (int16, per half
            hour and cell) how many of them were valid at the cell, i.e. how many frames
            ``rain`` averages.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            rain = np.where(self._weight > 0, self._rate / self._weight, np.nan)
        fraction = self._fraction / self.total_weight
        return (
            rain.astype(np.float32),
            fraction.astype(np.float32),
            self.n_frames.copy(),
            self._n_valid.copy(),
        )
