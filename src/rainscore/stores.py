"""Chunked, appendable time stores: Zarr v3 through xarray, written block by block.

The large gridded datasets (the IMERG cube, radar on the IMERG grid, the colocated pairs,
the local error maps) are ``(time, lat, lon)`` variables that grow with the period. A store
holds them on disk chunked along ``time`` and grouped in shards, so that

- a writer appends one block of half hours at a time (:func:`append_blocks`) and never
  holds the period in memory;
- a reader opens the store lazily (:func:`open_store`, dask chunks of one shard) or reads
  single maps by time index (:class:`MapReader`, for training on shuffled maps);
- writers in other processes (Dask workers) fill the regions of a store created with its
  time axis (:func:`create_store`, then :func:`write_region` per block of whole shards);
- data that knows how to write itself (a :class:`StoreWriter`, such as
  :class:`StoreUpdate`: the time steps of the previous version kept, then new blocks) is
  handed the folder to write.

Layout of a store (see :class:`StoreLayout`): every variable with a ``time`` dimension is
chunked ``time_chunk`` steps by the full extent of its other dimensions, and chunks are
grouped ``time_shard`` steps to a shard file (one file per shard and variable), compressed
with LZ4 (Blosc). Coordinates are written whole; ``time`` is stored as int64 seconds since
1970-01-01, in chunks of a year, so that appends never change its encoding.

This module is the domain half (no Kedro); ``rainscore.datasets.XarrayZarrDataset`` adds
versions and atomic saves on top.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import dask.array
import numcodecs.blosc
import numpy as np
import xarray as xr
import zarr
from numcodecs.blosc import decompress as blosc_decompress
from numcodecs.zstd import decompress as zstd_decompress
from zarr.codecs import BloscCodec, ZstdCodec

logger = logging.getLogger(__name__)

TIME = "time"
_TIME_ENCODING = {"units": "seconds since 1970-01-01", "dtype": "int64", "chunks": (17_520,)}


_COMPRESSORS: dict[str | None, Callable[[], tuple[Any, ...]]] = {
    "lz4": lambda: (BloscCodec(cname="lz4", clevel=5, shuffle="shuffle"),),
    "zstd": lambda: (ZstdCodec(level=0),),
    None: lambda: (),
}


@dataclass(frozen=True)
class StoreLayout:
    """How a store is chunked and compressed along time.

    Attributes:
        time_chunk: Time steps per chunk, the unit a reader decompresses; 1 (the default)
            makes a random read of one map read one map.
        time_shard: Time steps per shard file (a multiple of ``time_chunk``), ``None`` for
            one file per chunk. The default, 48 (a day of half hours), keeps the file count
            at one per variable and day.
        compressor: ``"lz4"`` (the default: Blosc LZ4 with byte shuffle, fast to read),
            ``"zstd"`` (Zstandard: about 0.6× the size on disk, 2.4× the time to read a
            map) or ``None`` (uncompressed: 2× the size, 1.5× faster to read);
            ``benchmarks/bench_random_reads.py`` measures them.
    """

    time_chunk: int = 1
    time_shard: int | None = 48
    compressor: str | None = "lz4"

    def __post_init__(self) -> None:
        if self.time_chunk < 1:
            raise ValueError(f"StoreLayout: time_chunk must be ≥ 1, got {self.time_chunk}")
        if self.time_shard is not None and (
            self.time_shard < self.time_chunk or self.time_shard % self.time_chunk
        ):
            raise ValueError(
                f"StoreLayout: time_shard ({self.time_shard}) must be a multiple of "
                f"time_chunk ({self.time_chunk})"
            )
        if self.compressor not in _COMPRESSORS:
            raise ValueError(
                f"StoreLayout: compressor {self.compressor!r} is not one of {list(_COMPRESSORS)}"
            )

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> StoreLayout:
        """Parse ``{"time_chunk": …, "time_shard": …, "compressor": …}`` (all optional)."""
        params = dict(params or {})
        unknown = sorted(set(params) - {"time_chunk", "time_shard", "compressor"})
        if unknown:
            raise ValueError(f"StoreLayout: unknown keys {unknown}")
        return cls(**params)

    def encoding(self, ds: xr.Dataset) -> dict[str, dict[str, Any]]:
        """The ``to_zarr`` encoding of ``ds``'s variables under this layout."""
        encoding: dict[str, dict[str, Any]] = {}
        for name, var in ds.variables.items():
            if name == TIME:
                encoding[name] = dict(_TIME_ENCODING)
                continue
            enc: dict[str, Any] = {"compressors": _COMPRESSORS[self.compressor]()}
            if TIME in var.dims and var.ndim > 1:
                enc["chunks"] = tuple(
                    self.time_chunk if d == TIME else var.sizes[d] for d in var.dims
                )
                if self.time_shard is not None:
                    enc["shards"] = tuple(
                        self.time_shard if d == TIME else var.sizes[d] for d in var.dims
                    )
            elif TIME in var.dims:
                enc["chunks"] = (self.time_shard or self.time_chunk,)
            encoding[str(name)] = enc
        return encoding


