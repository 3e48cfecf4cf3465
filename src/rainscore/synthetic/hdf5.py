"""Fast HDF5 writing for the synthetic files: attributes and pre-compressed chunks.

Writing a thousand small files, h5py's conveniences dominate: its high-level attribute
setter creates and renames a temporary attribute, and letting HDF5 fill, filter and write
chunks is several times slower than deflating them with zlib (which releases the GIL) and
storing them with ``write_direct_chunk``. The bytes a reader decodes are the same: the
chunks go through the same filter pipeline (shuffle, then deflate) in reverse.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import h5py
import numpy as np

from rainscore.grids.projected import ProjectedGrid


def set_attrs(obj: h5py.Group | h5py.Dataset, attrs: Mapping[str, object]) -> None:
    """Create scalar attributes (numpy scalars or ``np.bytes_``) on ``obj``.

    Strings become fixed-length, null-padded ASCII, like h5py's high-level setter writes
    ``np.bytes_`` values (and like the real IMERG and ODIM files).
    """
    space = h5py.h5s.create(h5py.h5s.SCALAR)
    for name, value in attrs.items():
        arr = np.asarray(value)
        tid = h5py.h5t.py_create(arr.dtype, logical=True)
        aid = h5py.h5a.create(obj.id, name.encode("ascii"), tid, space)
        aid.write(arr, mtype=tid)


def odim_where(grid: ProjectedGrid, corners: Mapping[str, float]) -> dict[str, object]:
    """The root ``where`` attributes of an ODIM composite: projection, size, pixel size and
    the corners' longitudes and latitudes (``LL_lon`` …), typed as ODIM readers expect.

    Args:
        grid: The composite's grid.
        corners: Corner coordinates by ODIM name, degrees.

    Returns:
        The attributes, for :func:`set_attrs`.
    """
    where: dict[str, object] = {
        "projdef": np.bytes_(grid.crs.encode("ascii")),
        "xsize": np.int64(grid.nx),
        "ysize": np.int64(grid.ny),
        "xscale": np.float64(grid.dx),
        "yscale": np.float64(grid.dy),
    }
    where.update({name: np.float64(value) for name, value in corners.items()})
    return where


def deflate_chunk(chunk: np.ndarray, level: int, shuffle: bool) -> bytes:
    """The bytes HDF5 stores for ``chunk`` under the (shuffle +) deflate filters."""
    raw = np.ascontiguousarray(chunk)
    if shuffle and raw.dtype.itemsize > 1:
        data = raw.view(np.uint8).reshape(-1, raw.dtype.itemsize).T.tobytes()
    else:
        data = raw.tobytes()
    return zlib.compress(data, level)


def write_chunked(ds: h5py.Dataset, values: np.ndarray, level: int, shuffle: bool) -> None:
    """Write a whole 2-D array into chunked dataset ``ds`` chunk by chunk.

    Edge chunks are padded with the dataset's fill value, as HDF5 does.
    """
    cy, cx = ds.chunks
    ny, nx = values.shape
    fill = np.array(ds.fillvalue, dtype=ds.dtype)
    for r in range(0, ny, cy):
        for c in range(0, nx, cx):
            block = values[r : r + cy, c : c + cx]
            if block.shape != (cy, cx):
                full = np.full((cy, cx), fill, dtype=ds.dtype)
                full[: block.shape[0], : block.shape[1]] = block
                block = full
            ds.id.write_direct_chunk((r, c), deflate_chunk(block, level, shuffle))
