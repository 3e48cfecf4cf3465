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

import functools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from xarray.indexes import PandasIndex

from rainscore.units import RATE_UNITS

SPATIAL_DIMS: tuple[str, str] = ("lat", "lon")
"""Names of the two spatial dimensions of a rain map (DESIGN §3)."""

MAPS_PER_CHUNK = 16
"""Maps scored at once: bounds working memory and keeps the arrays of a chunk in cache."""

RAIN_RATE_UNITS = RATE_UNITS
"""The one spelling of rain-rate units that the thresholds of this package assume
(:data:`rainscore.units.RATE_UNITS`)."""

__all__ = [
    "RAIN_RATE_UNITS",
    "SPATIAL_DIMS",
    "PairedFields",
    "apply_in_chunks",
    "are_numpy_fields",
    "assemble_dataset",
    "check_pair",
    "dimension_coordinate",
    "pair_arrays",
    "pair_fields",
    "unstack_maps",
]


@dataclass(frozen=True)
class PairedFields:
    """A forecast and an observation as aligned numpy arrays, with their validity mask.

    Attributes:
        forecast: float64 array ``(n_maps, *sample_shape)``; 0.0 where not valid. Where every
            pixel is valid, a read-only view of the input's values (no copy).
        obs: float64 array of the same shape; 0.0 where not valid (read-only view likewise).
        valid: bool array of the same shape: mask True and both fields finite.
        map_dims: Names of the dimensions stacked into the leading axis (e.g. ``("time",)``).
        map_shape: Their sizes (``()`` for a single map).
        map_coords: Coordinates that live on ``map_dims`` only, to label results.
        map_indexes: The indexes of those coordinates (e.g. ``time``), reused as they are.
        sample_dims: Names of the reduced dimensions, in array order.
    """

    forecast: np.ndarray
    obs: np.ndarray
    valid: np.ndarray
    map_dims: tuple[Hashable, ...]
    map_shape: tuple[int, ...]
    map_coords: dict[Hashable, xr.Variable]
    map_indexes: dict[Hashable, xr.Index]
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
        return apply_in_chunks(
            func, self.forecast, self.obs, self.valid, flat=flat, size=size, **kwargs
        )

    def to_dataset(
        self,
        results: Mapping[str, np.ndarray],
        *,
        extra_coords: Mapping[str, tuple[np.ndarray, str]] | None = None,
        attrs: Mapping[str, Mapping[str, object]] | None = None,
        dataset_attrs: Mapping[str, object] | None = None,
    ) -> xr.Dataset:
        """Label per-map results of shape ``(n_maps, *extra)`` as one Dataset.

        A result with ``k`` trailing axes gets the dims ``(*map_dims, *extra_dims[:k])``,
        ``extra_dims`` being the names of ``extra_coords`` in order. The Dataset holds the
        map coordinates (with their indexes, not rebuilt), the extra coordinates (one index
        each) and the results, in that order: the Dataset that ``xr.Dataset`` would build
        from the same DataArrays, assembled directly because merging them costs more than
        computing a score of a few maps (``tests/scores/test_pairing.py`` checks that both
        are identical and that the Dataset is internally consistent).

        Args:
            results: Arrays whose first axis runs over the stacked maps, by variable name.
            extra_coords: Values and units of the 1-D coordinates of the trailing axes, by
                dimension (e.g. ``{"threshold": (thresholds, "mm/h")}``).
            attrs: Attributes of each result, by name (copied; none if absent).
            dataset_attrs: Attributes of the Dataset (copied).

        Returns:
            The labelled Dataset.
        """
        variables: dict[Hashable, xr.Variable] = {
            name: var.copy(deep=False) for name, var in self.map_coords.items()
        }
        indexes: dict[Hashable, xr.Index] = dict(self.map_indexes)
        sizes = dict(zip(self.map_dims, self.map_shape, strict=True))
        for dim, (values, units) in (extra_coords or {}).items():
            index, coord = dimension_coordinate(dim, values, units)
            indexes[dim] = index
            variables[dim] = coord.copy(deep=False)
            sizes[dim] = coord.size
        coord_names = set(variables)
        extra_dims = tuple(extra_coords or {})
        dims = [self.map_dims + extra_dims[:k] for k in range(len(extra_dims) + 1)]
        reshape = len(self.map_shape) != 1  # one map dim: the arrays have its shape already
        attrs = attrs or {}
        for name, values in results.items():
            variables[name] = xr.Variable(
                dims[values.ndim - 1],
                values.reshape(self.map_shape + values.shape[1:]) if reshape else values,
                dict(attrs[name]) if name in attrs else {},
                fastpath=True,
            )
        return assemble_dataset(variables, coord_names, indexes, dataset_attrs, sizes=sizes)


