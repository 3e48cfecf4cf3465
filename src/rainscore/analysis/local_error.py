"""Per-pixel targets for the U-Net: local fraction error and absolute error."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rainscore.scores.neighbourhood import neighbourhood_fractions


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
