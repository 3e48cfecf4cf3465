"""Per-pixel targets for the U-Net: local fraction error and absolute error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from rainscore.params import dataclass_from_params
from rainscore.scores.neighbourhood import neighbourhood_fractions
from rainscore.scores.table import parse_score_column


@dataclass(frozen=True)
class LocalErrorConfig:
    """``scoring.local_error``: threshold (mm/h) and window (cells) for target scores that
    have none (see :func:`local_error_settings`); ``None`` follows the target."""

    threshold: float | None = None
    window: int | None = None

    @classmethod
    def from_dict(cls, d: dict | None) -> LocalErrorConfig:
        """Build from parameters (unknown keys are an error)."""
        return dataclass_from_params(cls, d, section="scoring.local_error")


def local_error_settings(
    target_score: str, *, threshold: float | None = None, window: int | None = None
) -> tuple[float, int]:
    """Threshold and window of the local errors: those of the target score.

    The U-Net learns the per-pixel version of the map score it is scored by, so the local
    fraction error is taken at the target's threshold and window (``fss_t0.5_w9`` → 0.5 mm/h,
    9 cells). ``threshold``/``window`` are used only where the target has none (``csi_t1.0``
    has no window, ``pearson`` neither); given where the target has one, they must agree.

    Args:
        target_score: Column name of the target score (``scoring.target_score``).
        threshold: Threshold (mm/h) for targets without one.
        window: Odd window (cells) for targets without one.

    Returns:
        ``(threshold, window)``.

    Raises:
        ValueError: If a value is missing, disagrees with the target, or the window is not a
            positive odd integer.
    """
    parsed = parse_score_column(target_score)
    chosen = []
    for name, own, given in (
        ("threshold", parsed.threshold, threshold),
        ("window", parsed.window, window),
    ):
        if own is not None and given is not None and float(own) != float(given):
            raise ValueError(
                f"scoring.local_error.{name} is {given} but the target score {target_score!r} "
                f"has {name} {own}: leave it null to follow the target"
            )
        value = own if own is not None else given
        if value is None:
            raise ValueError(
                f"the target score {target_score!r} has no {name}: set scoring.local_error.{name}"
            )
        chosen.append(value)
    threshold_value, window_value = float(chosen[0]), chosen[1]
    if not np.isfinite(threshold_value) or threshold_value <= 0:
        raise ValueError(f"local error threshold must be a positive rate, got {chosen[0]}")
    if (
        isinstance(window_value, bool)
        or int(window_value) != window_value
        or int(window_value) < 1
        or int(window_value) % 2 == 0
    ):
        raise ValueError(f"local error window must be a positive odd integer, got {window_value}")
    return threshold_value, int(window_value)


def local_error_maps(pairs: xr.Dataset, *, threshold: float, window: int) -> xr.Dataset:
    """Local errors of IMERG against radar at every scoreable pixel.

    ``local_fraction_error`` is the difference of the event fractions (rate ``>=
    threshold``) of IMERG and radar in the ``window × window`` neighbourhood of each pixel,
    fractions taken over valid pixels only (as in the FSS, whose squared mean it is the
    numerator of); ``abs_error`` is ``|imerg − radar|``. Both are NaN outside the scoring
    mask.

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