def apply_in_chunks(
    func: Callable[..., dict[str, np.ndarray]],
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    flat: bool = False,
    size: int = MAPS_PER_CHUNK,
    **kwargs: object,
) -> dict[str, np.ndarray]:
    """Run ``func(forecast, obs, valid, **kwargs)`` chunk by chunk and join the results.

    Args:
        func: Function of ``(n, ...)`` arrays returning arrays whose first axis is ``n``.
        forecast: ``(n_maps, ...)`` forecast rain rates, 0 where invalid.
        obs: Observed rain rates, same shape.
        valid: Validity, same shape.
        flat: Pass the samples of each map flattened to one axis.
        size: Maps per chunk.
        **kwargs: Options passed to ``func``.

    Returns:
        The results of all chunks, concatenated along the map axis.
    """
    n_maps = forecast.shape[0]
    if n_maps <= size:  # one chunk: nothing to join
        arrays = (forecast, obs, valid)
        if flat:
            arrays = tuple(a.reshape(n_maps, -1) for a in arrays)
        return func(*arrays, **kwargs)
    parts: list[dict[str, np.ndarray]] = []
    for start in range(0, n_maps, size):
        chunk = slice(start, start + size)
        arrays = (forecast[chunk], obs[chunk], valid[chunk])
        if flat:
            arrays = tuple(a.reshape(a.shape[0], -1) for a in arrays)
        parts.append(func(*arrays, **kwargs))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


_CONSTRUCT_DIRECT = getattr(xr.Dataset, "_construct_direct", None)
"""xarray's own constructor of a Dataset from consistent variables (private API, see
:func:`assemble_dataset`); None if a future xarray drops it."""


def assemble_dataset(
    variables: dict[Hashable, xr.Variable],
    coord_names: set[Hashable],
    indexes: dict[Hashable, xr.Index],
    attrs: Mapping[str, object] | None = None,
    *,
    sizes: dict[Hashable, int] | None = None,
) -> xr.Dataset:
    """A Dataset of consistent variables, without the merge and alignment of ``xr.Dataset``.

    The caller guarantees what ``xr.Dataset`` would check: dimensions of one size across
    variables, an index for each indexed coordinate, matching its variable (the score
    functions label arrays they have just computed, on coordinates they took from checked
    inputs or from :func:`dimension_coordinate`).

    This is the one use of a private xarray API in the package, on purpose. The public
    constructor (``xr.Dataset(data_vars, coords=xr.Coordinates(coords, indexes))``) merges
    and aligns the variables: about 0.25 ms for a dozen scores, more than pysteps takes to
    score a whole small map, where ``Dataset._construct_direct`` takes about 0.02 ms. It is
    safe: it is the constructor xarray itself uses to return the result of nearly every
    Dataset operation (present, with this signature, since xarray 0.11), and it is given
    exactly what it documents. ``tests/scores/test_pairing.py`` checks that both ways give
    identical, internally consistent Datasets, and should xarray drop the method this falls
    back to the public constructor.

    Args:
        variables: Coordinates and data variables, in the order of the Dataset.
        coord_names: Which of them are coordinates.
        indexes: The index of each indexed coordinate.
        attrs: Attributes of the Dataset (copied).
        sizes: The size of each dimension, if known (else taken from the variables).

    Returns:
        The Dataset.
    """
    if _CONSTRUCT_DIRECT is not None:
        return _CONSTRUCT_DIRECT(
            variables, coord_names, dims=sizes, attrs=dict(attrs or {}), indexes=indexes
        )
    coords = xr.Coordinates(
        {name: variables[name] for name in variables if name in coord_names}, indexes=indexes
    )
    data_vars = {name: var for name, var in variables.items() if name not in coord_names}
    return xr.Dataset(coords=coords, attrs=dict(attrs or {})).assign(data_vars)


def dimension_coordinate(
    dim: str, values: np.ndarray, units: str
) -> tuple[PandasIndex, xr.Variable]:
    """The index and coordinate variable of a dimension of results (thresholds, windows).

    Cached on the exact values (their bytes): score calls label their results with the same
    few thresholds and windows, and building a pandas index costs more than scoring a small
    map. Indexes are immutable; use a shallow copy of the variable (``copy(deep=False)``),
    whose attributes are then its own.

    Args:
        dim: Name of the dimension and of its coordinate.
        values: The 1-D coordinate values.
        units: Their units (the ``units`` attribute).

    Returns:
        The index and the coordinate variable.
    """
    values = np.asarray(values)
    return _cached_coordinate(dim, values.dtype.str, values.tobytes(), units)


@functools.lru_cache(maxsize=64)
def _cached_coordinate(
    dim: str, dtype: str, data: bytes, units: str
) -> tuple[PandasIndex, xr.Variable]:
    values = np.frombuffer(data, dtype=np.dtype(dtype)).copy()
    coord = xr.Variable(dim, values, {"units": units})
    index = PandasIndex.from_variables({dim: coord}, options={})
    return index, index.create_variables({dim: coord})[dim]