def safe_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """Attributes as netCDF would store them: mappings and lists of strings as JSON,
    booleans as ints, ``None`` dropped (so a store and its netCDF export agree)."""
    safe: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, bool | np.bool_):
            safe[key] = int(value)
        elif isinstance(value, dict) or (
            isinstance(value, list | tuple) and any(isinstance(v, str | dict) for v in value)
        ):
            safe[key] = json.dumps(value, default=str)
        else:
            safe[key] = value
    return safe


@dataclass(frozen=True)
class _Schema:
    """What every block of a store must share: variables, dims, dtypes, fixed coords."""

    variables: dict[str, tuple[tuple[str, ...], np.dtype]]
    fixed_coords: dict[str, np.ndarray]
    attrs: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, ds: xr.Dataset) -> _Schema:
        return cls(
            variables={
                str(n): (tuple(map(str, v.dims)), v.dtype)
                for n, v in ds.variables.items()
                if n != TIME
            },
            fixed_coords={
                str(n): np.asarray(c.values) for n, c in ds.coords.items() if TIME not in c.dims
            },
            attrs={"": dict(ds.attrs)} | {str(n): dict(v.attrs) for n, v in ds.variables.items()},
        )

    def check(self, block: xr.Dataset, where: str) -> None:
        """Raise ``ValueError`` naming ``where`` if ``block`` does not fit this schema."""
        other = _Schema.of(block)
        if set(other.variables) != set(self.variables):
            missing = sorted(set(self.variables) - set(other.variables))
            extra = sorted(set(other.variables) - set(self.variables))
            raise ValueError(f"{where}: variables differ (missing {missing}, unexpected {extra})")
        for name, (dims, dtype) in self.variables.items():
            if other.variables[name] != (dims, dtype):
                got_dims, got_dtype = other.variables[name]
                raise ValueError(
                    f"{where}: variable {name!r} has dims {got_dims} and dtype {got_dtype}, "
                    f"expected {dims} and {dtype}"
                )
        for name, values in self.fixed_coords.items():
            if not np.array_equal(values, other.fixed_coords[name], equal_nan=True):
                raise ValueError(f"{where}: coordinate {name!r} differs from the store's")


def _as_dataset(block: xr.Dataset | xr.DataArray, where: str) -> xr.Dataset:
    if isinstance(block, xr.DataArray):
        if block.name is None:
            raise ValueError(f"{where}: a DataArray block needs a name")
        ds = block.to_dataset()
        ds.attrs = dict(block.attrs)
        return ds
    if isinstance(block, xr.Dataset):
        return block
    raise TypeError(f"{where}: expected an xarray Dataset, got {type(block).__name__}")


