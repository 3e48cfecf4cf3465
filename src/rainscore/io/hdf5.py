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
def open_hdf5(path: str | PathLike, *, chunk_cache: bool = True) -> Iterator[h5py.File]:
    """Open an HDF5 (or netCDF-4) file read-only, with errors that name the file.

    Errors raised while the file is in use (a truncated chunk, a missing object) are also
    converted, so callers may read inside the ``with`` block without their own handlers.

    Args:
        path: The file.
        chunk_cache: Keep HDF5's chunk cache (1 MiB per dataset). A reader that reads each
            chunk once (one hyperslab per file) passes False: HDF5 then decompresses
            straight into the selection instead of through the cache, which saves a copy
            of every chunk (about 15 % of the read time of a gzipped radar mosaic).

    Raises:
        ReaderError: ``empty``, ``unreadable`` (not HDF5, truncated or corrupt).
    """
    path = check_not_empty(path)
    try:
        h5 = h5py.File(path, "r") if chunk_cache else h5py.File(path, "r", rdcc_nbytes=0)
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


def text_value(value: Any) -> str:
    """An attribute value as text: bytes decoded (UTF-8) and stripped, else ``str``."""
    value = _scalar(value)
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", errors="replace").strip().rstrip("\x00")
    return str(value).strip()


def number_value(value: Any, default: float | None = None) -> float | None:
    """An attribute value as a float (numbers written as text are parsed), else ``default``."""
    value = _scalar(value)
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


def attr_text(obj: h5py.HLObject, name: str, default: str | None = None) -> str | None:
    """A string attribute of ``obj``, decoded and stripped, or ``default`` when absent."""
    if name not in obj.attrs:
        return default
    return text_value(obj.attrs[name])


def attr_number(obj: h5py.HLObject, name: str, default: float | None = None) -> float | None:
    """A numeric attribute of ``obj`` as a float (numbers written as text are parsed).

    Returns ``default`` when the attribute is absent or not a number.
    """
    if name not in obj.attrs:
        return default
    return number_value(obj.attrs[name], default)


_NATIVE_NUMBERS = {
    (h5py.h5t.INTEGER, 1, True): (np.int8, h5py.h5t.NATIVE_INT8),
    (h5py.h5t.INTEGER, 2, True): (np.int16, h5py.h5t.NATIVE_INT16),
    (h5py.h5t.INTEGER, 4, True): (np.int32, h5py.h5t.NATIVE_INT32),
    (h5py.h5t.INTEGER, 8, True): (np.int64, h5py.h5t.NATIVE_INT64),
    (h5py.h5t.INTEGER, 1, False): (np.uint8, h5py.h5t.NATIVE_UINT8),
    (h5py.h5t.INTEGER, 2, False): (np.uint16, h5py.h5t.NATIVE_UINT16),
    (h5py.h5t.INTEGER, 4, False): (np.uint32, h5py.h5t.NATIVE_UINT32),
    (h5py.h5t.INTEGER, 8, False): (np.uint64, h5py.h5t.NATIVE_UINT64),
    (h5py.h5t.FLOAT, 4, True): (np.float32, h5py.h5t.NATIVE_FLOAT),
    (h5py.h5t.FLOAT, 8, True): (np.float64, h5py.h5t.NATIVE_DOUBLE),
}


def _read_small_attr(oid: h5py.h5o.ObjectID, name: str) -> tuple[bool, Any]:
    """``(True, value)`` of a one-element number or fixed-length string attribute, read
    through h5py's low-level API (three times faster than ``obj.attrs[name]``, which matters
    when a reader needs twenty of them per file); ``(False, None)`` for any other kind.
    """
    attr = h5py.h5a.open(oid, name.encode())
    ftype = attr.get_type()
    kind, size = ftype.get_class(), ftype.get_size()
    if kind == h5py.h5t.STRING and not ftype.is_variable_str():
        if attr.get_storage_size() != size:  # not one element
            return False, None
        buf = np.empty((), f"S{size}")
        attr.read(buf, mtype=ftype)
        return True, buf[()]
    if kind == h5py.h5t.INTEGER:
        native = _NATIVE_NUMBERS.get((kind, size, ftype.get_sign() == h5py.h5t.SGN_2))
    elif kind == h5py.h5t.FLOAT:
        native = _NATIVE_NUMBERS.get((kind, size, True))
    else:
        native = None
    if native is None or attr.get_storage_size() != size:
        return False, None
    buf = np.empty((), native[0])
    attr.read(buf, mtype=native[1])
    return True, buf[()]