def _check_units(da: xr.DataArray, name: str) -> None:
    units = da.attrs.get("units")
    if units is not None and units != RAIN_RATE_UNITS:
        raise ValueError(
            f"{name} has units {units!r}; the scores expect rain rates in "
            f"{RAIN_RATE_UNITS!r} (convert first, or drop the 'units' attribute)"
        )


def _surely_aligned(da: xr.DataArray, other: xr.DataArray) -> bool:
    """True if ``other`` (dims a subset of ``da``'s) has ``da``'s sizes and equal indexes.

    The common case of ``xr.align(da, other, join="exact")`` at a fraction of its cost: the
    same indexes on the coordinates that live on ``other``'s dims, compared with
    :meth:`xarray.Index.equals`. False means only "not surely": align decides.
    """
    dims, other_dims = da.dims, other.dims
    if dims != other_dims or da.shape != other.shape:
        sizes = dict(zip(dims, da.shape, strict=True))
        if any(sizes.get(dim) != size for dim, size in zip(other_dims, other.shape, strict=True)):
            return False
    mine, theirs = da.xindexes, other.xindexes
    on_other = set(other_dims)
    shared = [name for name, var in mine.variables.items() if on_other.issuperset(var.dims)]
    return len(shared) == len(theirs) and all(
        name in theirs and _same_index(mine[name], theirs[name]) for name in shared
    )


def _same_index(a: xr.Index, b: xr.Index) -> bool:
    """``a.equals(b)``, with plain numpy labels compared byte for byte (a fraction of the cost).

    Identical bytes of one dtype are equal labels; anything else (``-0.0`` against ``0.0``)
    is left to :meth:`xarray.Index.equals`.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if type(a) is PandasIndex and isinstance(a.index.dtype, np.dtype):
        mine, theirs = a.index.values, b.index.values
        if a.dim == b.dim and mine.dtype == theirs.dtype and mine.tobytes() == theirs.tobytes():
            return True
    return a.equals(b)


def _check_aligned(da: xr.DataArray, other: xr.DataArray, what: str) -> None:
    if _surely_aligned(da, other):
        return
    try:
        xr.align(da, other, join="exact", copy=False)
    except ValueError as err:
        raise ValueError(f"{what} coordinates differ: {err}") from err


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
    _check_aligned(forecast, obs, "forecast and obs")
    if mask is None:
        return
    if not isinstance(mask, xr.DataArray):
        raise TypeError(f"mask must be an xarray.DataArray, got {type(mask).__name__}")
    if mask.dtype != bool:
        raise TypeError(f"mask must be boolean (True = scoreable), got dtype {mask.dtype}")
    extra = [d for d in mask.dims if d not in forecast.dims]
    if extra:
        raise ValueError(f"mask dims {mask.dims}: {extra} not in forecast dims {forecast.dims}")
    _check_aligned(forecast, mask, "mask and forecast")


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
    if forecast.dims != order:
        forecast = forecast.transpose(*order)
    if obs.dims != order:
        obs = obs.transpose(*order)
    full_shape = forecast.shape
    map_shape = full_shape[: len(map_dims)]
    shape = (math.prod(map_shape), *full_shape[len(map_dims) :])

    f = np.asarray(forecast.values, dtype=np.float64).reshape(shape)
    o = np.asarray(obs.values, dtype=np.float64).reshape(shape)
    mask_values = None if mask is None else _broadcast_mask(mask, order, full_shape)
    f, o, valid = _valid_fields(f, o, mask_values, full_shape)
    on_maps = set(map_dims)
    map_coords = {
        name: var for name, var in forecast.coords.variables.items() if set(var.dims) <= on_maps
    }
    return PairedFields(
        forecast=f,
        obs=o,
        valid=valid,
        map_dims=map_dims,
        map_shape=map_shape,
        map_coords=map_coords,
        map_indexes={name: idx for name, idx in forecast.xindexes.items() if name in map_coords},
        sample_dims=reduce_dims,
    )


def _valid_fields(
    forecast: np.ndarray,
    obs: np.ndarray,
    mask: np.ndarray | None,
    shape: tuple[int, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The validity of each pixel, and both fields with their invalid pixels set to 0.

    A pixel is valid where the mask is True and both fields are finite. Where every pixel is
    valid the fields are returned as read-only views (no copy).

    Args:
        forecast: float64 forecast rain rates.
        obs: float64 observed rain rates, same shape.
        mask: Boolean mask broadcastable to ``shape``, or None.
        shape: The fields' shape as the mask sees it (the same cells, before maps were
            stacked).

    Returns:
        ``forecast``, ``obs`` (0.0 where not valid) and ``valid``.

    Raises:
        ValueError: A valid pixel holds a negative rain rate, naming the field.
    """
    valid = np.isfinite(forecast)
    valid &= np.isfinite(obs)
    if mask is not None:
        valid_full = valid.reshape(shape)
        valid_full &= mask
    if valid.all():  # nothing to zero: read-only views of the inputs, no copy
        forecast, obs = forecast.view(), obs.view()
        forecast.flags.writeable = obs.flags.writeable = False
    else:
        forecast = np.where(valid, forecast, 0.0)
        obs = np.where(valid, obs, 0.0)
    for name, arr in (("forecast", forecast), ("obs", obs)):
        if arr.size and arr.min() < 0.0:
            n_neg = int(np.count_nonzero(arr < 0.0))
            raise ValueError(
                f"{name} has {n_neg} valid pixels with a negative rain rate "
                f"(min {arr.min():.6g} {RAIN_RATE_UNITS}); rain rates must be >= 0"
            )
    return forecast, obs, valid


