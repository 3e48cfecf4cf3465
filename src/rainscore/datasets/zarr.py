"""A versioned, lazily loaded, atomically saved, appendable Zarr v3 store for the catalog.

The large gridded datasets are stored with this one (the storage itself is
:mod:`rainscore.stores`)::

    imerg_cube:
      type: rainscore.datasets.XarrayZarrDataset
      filepath: data/02_intermediate/imerg_cube.zarr
      versioned: true
      layout: {time_chunk: 1, time_shard: 48}

Each version is a store folder, ``<filepath>/<version>/<name>.zarr``. Saving writes it
under a hidden temporary name in the version folder (``.<name>.zarr.<host>-<pid>.tmp``)
and renames it only when complete: a crash mid-save leaves no store under the dataset's
name, so the latest-version load never sees a partial one; the next save removes the
temporaries of writers that no longer run (:mod:`rainscore.atomic`).

``save`` takes a dataset (a dask-backed one is written one shard of time at a time) or an
iterable of time blocks, written as they come: a node returns a generator of blocks (from a
plain function, ``return cube_blocks(...)``, not a generator function, which Kedro would
save chunk by chunk) and the period is never in memory. With ``append_from_previous: true``
the new version starts as a copy of the latest one (hard links: no data is copied) and the
saved blocks are appended to it: an incremental run returns only its new half hours. Data
that writes itself (a :class:`rainscore.stores.StoreWriter`: blocks written by the Dask
workers that compute them, or a :class:`rainscore.stores.StoreUpdate` that recomputes the
last time steps of the previous version) is handed the temporary folder instead.

Loading opens the store lazily with dask (one dask chunk per shard).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable
from contextlib import suppress
from copy import deepcopy
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
import xarray as xr
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version
from kedro_datasets._typing import TablePreview

from rainscore.atomic import remove_stale_temporaries, replace_folder, temporary_path
from rainscore.datasets.netcdf import write_netcdf_atomic
from rainscore.datasets.versions import VersionedPath
from rainscore.stores import (
    TIME,
    StoreLayout,
    StoreWriter,
    append_blocks,
    copy_store,
    open_store,
    store_nbytes,
    write_store,
)

logger = logging.getLogger(__name__)

_DATAARRAY_ATTR = "rainscore_dataarray_name"

StoreData = xr.Dataset | xr.DataArray | Iterable[xr.Dataset | xr.DataArray] | StoreWriter


class XarrayZarrDataset(
    VersionedPath, AbstractVersionedDataset[StoreData, xr.Dataset | xr.DataArray]
):
    """Gridded time series as a Zarr v3 store, versioned, lazy on load, atomic on save.

    A saved ``DataArray`` (or blocks of one) loads back as a ``DataArray``; a ``Dataset``
    as a ``Dataset``.

    Example:
        >>> ds = XarrayZarrDataset(filepath="data/02_intermediate/cube.zarr")  # doctest: +SKIP
        >>> ds.save(block for block in blocks)  # one block in memory at a time  # doctest: +SKIP
        >>> lazy = ds.load()  # dask-backed  # doctest: +SKIP
    """

    DEFAULT_LOAD_ARGS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        filepath: str,
        layout: dict[str, Any] | None = None,
        append_from_previous: bool = False,
        load_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Local path of the store folder (``.zarr``).
            layout: Chunking along time, ``time_chunk`` / ``time_shard`` / ``compressor``
                (:class:`rainscore.stores.StoreLayout`; default one map per chunk, a day
                of half hours per shard, LZ4).
            append_from_previous: Start each new version from the latest saved one and
                append the saved blocks to it (they must all be later than its last time).
                Needs ``versioned: true``.
            load_args: Extra arguments of ``xr.open_zarr``; the default dask chunks are
                one shard along time (``chunks: null``: lazy arrays without dask).
            version: Kedro version (set by the catalog when ``versioned: true``).
            metadata: Free-form metadata, ignored by Kedro (used by kedro-viz).

        Raises:
            DatasetError: A bad layout, or ``append_from_previous`` unversioned.
        """
        super().__init__(filepath=PurePosixPath(filepath), version=version)
        try:
            self._layout = StoreLayout.from_dict(layout)
        except (TypeError, ValueError) as err:
            raise DatasetError(f"XarrayZarrDataset({filepath}): layout {layout}: {err}") from err
        if append_from_previous and version is None:
            raise DatasetError(
                f"XarrayZarrDataset({filepath}): append_from_previous needs versioned: true"
            )
        self._append_from_previous = append_from_previous
        self._load_args = {**self.DEFAULT_LOAD_ARGS, **(load_args or {})}
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            **self._describe_path(),
            "layout": self._layout,
            "append_from_previous": self._append_from_previous,
            "load_args": self._load_args,
        }

    def _store_path(self) -> Path:
        path = Path(str(self._get_load_path()))
        if not (path / "zarr.json").is_file():
            raise DatasetError(f"{self}: no Zarr store at {path}")
        return path

    def load(self) -> xr.Dataset | xr.DataArray:
        """Open the (latest or pinned) version lazily."""
        ds = open_store(self._store_path(), **deepcopy(self._load_args))
        name = ds.attrs.pop(_DATAARRAY_ATTR, None)
        return ds if name is None else ds[name]

    def save(self, data: StoreData) -> None:
        """Write ``data`` to a new version (or the plain path if unversioned), atomically.

        A :class:`rainscore.stores.StoreWriter` writes itself into the temporary folder
        (given the latest version when the dataset appends); anything else is written (or
        appended) block by block here. Temporaries that a killed save of this dataset left
        behind are removed first.
        """
        if isinstance(data, StoreWriter):
            self._save_with(data.write_store)
            return
        if isinstance(data, xr.DataArray):
            if data.name is None:
                raise DatasetError(f"{self}: a DataArray needs a name to be saved")
            data = _marked(data)
        elif not isinstance(data, xr.Dataset | Iterable) or isinstance(data, str | bytes):
            raise DatasetError(
                f"{self}: expected an xarray Dataset, DataArray or an iterable of them, "
                f"got {type(data).__name__}"
            )
        blocks = data if isinstance(data, xr.Dataset) else _marking_dataarrays(data)

        def write(tmp: Path, *, layout: StoreLayout, previous: Path | None) -> int:
            if previous is None:
                return write_store(tmp, blocks, layout=layout)
            copy_store(previous, tmp)
            n = append_blocks(tmp, blocks, layout=layout)
            logger.info("%s: %d new time steps appended to %s", self, n, previous)
            return n

        self._save_with(write)

    def _save_with(self, write: Callable[..., int]) -> None:
        """Run ``write(tmp, layout=..., previous=...)`` into a temporary folder and rename it
        to the save path; on any failure remove it (and the version folder it was alone in).
        """
        remove_stale_temporaries(Path(str(self._filepath)), versioned=self._version is not None)
        previous = self._previous_store() if self._append_from_previous else None
        path = Path(str(self._get_save_path()))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(path)
        try:
            write(tmp, layout=self._layout, previous=previous)
            replace_folder(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if self._version is not None:
                with suppress(OSError):  # the version folder, if this save was all it held
                    path.parent.rmdir()
            raise

    def _previous_store(self) -> Path | None:
        """The pinned load version's store, else the latest saved one (None if none).

        Found without Kedro's cached load version, which a save must not resolve.
        """
        if self._version is not None and self._version.load is not None:
            return self._store_path()
        name = self._filepath.name
        stores = sorted(Path(str(self._filepath)).glob(f"*/{name}/zarr.json"))
        return stores[-1].parent if stores else None

    def _exists(self) -> bool:
        try:
            self._store_path()
        except DatasetError:
            return False
        return True

    def preview(self) -> TablePreview:
        """A table of the variables for kedro-viz: dims, dtype, units, chunks, shards and
        size on disk, then a ``(store)`` row with the time range and the total size."""
        path = self._store_path()
        ds = open_store(path, chunks=None)
        rows = []
        for name, var in ds.variables.items():
            chunks = var.encoding.get("chunks")
            shards = var.encoding.get("shards")
            rows.append(
                [
                    str(name),
                    " × ".join(f"{d}={ds.sizes[d]}" for d in var.dims),
                    str(var.dtype),
                    str(var.attrs.get("units", "")),
                    "" if chunks is None else " × ".join(map(str, chunks)),
                    "" if shards is None else " × ".join(map(str, shards)),
                    _megabytes(store_nbytes(path / str(name))),
                ]
            )
        times = ds[TIME].values
        period = (
            f"{TIME}={times.size}: {np.datetime_as_string(times[0], unit='m')} → "
            f"{np.datetime_as_string(times[-1], unit='m')}"
            if times.size
            else f"{TIME}=0"
        )
        rows.append(["(store)", period, "", "", "", "", _megabytes(store_nbytes(path))])
        columns = ["variable", "dims", "dtype", "units", "chunks", "shards", "on_disk"]
        return TablePreview({"index": list(range(len(rows))), "columns": columns, "data": rows})


def _marking_dataarrays(
    blocks: Iterable[xr.Dataset | xr.DataArray],
) -> Iterable[xr.Dataset | xr.DataArray]:
    """Blocks as given, a DataArray's name recorded so that the store loads as one."""
    for block in blocks:
        if isinstance(block, xr.DataArray):
            if block.name is None:
                raise ValueError("a DataArray block needs a name to be saved")
            yield _marked(block)
        else:
            yield block


def _marked(da: xr.DataArray) -> xr.Dataset:
    """``da`` as a dataset that records its name, so that it loads back as a DataArray."""
    ds = da.to_dataset()
    ds.attrs = {**da.attrs, _DATAARRAY_ATTR: str(da.name)}
    return ds


def _megabytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB"


def export_netcdf(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    start: str | np.datetime64 | None = None,
    end: str | np.datetime64 | None = None,
) -> None:
    """Write the period ``start``–``end`` (inclusive) of a store to a netCDF file.

    Streams a lazily opened store chunk by chunk, through a temporary file and an atomic
    rename (:func:`rainscore.datasets.write_netcdf_atomic`).

    Args:
        ds: The store, e.g. ``XarrayZarrDataset(filepath=...).load()`` or
            ``rainscore.stores.open_store(path)``.
        path: The netCDF file to write.
        start: First time to export (default: the store's first).
        end: Last time to export (default: the store's last).
    """
    period = ds.sel({TIME: slice(start, end)}).copy(deep=False)
    for var in period.variables.values():
        var.encoding = {}  # Zarr's chunks and codecs mean nothing to netCDF
    write_netcdf_atomic(period, path)
