"""Wet and dry maps: the flags that decide whether a score is defined.

A pixel is *wet* when it is valid and **either** field is ``>= wet_threshold`` (the union of
the forecast and observed rain areas, as in the "single conditioning" of pysteps). A map is
*both dry* when it has valid pixels but no wet one: ratio scores are then undefined and get
NaN, never 0. A map with no valid pixel at all is *no data* (not both dry: nothing says it was
dry), and every score of it is NaN.
A map is *too dry* when it has wet pixels but fewer than ``min_wet_fraction`` of its valid
pixels are wet: categorical and FSS scores of such a map are NaN too, because a handful of
pixels makes them noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Dryness", "dryness", "pixel_counts", "wet_pixels"]


def pixel_counts(pixels: np.ndarray) -> np.ndarray:
    """Number of True pixels along the last axis of a boolean array (each map's count).

    ``np.count_nonzero(pixels, axis=-1)``, row by row: with an axis numpy sums the booleans
    as integers, without one it counts a row several times faster; a few thousand pixels a
    row repay the Python loop many times over.

    Args:
        pixels: Boolean array ``(..., n_pixels)``.

    Returns:
        int64 array of the leading shape.
    """
    rows = pixels.reshape(math.prod(pixels.shape[:-1]), pixels.shape[-1])
    counts = np.fromiter(map(np.count_nonzero, rows), dtype=np.int64, count=rows.shape[0])
    return counts.reshape(pixels.shape[:-1])


def wet_pixels(
    forecast: np.ndarray, obs: np.ndarray, valid: np.ndarray, wet_threshold: float
) -> np.ndarray:
    """Boolean array: valid and either field ``>= wet_threshold``.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.

    Returns:
        The wet pixels, same shape as the inputs.
    """
    wet = forecast >= wet_threshold
    wet |= obs >= wet_threshold
    if wet_threshold <= 0:  # invalid pixels hold 0: only then can they be wet
        wet &= valid
    return wet


@dataclass(frozen=True)
class Dryness:
    """Per-map wet/dry flags (arrays of shape ``(n_maps,)``).

    Attributes:
        n_valid: Number of valid pixels.
        n_wet: Number of wet pixels (either field ``>= wet_threshold``).
        wet_fraction: ``n_wet / n_valid`` (NaN where no pixel is valid).
        both_dry: Valid pixels, but no wet pixel in either field.
        too_dry: Wet pixels, but ``wet_fraction < min_wet_fraction``.
        no_data: No valid pixel.
    """

    n_valid: np.ndarray
    n_wet: np.ndarray
    wet_fraction: np.ndarray
    both_dry: np.ndarray
    too_dry: np.ndarray
    no_data: np.ndarray

    @property
    def no_wet_pixel(self) -> np.ndarray:
        """Maps without a wet pixel (both dry or no data): their ratio scores are NaN."""
        return self.n_wet == 0

    @property
    def scored(self) -> np.ndarray:
        """Maps whose categorical and FSS scores count (wet pixels, and not too dry)."""
        return ~(self.no_wet_pixel | self.too_dry)


def dryness(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    wet_threshold: float,
    min_wet_fraction: float = 0.0,
) -> Dryness:
    """Count valid and wet pixels per map and flag dry maps.

    Args:
        forecast: ``(n_maps, ...)`` forecast rain rates, 0 where invalid.
        obs: Observed rain rates, same shape.
        valid: Validity, same shape.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        min_wet_fraction: Minimum fraction of wet pixels for a map to be scored.

    Returns:
        The flags of each map.
    """
    n = forecast.shape[0]
    wet = wet_pixels(forecast, obs, valid, wet_threshold).reshape(n, -1)
    n_valid = pixel_counts(valid.reshape(n, -1))
    n_wet = pixel_counts(wet)
    no_data = n_valid == 0
    wet_fraction = n_wet / np.maximum(n_valid, 1)
    wet_fraction[no_data] = np.nan
    both_dry = n_wet == 0
    both_dry &= ~no_data
    too_dry = wet_fraction < min_wet_fraction
    too_dry &= n_wet > 0
    return Dryness(n_valid, n_wet, wet_fraction, both_dry, too_dry, no_data)
