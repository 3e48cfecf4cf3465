"""Pair a forecast field with its observation: checks, alignment by name and the validity mask.

Every score function starts here. :func:`pair_fields` checks that ``forecast`` and ``obs`` are
rain-rate DataArrays on identical coordinates, broadcasts the optional boolean ``mask`` to
them by dimension name, and returns a :class:`PairedFields`: plain float64 numpy arrays of
shape ``(n_maps, *sample_shape)`` in which the *map* dimensions (every dimension that is not
reduced, usually ``time``) are stacked into one leading axis. A pixel is **valid** where the
mask is True and both fields are finite; invalid pixels are set to 0 in both arrays so that
sums over a map can be taken without ``nan*`` functions, and every score reads ``valid``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

SPATIAL_DIMS: tuple[str, str] = ("lat", "lon")
"""Names of the two spatial dimensions of a rain map (DESIGN §3)."""

MAPS_PER_CHUNK = 16
"""Maps scored at once: bounds working memory and keeps the arrays of a chunk in cache."""

RAIN_RATE_UNITS = "mm/h"
"""The one spelling of rain-rate units that the thresholds of this package assume."""

__all__ = [
    "RAIN_RATE_UNITS",
    "SPATIAL_DIMS",
    "PairedFields",
    "check_pair",
    "pair_fields",
]


@dataclass(frozen=True)
class PairedFields:
    """A forecast and an observation as aligned numpy arrays, with their validity mask.

    Attributes:
        forecast: float64 array ``(n_maps, *sample_shape)``; 0.0 where not valid.
        obs: float64 array of the same shape; 0.0 where not valid.
        valid: bool array of the same shape: mask True and both fields finite.
        map_dims: Names of the dimensions stacked into the leading axis (e.g. ``("time",)``).
        map_shape: Their sizes (``()`` for a single map).
        map_coords: Coordinates that live on ``map_dims`` only, to label results.
        sample_dims: Names of the reduced dimensions, in array order.
    """

    forecast: np.ndarray
    obs: np.ndarray
    valid: np.ndarray
    map_dims: tuple[Hashable, ...]
    map_shape: tuple[int, ...]
    map_coords: dict[Hashable, xr.Variable]
    sample_dims: tuple[Hashable, ...]

    @property
    def n_maps(self) -> int:
        """Number of maps (product of ``map_shape``)."""
        return self.forecast.shape[0]

    def chunks(self, size: int = MAPS_PER_CHUNK) -> list[slice]:
        """Slices of at most ``size`` maps covering all maps (one empty slice if none)."""
        starts = range(0, max(self.n_maps, 1), size)
        return [slice(i, min(i + size, self.n_maps)) for i in starts]

    def apply(
        self,
        func: Callable[..., dict[str, np.ndarray]],
        *,
        flat: bool = False,
        size: int = MAPS_PER_CHUNK,
        **kwargs: object,
    ) -> dict[str, np.ndarray]:
        """Run ``func(forecast, obs, valid, **kwargs)`` chunk by chunk and join the results.

        Args:
            func: Function of ``(n, ...)`` arrays returning arrays whose first axis is ``n``.
            flat: Pass the samples of each map flattened to one axis.
            size: Maps per chunk.
            **kwargs: Options passed to ``func``.

        Returns:
            The results of all chunks, concatenated along the map axis.
        """
        parts: list[dict[str, np.ndarray]] = []
        for chunk in self.chunks(size):
            arrays = (self.forecast[chunk], self.obs[chunk], self.valid[chunk])
            if flat:
                arrays = tuple(a.reshape(a.shape[0], -1) for a in arrays)
            parts.append(func(*arrays, **kwargs))
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def to_dataarray(
        self,
        values: np.ndarray,
        *,
        extra_dims: tuple[str, ...] = (),
        extra_coords: dict[str, np.ndarray] | None = None,
        attrs: dict[str, str] | None = None,
    ) -> xr.DataArray:
        """Wrap per-map results of shape ``(n_maps, *extra)`` as a labelled DataArray.

        Args:
            values: Array whose first axis runs over the stacked maps.
            extra_dims: Names of the trailing axes (e.g. ``("threshold",)``).
            extra_coords: Coordinate values of the trailing axes.
            attrs: CF-style attributes of the result.

        Returns:
            A DataArray with dims ``(*map_dims, *extra_dims)``.
        """
        shape = self.map_shape + values.shape[1:]
        coords: dict[Hashable, object] = dict(self.map_coords)
        coords.update(extra_coords or {})
        return xr.DataArray(
            values.reshape(shape),
            dims=self.map_dims + tuple(extra_dims),
            coords=coords,
            attrs=dict(attrs or {}),
        )


def _check_units(da: xr.DataArray, name: str) -> None:
    units = da.attrs.get("units")
    if units is not None and units != RAIN_RATE_UNITS:
        raise ValueError(
            f"{name} has units {units!r}; the scores expect rain rates in "
            f"{RAIN_RATE_UNITS!r} (convert first, or drop the 'units' attribute)"
        )


def check_pair(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    reduce_dims: Sequence[Hashable] = SPATIAL_DIMS,
) -> None:
    """Raise if ``forecast``, ``obs`` and ``mask`` cannot be scored together.

    Args:
        forecast: Forecast rain rates (mm/h), e.g. IMERG, dims including ``reduce_dims``.
        obs: Observed rain rates (mm/h), e.g. radar, with the same dims and coordinates.
        mask: Optional boolean array, True where a pixel may be scored; its dims must be a
            subset of the fields' dims.
        reduce_dims: Dimensions the scores reduce over.

    Raises:
        TypeError: An input is not a DataArray, or the mask is not boolean.
        ValueError: Dimensions, coordinates or units do not match, naming the culprit.
    """
    for name, da in (("forecast", forecast), ("obs", obs)):
        if not isinstance(da, xr.DataArray):
            raise TypeError(f"{name} must be an xarray.DataArray, got {type(da).__name__}")
        _check_units(da, name)
    if set(forecast.dims) != set(obs.dims):
        raise ValueError(
            f"forecast and obs must have the same dims, got forecast {forecast.dims} "
            f"and obs {obs.dims}"
        )
    missing = [d for d in reduce_dims if d not in forecast.dims]
    if missing:
        raise ValueError(f"reduce_dims {tuple(reduce_dims)}: {missing} not in forecast dims")
    if len(set(reduce_dims)) != len(tuple(reduce_dims)):
        raise ValueError(f"reduce_dims has duplicates: {tuple(reduce_dims)}")
    try:
        xr.align(forecast, obs, join="exact", copy=False)
    except ValueError as err:
        raise ValueError(f"forecast and obs coordinates differ: {err}") from err
    if mask is None:
        return
    if not isinstance(mask, xr.DataArray):
        raise TypeError(f"mask must be an xarray.DataArray, got {type(mask).__name__}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be boolean (True = scoreable), got dtype {mask.dtype}")
    extra = [d for d in mask.dims if d not in forecast.dims]
    if extra:
        raise ValueError(f"mask dims {mask.dims}: {extra} not in forecast dims {forecast.dims}")
    try:
        xr.align(forecast, mask, join="exact", copy=False)
    except ValueError as err:
        raise ValueError(f"mask and forecast coordinates differ: {err}") from err


def pair_fields(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    reduce_dims: Sequence[Hashable] = SPATIAL_DIMS,
) -> PairedFields:
    """Check, align and stack a forecast/observation pair for scoring.

    Args:
        forecast: Forecast rain rates (mm/h); NaN = missing.
        obs: Observed rain rates (mm/h); NaN = missing.
        mask: Optional boolean mask (True = scoreable), broadcast by dimension name.
        reduce_dims: Dimensions a score reduces over, in the order wanted for the sample axes.

    Returns:
        The paired arrays, maps stacked along the first axis.

    Raises:
        TypeError: See :func:`check_pair`.
        ValueError: See :func:`check_pair`; also if a valid pixel holds a negative rain rate.
    """
    reduce_dims = tuple(reduce_dims)
    check_pair(forecast, obs, mask=mask, reduce_dims=reduce_dims)
    map_dims = tuple(d for d in forecast.dims if d not in reduce_dims)
    order = map_dims + reduce_dims
    forecast = forecast.transpose(*order)
    obs = obs.transpose(*order)
    map_shape = tuple(forecast.sizes[d] for d in map_dims)
    sample_shape = tuple(forecast.sizes[d] for d in reduce_dims)
    shape = (int(np.prod(map_shape, dtype=np.int64)), *sample_shape)

    f = np.asarray(forecast.values, dtype=np.float64).reshape(shape)
    o = np.asarray(obs.values, dtype=np.float64).reshape(shape)
    valid = np.isfinite(f) & np.isfinite(o)
    if mask is not None:
        m = mask.broadcast_like(forecast).transpose(*order).values
        valid &= np.asarray(m, dtype=bool).reshape(shape)
    f = np.where(valid, f, 0.0)
    o = np.where(valid, o, 0.0)
    for name, arr in (("forecast", f), ("obs", o)):
        if arr.size and arr.min() < 0.0:
            n_neg = int(np.count_nonzero(arr < 0.0))
            raise ValueError(
                f"{name} has {n_neg} valid pixels with a negative rain rate "
                f"(min {arr.min():.6g} {RAIN_RATE_UNITS}); rain rates must be >= 0"
            )
    map_coords = {
        name: coord.variable
        for name, coord in forecast.coords.items()
        if set(coord.dims) <= set(map_dims)
    }
    return PairedFields(
        forecast=f,
        obs=o,
        valid=valid,
        map_dims=map_dims,
        map_shape=map_shape,
        map_coords=map_coords,
        sample_dims=reduce_dims,
    )
