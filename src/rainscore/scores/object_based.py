"""SAL: structure, amplitude and location of rain objects (Wernli et al. 2008).

For each map, over its valid pixels (invalid pixels count as 0 mm/h and never belong to an
object):

- **Objects** of a field are the 4-connected groups of pixels ``>= R*``, with
  ``R* = threshold_ratio * R95`` and ``R95`` the ``quantile`` (0.95) of the field's wet
  pixels (``>= wet_threshold``), computed separately for each field (Wernli et al. 2009,
  eq. 1; linear interpolation between order statistics, as ``numpy.quantile``). Objects
  smaller than ``min_object_pixels`` are dropped.
- **A** = (D(f) - D(o)) / (0.5 (D(f) + D(o))), D the domain mean over the valid pixels.
- **S** = (V(f) - V(o)) / (0.5 (V(f) + V(o))), with the scaled volume
  V = sum_n R_n V_n / sum_n R_n, V_n = R_n / max_n, R_n the rain sum of object n and
  max_n its maximum. A field without objects has V = 0 (S = +-2 against one with objects).
- **L** = L1 + L2. L1 = |x(f) - x(o)| / d with x the centre of mass of the whole field;
  L2 = 2 |r(f) - r(o)| / d with r = sum_n R_n |x_n - x| / sum_n R_n, x_n the
  intensity-weighted centroid of object n. Distances are in grid cells and ``d`` is the
  diagonal of the bounding box of the valid pixels, ``sqrt(ny^2 + nx^2)`` cells for a map
  with no missing data (as pysteps). L2, hence L, is NaN if a field has no object.

Maps where both fields are dry (no pixel ``>= wet_threshold``) get NaN for S, A and L.

Objects of all maps are labelled at once with :func:`scipy.ndimage.label` on the stack of
maps, with a 3-D structure that does not connect across maps; object statistics come from
``numpy.bincount``: no Python loop over maps or objects.

References:
    Wernli, H., Paulat, M., Hagen, M. and Frei, C. (2008). SAL - a novel quality measure for
    the verification of quantitative precipitation forecasts. *Mon. Wea. Rev.* 136,
    4470-4487, doi:10.1175/2008MWR2415.1.

    Wernli, H., Hofmann, C. and Zimmer, M. (2009). Spatial forecast verification methods
    intercomparison project: application of the SAL technique. *Wea. Forecasting* 24,
    1472-1484, doi:10.1175/2009WAF2222271.1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from rainscore.scores.pairing import SPATIAL_DIMS, pair_fields
from rainscore.scores.wetness import Dryness, dryness

__all__ = ["SAL_SCORES", "sal"]

SAL_SCORES: dict[str, dict[str, str]] = {
    "structure": {"long_name": "SAL structure component S", "units": "1"},
    "amplitude": {"long_name": "SAL amplitude component A", "units": "1"},
    "location": {"long_name": "SAL location component L = L1 + L2", "units": "1"},
    "location_l1": {"long_name": "SAL location, centre-of-mass term L1", "units": "1"},
    "location_l2": {"long_name": "SAL location, object-scatter term L2", "units": "1"},
    "n_objects_forecast": {"long_name": "number of forecast objects", "units": "1"},
    "n_objects_obs": {"long_name": "number of observed objects", "units": "1"},
    "object_threshold_forecast": {"long_name": "forecast object threshold R*", "units": "mm/h"},
    "object_threshold_obs": {"long_name": "observed object threshold R*", "units": "mm/h"},
}
"""Names and attributes of the SAL outputs."""

# 4-connectivity inside a map, no connection between consecutive maps of the stack.
_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
_STRUCTURE[1] = ndimage.generate_binary_structure(2, 1)


def _row_quantile(values: np.ndarray, selected: np.ndarray, q: float) -> np.ndarray:
    """``numpy.quantile`` (linear method) of the selected values of each row; NaN if none.

    Only the two order statistics around the quantile are needed: they come from a partial
    sort (:func:`numpy.partition`) of each row's selected values.
    """
    out = np.full(values.shape[0], np.nan)
    for i, (row, chosen) in enumerate(zip(values, selected, strict=True)):
        sample = row[chosen]
        if sample.size == 0:
            continue
        position = q * (sample.size - 1)
        lower = int(np.floor(position))
        upper = min(lower + 1, sample.size - 1)
        ordered = np.partition(sample, (lower, upper))
        a, b = ordered[lower], ordered[upper]
        t = position - lower
        out[i] = b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t
    return out


@dataclass(frozen=True)
class _FieldObjects:
    """Per-map object statistics of a stack of fields (arrays of shape ``(n_maps,)``)."""

    threshold: np.ndarray
    n_objects: np.ndarray
    scaled_volume: np.ndarray
    scatter: np.ndarray


def _objects(
    fields: np.ndarray,
    valid: np.ndarray,
    centre_y: np.ndarray,
    centre_x: np.ndarray,
    *,
    wet_threshold: float,
    threshold_ratio: float,
    quantile: float,
    min_object_pixels: int,
) -> _FieldObjects:
    """Label the objects of ``(m, ny, nx)`` fields and reduce them to per-map statistics."""
    m, ny, nx = fields.shape
    flat = fields.reshape(m, -1)
    wet = (valid & (fields >= wet_threshold)).reshape(m, -1)
    threshold = threshold_ratio * _row_quantile(flat, wet, quantile)
    with np.errstate(invalid="ignore"):
        inside = valid & (fields > 0.0) & (fields >= threshold[:, None, None])
    labels, n_labels = ndimage.label(inside, structure=_STRUCTURE)
    labels = labels.ravel()
    index = np.flatnonzero(labels)
    label = labels[index]
    rain = fields.ravel()[index]
    pixel = index % (ny * nx)
    y, x = np.divmod(pixel, nx)

    size = np.bincount(label, minlength=n_labels + 1)[1:]
    total = np.bincount(label, weights=rain, minlength=n_labels + 1)[1:]
    peak = np.zeros(n_labels + 1)
    np.maximum.at(peak, label, rain)
    peak = peak[1:]
    sum_y = np.bincount(label, weights=rain * y, minlength=n_labels + 1)[1:]
    sum_x = np.bincount(label, weights=rain * x, minlength=n_labels + 1)[1:]
    owner = np.zeros(n_labels + 1, dtype=np.int64)
    owner[label] = index // (ny * nx)
    owner = owner[1:]

    keep = size >= min_object_pixels
    owner, total, peak = owner[keep], total[keep], peak[keep]
    distance = np.hypot(
        sum_y[keep] / total - centre_y[owner], sum_x[keep] / total - centre_x[owner]
    )
    n_objects = np.bincount(owner, minlength=m)
    rain_in_objects = np.bincount(owner, weights=total, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        volume = np.bincount(owner, weights=total * total / peak, minlength=m)
        scaled_volume = np.where(n_objects > 0, volume / rain_in_objects, 0.0)
        scatter = np.bincount(owner, weights=total * distance, minlength=m) / rain_in_objects
    return _FieldObjects(threshold, n_objects, scaled_volume, scatter)


def _normalised_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a - b) / (0.5 * (a + b))


def sal_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    wet_threshold: float,
    threshold_ratio: float,
    quantile: float,
    min_object_pixels: int,
    dry: Dryness | None = None,
) -> dict[str, np.ndarray]:
    """SAL of ``(n_maps, ny, nx)`` arrays; see :func:`sal`.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        threshold_ratio: Object threshold as a fraction of the wet-pixel quantile.
        quantile: Quantile of the wet pixels that sets the object threshold.
        min_object_pixels: Smallest object kept, in pixels.
        dry: The :func:`~rainscore.scores.wetness.dryness` of these arrays, if known.

    Returns:
        Arrays of shape ``(n_maps,)`` keyed as :data:`SAL_SCORES`, plus ``n_valid`` and
        ``both_dry``.
    """
    n, ny, nx = forecast.shape
    fields = np.concatenate([forecast, obs])
    valid2 = np.concatenate([valid, valid])
    flat = fields.reshape(2 * n, -1)
    mass = flat.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre_y = fields.sum(axis=2) @ np.arange(ny, dtype=np.float64) / mass
        centre_x = fields.sum(axis=1) @ np.arange(nx, dtype=np.float64) / mass
    objects = _objects(
        fields,
        valid2,
        centre_y,
        centre_x,
        wet_threshold=wet_threshold,
        threshold_ratio=threshold_ratio,
        quantile=quantile,
        min_object_pixels=min_object_pixels,
    )

    rows = valid.any(axis=2)
    cols = valid.any(axis=1)
    height = ny - np.argmax(rows[:, ::-1], axis=1) - np.argmax(rows, axis=1)
    width = nx - np.argmax(cols[:, ::-1], axis=1) - np.argmax(cols, axis=1)
    diagonal = np.where(rows.any(axis=1), np.hypot(height, width), np.nan)

    if dry is None:
        dry = dryness(forecast, obs, valid, wet_threshold=wet_threshold)
    with np.errstate(invalid="ignore", divide="ignore"):
        domain_mean = mass / np.concatenate([dry.n_valid, dry.n_valid])
        l1 = np.hypot(centre_y[:n] - centre_y[n:], centre_x[:n] - centre_x[n:]) / diagonal
        l2 = 2.0 * np.abs(objects.scatter[:n] - objects.scatter[n:]) / diagonal
    out = {
        "structure": _normalised_difference(objects.scaled_volume[:n], objects.scaled_volume[n:]),
        "amplitude": _normalised_difference(domain_mean[:n], domain_mean[n:]),
        "location": l1 + l2,
        "location_l1": l1,
        "location_l2": l2,
    }
    out = {k: np.where(dry.no_wet_pixel, np.nan, v) for k, v in out.items()}
    out.update(
        n_objects_forecast=objects.n_objects[:n],
        n_objects_obs=objects.n_objects[n:],
        object_threshold_forecast=objects.threshold[:n],
        object_threshold_obs=objects.threshold[n:],
        n_valid=dry.n_valid,
        both_dry=dry.both_dry,
    )
    return out


def check_sal_options(threshold_ratio: float, quantile: float, min_object_pixels: int) -> None:
    """Raise unless the SAL options are in range.

    Args:
        threshold_ratio: Must be > 0.
        quantile: Must be in (0, 1].
        min_object_pixels: Must be an integer >= 1.

    Raises:
        ValueError: An option is out of range (named in the message).
    """
    if not threshold_ratio > 0:
        raise ValueError(f"threshold_ratio must be > 0, got {threshold_ratio}")
    if not 0.0 < quantile <= 1.0:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}")
    if int(min_object_pixels) != min_object_pixels or min_object_pixels < 1:
        raise ValueError(f"min_object_pixels must be an integer >= 1, got {min_object_pixels}")


def sal(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    threshold_ratio: float = 1.0 / 15.0,
    quantile: float = 0.95,
    min_object_pixels: int = 1,
    wet_threshold: float = 0.1,
) -> xr.Dataset:
    """Structure, amplitude and location components of SAL for each map.

    See the module docstring for the definitions. S and A lie in [-2, 2], L in [0, 2];
    0 is perfect for all three. Positive S: forecast objects too large or too flat;
    positive A: too much rain; L: displacement of the rain mass and of the objects.

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(..., lat, lon)``; NaN = missing.
        obs: Observed rain rates (mm/h), same dims and coordinates; NaN = missing.
        mask: Optional boolean mask (True = scoreable).
        threshold_ratio: Object threshold ``R* = threshold_ratio * R95`` (1/15 in Wernli
            et al. 2008, 2009).
        quantile: Quantile of the wet pixels giving ``R95``.
        min_object_pixels: Objects with fewer pixels are dropped (1 keeps all, as in the
            original method; pysteps always drops objects under 50 pixels).
        wet_threshold: Rain rate (mm/h) from which a pixel is wet: sets which pixels enter
            ``R95`` and flags both-dry maps.

    Returns:
        Dataset over the map dims with ``structure``, ``amplitude``, ``location``,
        ``location_l1``, ``location_l2``, ``n_objects_forecast``, ``n_objects_obs``,
        ``object_threshold_forecast``, ``object_threshold_obs``, ``n_valid``, ``both_dry``.

    Raises:
        TypeError: Inputs are not DataArrays, or the mask is not boolean.
        ValueError: Bad options, mismatched inputs, or negative rain rates.

    References:
        Wernli, H., Paulat, M., Hagen, M. and Frei, C. (2008), *Mon. Wea. Rev.* 136,
        4470-4487, doi:10.1175/2008MWR2415.1.
    """
    check_sal_options(threshold_ratio, quantile, min_object_pixels)
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=SPATIAL_DIMS)
    arrays = pair.apply(
        sal_arrays,
        wet_threshold=wet_threshold,
        threshold_ratio=threshold_ratio,
        quantile=quantile,
        min_object_pixels=int(min_object_pixels),
    )
    return pair.to_dataset(
        arrays,
        attrs=SAL_SCORES,
        dataset_attrs={
            "threshold_ratio": threshold_ratio,
            "quantile": quantile,
            "min_object_pixels": int(min_object_pixels),
            "wet_threshold": wet_threshold,
            "distance_units": "grid cells",
        },
    )