def _prepared(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy with netCDF-safe attrs and no encodings inherited from a source file."""
    ds = ds.copy(deep=False)
    ds.attrs = safe_attrs(ds.attrs)
    for var in ds.variables.values():
        var.attrs = safe_attrs(var.attrs)
        var.encoding = {}
    return ds


def _times(ds: xr.Dataset, where: str) -> np.ndarray:
    if TIME not in ds.dims or TIME not in ds.coords:
        raise ValueError(f"{where}: no {TIME!r} dimension coordinate")
    times = ds[TIME].values
    if times.size > 1 and not (np.diff(times) > np.timedelta64(0)).all():
        raise ValueError(f"{where}: times are not strictly increasing")
    return times


def append_blocks(
    path: str | os.PathLike,
    blocks: xr.Dataset | xr.DataArray | Iterable[xr.Dataset | xr.DataArray],
    *,
    layout: StoreLayout | None = None,
    attrs: dict[str, Any] | None = None,
) -> int:
    """Append time blocks to the store at ``path``, creating it from the first if absent.

    Blocks are written one by one as the iterable yields them, so a generator of blocks is
    stored holding one block in memory at a time (a dask-backed block is computed when it
    is written). Every block must have the variables, dims, dtypes and non-time coordinates
    of the store, and times strictly after the store's last time.

    Args:
        path: Folder of the Zarr store.
        blocks: Datasets (or named DataArrays) along ``time``, in time order; a single
            dataset is appended whole, or a shard at a time if dask-backed.
        layout: Chunking of a new store (the default :class:`StoreLayout`); an existing
            store keeps its own.
        attrs: Extra dataset attributes of a new store (merged over the first block's).

    Returns:
        The number of time steps appended.

    Raises:
        ValueError: A block without ``time``, out of time order, or unlike the store
            (the message names the store and the block's index).
    """
    path = Path(path)
    layout = layout or StoreLayout()
    if isinstance(blocks, xr.Dataset | xr.DataArray):
        whole = _as_dataset(blocks, f"store {path}")
        # In memory already: one write. Dask-backed: computed and written a shard at a time.
        size = (
            (layout.time_shard or layout.time_chunk) if whole.chunks else whole.sizes.get(TIME, 1)
        )
        blocks = time_blocks(whole, max(size, 1))
    schema: _Schema | None = None
    last: np.datetime64 | None = None
    if (path / "zarr.json").is_file():
        with xr.open_zarr(path, consolidated=False, chunks=None) as existing:
            schema = _Schema.of(existing)
            last = existing[TIME].values[-1] if existing.sizes[TIME] else None
    appended = 0
    for index, block in enumerate(blocks):
        where = f"store {path}, block {index}"
        ds = _prepared(_as_dataset(block, where))
        times = _times(ds, where)
        if times.size == 0:
            continue
        if last is not None and times[0] <= last:
            raise ValueError(
                f"{where}: starts at {times[0]}, not after the store's last time {last}"
                " (blocks must be in strictly increasing time order)"
            )
        if schema is None:
            ds.attrs.update(safe_attrs(attrs or {}))
            ds.load().to_zarr(
                path,
                mode="w-",
                zarr_format=3,
                consolidated=False,
                encoding=layout.encoding(ds),
            )
            schema = _Schema.of(ds)
        else:
            schema.check(ds, where)
            # The store keeps the attributes it was created with (an append rewrites them).
            ds.attrs = schema.attrs[""]
            for name, var in ds.variables.items():
                var.attrs = schema.attrs[str(name)]
            ds.drop_vars(list(schema.fixed_coords)).load().to_zarr(
                path, mode="a", append_dim=TIME, zarr_format=3, consolidated=False
            )
        last = times[-1]
        appended += times.size
        logger.debug("Appended %d time steps to %s (to %s)", times.size, path, last)
    return appended


def write_store(
    path: str | os.PathLike,
    data: xr.Dataset | xr.DataArray | Iterable[xr.Dataset | xr.DataArray],
    *,
    layout: StoreLayout | None = None,
    attrs: dict[str, Any] | None = None,
) -> int:
    """Write a new store at ``path`` from a dataset or from an iterable of time blocks.

    A dask-backed dataset is written in blocks of one shard (``layout.time_shard`` steps,
    or ``time_chunk``), each computed and written in turn: it is stored with the memory of
    one block, however long its period.

    Args:
        path: Folder of the new store (must not exist).
        data: A dataset (or named DataArray), or an iterable of them along ``time``.
        layout: Chunking (the default :class:`StoreLayout`).
        attrs: Extra dataset attributes (merged over the data's).

    Returns:
        The number of time steps written.

    Raises:
        FileExistsError: ``path`` exists.
        ValueError: No time steps to write, or blocks as for :func:`append_blocks`.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"write_store: {path} exists")
    n = append_blocks(path, data, layout=layout, attrs=attrs)
    if n == 0:
        raise ValueError(f"write_store: no time steps to write to {path}")
    return n


def time_blocks(ds: xr.Dataset, size: int) -> Iterator[xr.Dataset]:
    """``ds`` in consecutive blocks of ``size`` time steps (views; nothing is loaded)."""
    for start in range(0, ds.sizes[TIME], size):
        yield ds.isel({TIME: slice(start, start + size)})


def time_unit(layout: StoreLayout) -> int:
    """Time steps per file of a store's time-dependent arrays (a shard, or a chunk when
    unsharded): writers of different processes must each write whole units."""
    return layout.time_shard or layout.time_chunk


def create_store(
    path: str | os.PathLike,
    like: xr.Dataset | xr.DataArray,
    times: np.ndarray,
    *,
    layout: StoreLayout | None = None,
    attrs: dict[str, Any] | None = None,
) -> None:
    """Create a store over the time axis ``times`` holding no data yet.

    The store has the variables of ``like`` (one block of it: names, dims, dtypes,
    attributes and non-time coordinates), with the coordinates and the variables without
    ``time`` written (they are ``like``'s, the same in every block); :func:`write_region`
    then writes each block into its region, from any process that sees the folder. Nothing
    of the period is held: the variables are described, not allocated.

    Args:
        path: Folder of the new store (must not exist).
        like: A block of the data (any time steps).
        times: The whole time axis, strictly increasing.
        layout: Chunking (the default :class:`StoreLayout`).
        attrs: Extra dataset attributes (merged over ``like``'s).

    Raises:
        FileExistsError: ``path`` exists.
        ValueError: ``like`` without ``time``, or ``times`` empty or not increasing.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"create_store: {path} exists")
    layout = layout or StoreLayout()
    like = _prepared(_as_dataset(like, f"store {path}"))
    _times(like, f"store {path}")
    times = np.asarray(times, dtype="datetime64[ns]")
    if times.size == 0 or (np.diff(times) <= np.timedelta64(0)).any():
        raise ValueError(f"create_store({path}): times must be non-empty and increasing")
    unit = time_unit(layout)
    variables: dict[Any, Any] = {}
    for name, var in like.data_vars.items():
        if TIME not in var.dims:  # written now, like the coordinates
            variables[name] = var
            continue
        shape = tuple(times.size if d == TIME else var.sizes[d] for d in var.dims)
        chunks = tuple(unit if d == TIME else var.sizes[d] for d in var.dims)
        data = dask.array.zeros(shape, dtype=var.dtype, chunks=chunks)
        variables[name] = (var.dims, data, var.attrs)
    template = xr.Dataset(
        variables,
        coords={
            TIME: (TIME, times, like[TIME].attrs),
            **{n: c for n, c in like.coords.items() if TIME not in c.dims},
        },
        attrs={**like.attrs, **safe_attrs(attrs or {})},
    )
    # compute=False writes the metadata and the coordinates, not the (dask) variables.
    template.to_zarr(
        path,
        mode="w-",
        compute=False,
        zarr_format=3,
        consolidated=False,
        encoding=layout.encoding(template),
    )


def write_region(path: str | os.PathLike, block: xr.Dataset | xr.DataArray) -> int:
    """Write ``block`` into its time region of the store at ``path`` (:func:`create_store`).

    Only the block's variables along ``time`` are written, never the coordinates, the
    variables without ``time`` or the metadata, so
    blocks of different processes can be written at once provided that each covers whole
    time units (shards; the last one may end with the store): two writers of the same
    shard would each rewrite it whole, and one would lose the other's steps.

    Args:
        path: Folder of the store.
        block: Time steps of the store's axis, consecutive, with its variables.

    Returns:
        The number of time steps written.

    Raises:
        ValueError: A block unlike the store, whose times are not a run of the store's, or
            whose region does not cover whole time units (the message names the store).
    """
    path = Path(path)
    where = f"store {path}, region"
    ds = _prepared(_as_dataset(block, where))
    times = _times(ds, where)
    if times.size == 0:
        return 0
    with xr.open_zarr(path, consolidated=False, chunks=None) as store:
        _Schema.of(store).check(ds, where)
        axis = store[TIME].values
        fixed = [str(n) for n, v in store.variables.items() if TIME not in v.dims]
        unit = _time_read_unit(path)
    start = int(np.searchsorted(axis, times[0]))
    stop = start + times.size
    if stop > axis.size or not np.array_equal(axis[start:stop], times):
        raise ValueError(f"{where}: times {times[0]} … {times[-1]} are not a run of its axis")
    if start % unit or (stop % unit and stop != axis.size):
        raise ValueError(
            f"{where}: steps {start}–{stop} do not cover whole time units of {unit} steps"
        )
    ds.drop_vars([TIME, *fixed]).load().to_zarr(
        path, region={TIME: slice(start, stop)}, mode="r+", zarr_format=3, consolidated=False
    )
    logger.debug("Wrote time steps %d–%d of %s", start, stop, path)
    return times.size


def truncate_store(path: str | os.PathLike, before: np.datetime64) -> int:
    """Cut the store at ``path`` to its time steps before ``before``, in place.

    Shards wholly after the cut are deleted; the shard that holds it is rewritten only when
    a later write fills it (files are replaced, never written into: a hard-linked copy,
    :func:`copy_store`, leaves its source intact).

    Returns:
        The number of time steps kept.
    """
    path = Path(path)
    with xr.open_zarr(path, consolidated=False, chunks=None) as store:
        keep = int(np.searchsorted(store[TIME].values, np.datetime64(before, "ns")))
    group = zarr.open_group(path, mode="r+", zarr_format=3)
    for _, array in group.arrays():
        names = array.metadata.dimension_names or ()
        if TIME in names:
            shape = list(array.shape)
            shape[names.index(TIME)] = keep
            array.resize(tuple(shape))
    return keep


@runtime_checkable
class StoreWriter(Protocol):
    """Data that writes itself into a new store folder.

    ``rainscore.datasets.XarrayZarrDataset.save`` hands such an object its temporary folder
    (and renames it when the object returns) instead of appending blocks itself: data
    computed where it is written (blocks written by the Dask workers that compute them) or
    that reuses the previous version (:class:`StoreUpdate`).
    """

    def write_store(self, path: Path, *, layout: StoreLayout, previous: Path | None) -> int:
        """Write the store at ``path`` (a folder that does not exist yet).

        Args:
            path: The folder to create.
            layout: The dataset's chunking.
            previous: The dataset's latest version when it appends
                (``append_from_previous``), else ``None``.

        Returns:
            The number of time steps written.
        """
        ...


@dataclass(frozen=True)
class StoreUpdate:
    """A new version: the previous version's time steps before ``start``, then ``data``.

    With a previous version the new one starts as a hard-link copy of it
    (:func:`copy_store`), cut before ``start`` (:func:`truncate_store`: the steps that are
    recomputed), and ``data`` is appended: only the recomputed steps are written. Without
    one (or with ``start=None``), ``data`` alone is written.

    Attributes:
        data: A dataset or an iterable of time blocks, from ``start`` on.
        start: The first time step of ``data``; ``None`` when nothing is kept.
    """

    data: xr.Dataset | xr.DataArray | Iterable[xr.Dataset | xr.DataArray]
    start: np.datetime64 | None

    def write_store(self, path: Path, *, layout: StoreLayout, previous: Path | None) -> int:
        """Write the new version at ``path`` (see the class)."""
        if previous is None or self.start is None:
            return write_store(path, self.data, layout=layout)
        copy_store(previous, path)
        kept = truncate_store(path, self.start)
        added = append_blocks(path, self.data, layout=layout)
        logger.info(
            "Store %s: %d time steps kept from %s, %d written from %s",
            path,
            kept,
            previous,
            added,
            self.start,
        )
        return kept + added


def open_store(path: str | os.PathLike, **kwargs: Any) -> xr.Dataset:
    """Open the store at ``path`` lazily: dask chunks of one shard along time.

    Args:
        path: Folder of the store.
        **kwargs: Passed to ``xr.open_zarr`` (e.g. ``chunks=None`` for lazy arrays without
            dask, ``chunks={"time": 1}`` for one dask chunk per map).

    Returns:
        The dataset, nothing read but the coordinates.
    """
    path = Path(path)
    if "chunks" not in kwargs:
        kwargs["chunks"] = {TIME: _time_read_unit(path)}
    return xr.open_zarr(path, consolidated=False, **kwargs)


def _time_read_unit(path: Path) -> int:
    """Time steps per shard (or per chunk, unsharded) of the store's first gridded array."""
    group = zarr.open_group(path, mode="r", zarr_format=3)
    for _, array in sorted(group.arrays()):
        names = array.metadata.dimension_names or ()
        if TIME in names and array.ndim > 1:
            axis = names.index(TIME)
            return int((array.shards or array.chunks)[axis])
    return _TIME_ENCODING["chunks"][0]


def store_nbytes(path: str | os.PathLike) -> int:
    """Bytes on disk of every file under the store ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def copy_store(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy the store ``source`` to the new folder ``target`` by hard links where possible.

    Zarr's local store rewrites a file by writing a new one and renaming it over the old,
    never in place: appending to the copy leaves ``source`` untouched while sharing the
    unchanged shards (an incremental run costs the new half hours, not the period). Files
    are copied instead when the two folders are on different file systems.
    """
    source, target = Path(source), Path(target)
    for folder, _, files in os.walk(source):
        out = target / Path(folder).relative_to(source)
        out.mkdir(parents=True, exist_ok=False)
        for name in files:
            try:
                os.link(Path(folder) / name, out / name)
            except OSError:
                shutil.copy2(Path(folder) / name, out / name)


class MapReader:
    """All variables of one time step by time index, for random (shuffled) reads.

    Reading one map through zarr-python costs a round trip to its event loop thread per
    array (hundreds of maps per second at best); this reader reads the store's files
    itself, as the Zarr v3 specification lays them out: for the layouts of
    :class:`StoreLayout` (a time chunk spanning the other dimensions, bytes + optional
    Blosc or Zstandard, in shards indexed at their end or one file per chunk) it reads the shard's
    index once, then one ``pread`` and one decompression per variable and map. An array of
    any other layout is read through zarr-python. Values are returned as stored (no CF
    decoding: our stores hold no scale factors; missing chunks read as the fill value), as
    read-only arrays.

    Opening a reader turns Blosc's internal threads off for the process
    (``numcodecs.blosc.use_threads = False``): on chunks of one map they cost more than
    they give (measured: 1.4–1.9× more maps per second without them) and they would
    compete with the workers of a data loader.

    Example:
        >>> reader = MapReader("data/02_intermediate/cube.zarr/<v>/cube.zarr")  # doctest: +SKIP
        >>> maps = reader.read(1234)  # {"precipitation": (72, 104) array, …}  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike,
        variables: Iterable[str] | None = None,
        *,
        max_open_files: int = 256,
    ) -> None:
        """Open the store.

        Args:
            path: Folder of the store.
            variables: The variables to read (default: every variable with more
                dimensions than ``time``, ``time`` first).
            max_open_files: Shard files kept open between reads.

        Raises:
            KeyError: A variable not in the store.
            ValueError: A variable whose first dimension is not ``time``.
        """
        self.path = Path(path)
        numcodecs.blosc.use_threads = False
        group = zarr.open_group(self.path, mode="r", zarr_format=3)
        if variables is None:
            variables = [
                name
                for name, array in sorted(group.arrays())
                if array.ndim > 1 and (array.metadata.dimension_names or ())[:1] == (TIME,)
            ]
        self._arrays: dict[str, _ArrayReader] = {}
        for name in variables:
            array = group[name]
            if (array.metadata.dimension_names or ())[:1] != (TIME,):
                raise ValueError(f"MapReader({self.path}): {name!r} does not start with {TIME}")
            self._arrays[name] = _ArrayReader(self.path / name, array, self)
        self._files: dict[tuple[str, int], int] = {}
        self._max_open_files = max_open_files
        self._length = min((a.shape[0] for a in self._arrays.values()), default=0)

    @property
    def variables(self) -> list[str]:
        """The variables each read returns, in order."""
        return list(self._arrays)

    def __len__(self) -> int:
        return self._length

    def read(self, index: int) -> dict[str, np.ndarray]:
        """The map of every variable at time index ``index`` (negative counts from the end).

        Raises:
            IndexError: ``index`` outside the store's time steps.
        """
        if not -self._length <= index < self._length:
            raise IndexError(f"MapReader({self.path}): time index {index} of {self._length}")
        index %= self._length
        return {name: array.read(index) for name, array in self._arrays.items()}

    def close(self) -> None:
        """Close the shard files kept open."""
        for fd in self._files.values():
            os.close(fd)
        self._files.clear()

    def __enter__(self) -> MapReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fd(self, key: tuple[str, int], path: str) -> int | None:
        """An open descriptor of ``path`` (None if absent), least recently opened closed."""
        fd = self._files.get(key)
        if fd is None:
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                return None
            if len(self._files) >= self._max_open_files:
                os.close(self._files.pop(next(iter(self._files))))
            self._files[key] = fd
        return fd


_EMPTY = np.uint64(2**64 - 1)
_DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "zstd": zstd_decompress,
    "blosc": blosc_decompress,
}


class _ArrayReader:
    """One array's maps: direct reads for our layouts, zarr-python for any other."""

    def __init__(self, folder: Path, array: zarr.Array, reader: MapReader) -> None:
        self.shape = array.shape
        self._array = array
        self._reader = reader
        self._dtype = np.dtype(array.dtype)
        self._fill = np.full(array.shape[1:], array.fill_value, dtype=self._dtype)
        self._indexes: dict[int, np.ndarray] = {}
        meta = json.loads((folder / "zarr.json").read_text())
        self._name = folder.name
        self._direct = self._parse(meta)
        # The path of shard (or chunk) ``n`` is ``self._key % n``.
        sep = getattr(self, "_separator", "/")
        self._key = (
            str(folder / "c").replace("%", "%%")
            + sep
            + sep.join(["%d", *["0"] * (len(self.shape) - 1)])
        )

    def _parse(self, meta: dict[str, Any]) -> bool:
        """Whether the layout is one this reader knows; sets its parameters if so."""
        key = meta.get("chunk_key_encoding", {})
        if key.get("name") != "default":
            return False
        self._separator = key.get("configuration", {}).get("separator", "/")
        outer = meta["chunk_grid"]["configuration"]["chunk_shape"]
        codecs = meta["codecs"]
        self._sharded = len(codecs) == 1 and codecs[0]["name"] == "sharding_indexed"
        if self._sharded:
            config = codecs[0]["configuration"]
            index_codecs = [c["name"] for c in config["index_codecs"]]
            if config.get("index_location", "end") != "end" or index_codecs[0] != "bytes":
                return False
            if index_codecs[1:] not in ([], ["crc32c"]):
                return False
            self._index_tail = 4 * len(index_codecs[1:])
            inner, codecs = config["chunk_shape"], config["codecs"]
        else:
            inner = outer
        names = [c["name"] for c in codecs]
        if names not in (["bytes"], ["bytes", "zstd"], ["bytes", "blosc"]):
            return False
        if codecs[0].get("configuration", {}).get("endian", "little") != "little":
            return False
        if list(outer[1:]) != list(self.shape[1:]) or list(inner[1:]) != list(self.shape[1:]):
            return False
        self._outer, self._inner = int(outer[0]), int(inner[0])
        self._decompress = _DECOMPRESS.get(names[-1])
        return True

    def read(self, index: int) -> np.ndarray:
        if not self._direct:
            return np.asarray(self._array[index])
        outer, offset = divmod(index, self._outer)
        fd = self._reader._fd((self._name, outer), self._key % outer)
        if fd is None:
            return self._fill.copy()
        inner, step = divmod(offset, self._inner)
        if self._sharded:
            entries = self._indexes.get(outer)
            if entries is None:
                n = self._outer // self._inner
                size = os.fstat(fd).st_size
                raw = os.pread(fd, 16 * n, size - 16 * n - self._index_tail)
                entries = np.frombuffer(raw, dtype="<u8").reshape(n, 2)
                self._indexes[outer] = entries
            start, nbytes = entries[inner]
            if start == _EMPTY:
                return self._fill.copy()
            data = os.pread(fd, int(nbytes), int(start))
        else:
            data = os.pread(fd, os.fstat(fd).st_size, 0)
        if self._decompress is not None:
            data = self._decompress(data)
        chunk = np.frombuffer(data, dtype=self._dtype.newbyteorder("<"))
        return chunk.reshape(self._inner, *self.shape[1:])[step]