class GroupCache:
    """The groups of an open HDF5 file and their attributes, each looked at once.

    Readers that look attributes up through several groups (ODIM's ``what``/``where`` at the
    data, dataset and root levels) ask for the same group and name many times; here each
    object is opened once, its attribute names listed once and each attribute read once,
    through h5py's low-level API. Values are those of ``group.attrs[name]`` (one-element
    arrays as scalars).

    Args:
        h5: The open file.
    """

    def __init__(self, h5: h5py.File) -> None:
        self._h5 = h5
        self._objects: dict[str, h5py.h5o.ObjectID | None] = {}
        self._links: dict[str, tuple[str, ...]] = {}
        self._names: dict[str, frozenset[str]] = {}
        self._values: dict[tuple[str, str], Any] = {}

    def _object(self, path: str) -> h5py.h5o.ObjectID | None:
        if path not in self._objects:
            parent, _, name = path.rpartition("/")
            if name not in self.children(parent):  # absent: no open that fails (slow in HDF5)
                self._objects[path] = None
            else:
                try:
                    self._objects[path] = h5py.h5o.open(self._h5.id, path.encode())
                except KeyError:  # a dangling link
                    self._objects[path] = None
        return self._objects[path]

    def group(self, path: str) -> h5py.h5g.GroupID | None:
        """The low-level id of the group at ``path``, or None if there is no group there."""
        oid = self._object(path)
        return oid if isinstance(oid, h5py.h5g.GroupID) else None

    def dataset(self, path: str) -> h5py.h5d.DatasetID | None:
        """The low-level id of the dataset at ``path``, or None if there is none there."""
        oid = self._object(path)
        return oid if isinstance(oid, h5py.h5d.DatasetID) else None

    def children(self, path: str) -> list[str]:
        """Names of the links in the group at ``path`` (``""``: the root), in file order."""
        if path not in self._links:
            gid = self._h5.id if path == "" else self.group(path)
            found: list[bytes] = []
            if gid is not None:
                gid.links.iterate(found.append)
            self._links[path] = tuple(n.decode("utf-8", errors="replace") for n in found)
        return list(self._links[path])

    def names(self, path: str) -> frozenset[str]:
        """Names of the attributes of the group at ``path`` (empty if there is no group)."""
        if path not in self._names:
            gid = self.group(path)
            found: list[bytes] = []
            if gid is not None:
                h5py.h5a.iterate(gid, found.append)
            self._names[path] = frozenset(n.decode("utf-8", errors="replace") for n in found)
        return self._names[path]

    def value(self, path: str, name: str) -> Any:
        """The attribute ``name`` of the group at ``path``, or None when absent."""
        key = (path, name)
        if key not in self._values:
            if name not in self.names(path):
                self._values[key] = None
            else:
                done, value = _read_small_attr(self.group(path), name)
                if not done:
                    value = _scalar(self._h5[path].attrs[name])
                self._values[key] = value
        return self._values[key]

    def text(self, path: str, name: str) -> str | None:
        """As :func:`attr_text` on the group at ``path``."""
        value = self.value(path, name)
        return None if value is None else text_value(value)

    def number(self, path: str, name: str) -> float | None:
        """As :func:`attr_number` on the group at ``path``."""
        value = self.value(path, name)
        return None if value is None else number_value(value)


def parse_header(text: str | None) -> dict[str, str]:
    """Parse a GPM ``KEY=value;`` header (``FileHeader``, ``GridHeader``) into a dict."""
    out: dict[str, str] = {}
    for item in (text or "").replace("\n", "").split(";"):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out
