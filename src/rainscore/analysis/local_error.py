"""Per-pixel targets for the U-Net: local fraction error and absolute error."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import xarray as xr

from rainscore.scores.neighbourhood import neighbourhood_fractions
from rainscore.stores import time_blocks

BLOCK_MAPS = 48
"""Maps read and computed at once by :func:`local_error_blocks`."""


def local_error_blocks(
    pairs: xr.Dataset,
    *,
    threshold: float,
    window: int,
    block_size: int = BLOCK_MAPS,
    attrs: dict | None = None,
) -> Iterator[xr.Dataset]:
    """:func:`local_error_maps` of ``pairs``, ``block_size`` maps at a time, in time order.

    Each block of ``imerg``, ``radar`` and ``mask`` is read (``.load()``: a lazily loaded
    input reads only these maps) when the next block is asked for, so a consumer that
    writes the blocks to a store (:class:`rainscore.datasets.XarrayZarrDataset`) never holds
    the period. The maps are those of the whole: each pixel's error depends on its own map
    only.

    Args:
        pairs: Colocated pairs with ``imerg``, ``radar`` (mm/h) and ``mask``; in memory or
            lazily loaded.
        threshold: Event threshold (mm/h).
        window: Odd neighbourhood size (cells).
        block_size: Maps per block.
        attrs: Extra dataset attributes of every block.

    Yields:
        The local error maps of consecutive blocks of times; ``pairs`` without any time
        give one empty block (every variable, no time).

    Raises:
        ValueError: ``block_size`` is below 1 (when the first block is asked for).
    """
    if block_size < 1:
        raise ValueError(f"local_error_blocks: block_size must be >= 1, got {block_size}")
    inputs = pairs[["imerg", "radar", "mask"]]
    for block in time_blocks(inputs, block_size) if inputs.sizes["time"] else [inputs]:
        maps = local_error_maps(block.load(), threshold=threshold, window=window)
        yield maps.assign_attrs(attrs or {})


def local_error_maps(pairs: xr.Dataset, *, threshold: float, window: int) -> xr.Dataset:
    """Local errors of IMERG against radar at every scoreable pixel.

    ``local_fraction_error`` is the difference of the event fractions (rate ``>=
    threshold``) of IMERG and radar in the ``window × window`` neighbourhood of each pixel,
    fractions taken over valid pixels only (as in the FSS, whose squared mean it is the
    numerator of); ``abs_error`` is ``|imerg − radar|``. Both are NaN outside the scoring
    mask.

    The U-Net learns them at the threshold and window of the target score
    (:attr:`rainscore.scores.TargetConfig.local_threshold` and ``local_window``).

    Args:
        pairs: Colocated pairs with ``imerg``, ``radar`` (mm/h) and ``mask``.
        threshold: Event threshold (mm/h).
        window: Odd neighbourhood size (cells).

    Returns:
        A dataset (time, lat, lon) with ``local_fraction_error``, ``abs_error`` and ``mask``.
    """
    imerg = pairs["imerg"].values.astype(np.float64)
    radar = pairs["radar"].values.astype(np.float64)
    valid = pairs["mask"].values.astype(bool) & np.isfinite(imerg) & np.isfinite(radar)
    frac_imerg = neighbourhood_fractions(imerg, valid, threshold=threshold, window=window)
    frac_radar = neighbourhood_fractions(radar, valid, threshold=threshold, window=window)
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {
            "local_fraction_error": (
                dims,
                np.where(valid, frac_imerg - frac_radar, np.nan).astype(np.float32),
                {
                    "units": "1",
                    "long_name": f"IMERG minus radar fraction of rate >= {threshold} mm/h "
                    f"in {window}x{window} cells",
                    "threshold": threshold,
                    "window": window,
                },
            ),
            "abs_error": (
                dims,
                np.where(valid, np.abs(imerg - radar), np.nan).astype(np.float32),
                {"units": "mm/h", "long_name": "absolute difference IMERG - radar"},
            ),
            "mask": (dims, valid, {"long_name": "pixel is scored"}),
        },
        coords={k: pairs[k] for k in ("time", "lat", "lon")},
        attrs={"threshold": float(threshold), "window": int(window)},
    )
