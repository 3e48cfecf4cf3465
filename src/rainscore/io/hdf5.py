"""HDF5 access shared by the IMERG and ODIM readers.

Opening a file turns every low-level failure (missing, empty, truncated, not HDF5) into a
:class:`~rainscore.io.errors.ReaderError` that names the file; attribute helpers decode the
many spellings of a string or number attribute (bytes, ``numpy.bytes_``, ``str``, arrays of
one element) written by different HDF5 and netCDF libraries.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from rainscore.io.errors import ReaderError

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_not_empty(path: str | PathLike) -> Path:
    """Return ``path`` as a :class:`Path` after checking it exists and is not empty.

    Raises:
        ReaderError: ``unreadable`` if the file does not exist, ``empty`` if it has 0 bytes.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise ReaderError(path, "unreadable", f"cannot access the file ({err.strerror})") from None
    if size == 0:
        raise ReaderError(path, "empty", "the file is empty (0 bytes)")
    return path


def is_hdf5(path: str | PathLike) -> bool:
    """Whether the file starts with the HDF5 signature (at offset 0, 512, 1024, …)."""
    with open(path, "rb") as f:
        offset = 0
        while True:
            f.seek(offset)
            head = f.read(8)
            if len(head) < 8:
                return False
            if head == _HDF5_SIGNATURE:
                return True
            offset = 512 if offset == 0 else offset * 2


@contextlib.contextmanager
def open_hdf5(path: str | PathLike) -> Iterator[h5py.File]:
    """Open an HDF5 (or netCDF-4) file read-only, with errors that name the file.

    Errors raised while the file is in use (a truncated chunk, a missing object) are also
    converted, so callers may read inside the ``with`` block without their own handlers.

    Raises:
        ReaderError: ``empty``, ``unreadable`` (not HDF5, truncated or corrupt).
    """
    path = check_not_empty(path)
    try:
        h5 = h5py.File(path, "r")
    except OSError as err:
        hint = "" if is_hdf5(path) else " (no HDF5 signature: not an HDF5 file)"
        raise ReaderError(path, "unreadable", f"cannot open as HDF5{hint}: {err}") from None
    try:
        yield h5
    except (OSError, RuntimeError) as err:  # h5py raises RuntimeError on corrupt metadata
        raise ReaderError(
            path, "unreadable", f"HDF5 read failed (truncated or corrupt file?): {err}"
        ) from None
    finally:
        h5.close()


def _scalar(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        if value.size != 1:
            return value
        value = value.reshape(-1)[0]
    return value


def attr_text(obj: h5py.HLObject, name: str, default: str | None = None) -> str | None:
    """A string attribute of ``obj``, decoded and stripped, or ``default`` when absent."""
    if name not in obj.attrs:
        return default
    value = _scalar(obj.attrs[name])
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip().rstrip("\x00")
    return str(value).strip()


def attr_number(obj: h5py.HLObject, name: str, default: float | None = None) -> float | None:
    """A numeric attribute of ``obj`` as a float (numbers written as text are parsed).

    Returns ``default`` when the attribute is absent or not a number.
    """
    if name not in obj.attrs:
        return default
    value = _scalar(obj.attrs[name])
    if isinstance(value, bytes | np.bytes_ | str):
        text = bytes(value).decode() if isinstance(value, bytes | np.bytes_) else value
        try:
            return float(text.strip().rstrip("\x00"))
        except ValueError:
            return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def parse_header(text: str | None) -> dict[str, str]:
    """Parse a GPM ``KEY=value;`` header (``FileHeader``, ``GridHeader``) into a dict."""
    out: dict[str, str] = {}
    for item in (text or "").replace("\n", "").split(";"):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out