def are_numpy_fields(forecast: object, obs: object) -> bool:
    """True for two NumPy arrays, False for two DataArrays; TypeError for anything else.

    Args:
        forecast: The forecast given to a score function.
        obs: The observation given with it.

    Returns:
        Whether the fields are plain NumPy arrays.

    Raises:
        TypeError: The two are not both DataArrays or both NumPy arrays.
    """
    if isinstance(forecast, xr.DataArray) and isinstance(obs, xr.DataArray):
        return False
    if type(forecast) is np.ndarray and type(obs) is np.ndarray:
        return True
    raise TypeError(
        "forecast and obs must be both DataArrays or both numpy arrays, got "
        f"{type(forecast).__name__} and {type(obs).__name__}"
    )


def pair_arrays(
    forecast: np.ndarray, obs: np.ndarray, *, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check plain NumPy fields, one map ``(lat, lon)`` or maps ``(map, lat, lon)``.

    The NumPy counterpart of :func:`pair_fields`: the same validity and the same checks of
    the values, without labels (the axes are taken in that order, like pysteps).

    Args:
        forecast: Forecast rain rates (mm/h), 2-D or 3-D; NaN = missing.
        obs: Observed rain rates (mm/h), the same shape; NaN = missing.
        mask: Optional boolean mask (True = scoreable), of the map's shape ``(lat, lon)`` or
            of the fields' shape.

    Returns:
        ``forecast``, ``obs`` (float64, 0.0 where not valid) and ``valid``, each
        ``(n_maps, lat, lon)`` (one map for 2-D fields).

    Raises:
        TypeError: The mask is not a boolean NumPy array.
        ValueError: Shapes do not match, or a valid pixel holds a negative rain rate.
    """
    if forecast.ndim not in (2, 3):
        raise ValueError(
            f"forecast must be 2-D (lat, lon) or 3-D (map, lat, lon), got shape {forecast.shape}"
        )
    if obs.shape != forecast.shape:
        raise ValueError(f"obs has shape {obs.shape} but forecast has {forecast.shape}")
    if mask is not None:
        if type(mask) is not np.ndarray or mask.dtype != bool:
            raise TypeError(
                "mask must be boolean (True = scoreable), got "
                f"{getattr(mask, 'dtype', type(mask).__name__)}"
            )
        if mask.shape not in (forecast.shape, forecast.shape[-2:]):
            raise ValueError(
                f"mask of shape {mask.shape} fits neither the fields {forecast.shape} nor a "
                f"map {forecast.shape[-2:]}"
            )
    shape = forecast.shape if forecast.ndim == 3 else (1, *forecast.shape)
    f = np.asarray(forecast, dtype=np.float64).reshape(shape)
    o = np.asarray(obs, dtype=np.float64).reshape(shape)
    return _valid_fields(f, o, mask, shape)


def unstack_maps(results: dict[str, np.ndarray], one_map: bool) -> dict[str, np.ndarray]:
    """Per-map results of NumPy fields as returned: without the map axis for one 2-D map.

    Args:
        results: Arrays whose first axis runs over the maps.
        one_map: The fields were one 2-D map.

    Returns:
        ``results`` itself, or the first map of each (NumPy scalars for per-map values).
    """
    return {name: values[0] for name, values in results.items()} if one_map else results


def _broadcast_mask(
    mask: xr.DataArray, order: tuple[Hashable, ...], full_shape: tuple[int, ...]
) -> np.ndarray:
    """The mask's values as a read-only view broadcast to ``full_shape`` (dims ``order``)."""
    dims = tuple(d for d in order if d in mask.dims)
    values = mask.values
    if mask.dims != dims:
        values = np.transpose(values, [mask.dims.index(d) for d in dims])
    expanded = [size if d in mask.dims else 1 for d, size in zip(order, full_shape, strict=True)]
    return np.broadcast_to(values.reshape(expanded), full_shape)
