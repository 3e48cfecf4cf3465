"""ODIM HDF5 composites: Météo-France mosaics (1 km, 500 m) and generic ones (OPERA).

One metadata-driven reader. Attributes are looked up ODIM-style, the most specific level
winning: ``/datasetN/dataM/<what|where>``, then ``/datasetN/<what|where>``, then the root
``/<what|where>``. Defaults apply only where the file is silent, and only for Météo-France
mosaics (``gain`` 0.01, ``nodata`` 65535, ``ACRR`` over 5 minutes, and the full 1 km or
500 m grid by the array's shape when there is no ``where``).

The georeferencing comes from ``where``: ``projdef``, ``xsize``/``ysize``,
``xscale``/``yscale`` and the outer corners (``UL_lon``/``UL_lat``…): the projected upper-left
corner gives the raster's outer edges, checked against the lower-right corner. Grids in the
Météo-France projection are snapped onto the Météo-France lattice when within 1 m.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import h5py
import numpy as np
import xarray as xr
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from rainscore.grids import METEOFRANCE_1KM, METEOFRANCE_500M, METEOFRANCE_PROJ, ProjectedGrid
from rainscore.io.errors import ReaderError
from rainscore.io.hdf5 import GroupCache, open_hdf5
from rainscore.io.radar_field import (
    ACCUMULATION_UNITS,
    RATE_UNITS,
    RadarFrames,
    RadarMetadata,
    check_grid,
    check_name_time,
    check_window,
    impossible_limit,
    parse_stamp,
    radar_frames,
    window_attrs,
    window_metadata,
)

#: ODIM quantities the reader converts, and the units it returns for each.
QUANTITY_UNITS = {
    "ACRR": ACCUMULATION_UNITS,
    "RATE": RATE_UNITS,
    "DBZH": RATE_UNITS,
    "TH": RATE_UNITS,
}
_REFLECTIVITY = frozenset({"DBZH", "TH"})
_METEOFRANCE_GRIDS = {g.shape: g for g in (METEOFRANCE_1KM, METEOFRANCE_500M)}
_METEOFRANCE_ORG = "ORG:85"
_METEOFRANCE_MINUTES = 5.0
_SNAP_METRES = 1.0
_NUMBERED = re.compile(r"^(dataset|data)(\d+)$")


@dataclass(frozen=True)
class _Scaling:
    """How a field's stored values become physical ones (the key of a decoding table)."""

    gain: float
    offset: float
    nodata: float | None
    undetect: float | None
    reflectivity: bool


@dataclass(frozen=True)
class _OdimHeader:
    """Everything :func:`odim_metadata` learns, plus where the data and scaling are."""

    meta: RadarMetadata
    data_path: str
    gain: float
    offset: float
    nodata: float | None
    undetect: float | None
    source: str

    @property
    def scaling(self) -> _Scaling:
        """The decoding parameters."""
        return _Scaling(
            gain=self.gain,
            offset=self.offset,
            nodata=self.nodata,
            undetect=self.undetect,
            reflectivity=self.meta.quantity in _REFLECTIVITY,
        )


def _numbered(cache: GroupCache, path: str, prefix: str) -> list[str]:
    """Names of the ``<prefix>N`` groups in the group at ``path`` (``""``: root), by N."""
    found = []
    for key in cache.children(path):
        m = _NUMBERED.match(key)
        if m and m[1] == prefix and cache.group(f"{path}/{key}" if path else key) is not None:
            found.append((int(m[2]), key))
    return [key for _, key in sorted(found)]


def _chain(cache: GroupCache, dataset: str, data: str, kind: str) -> list[str]:
    """Paths of the ``what`` or ``where`` groups from the most specific to the root."""
    paths = (f"{dataset}/{data}/{kind}", f"{dataset}/{kind}", kind)
    return [p for p in paths if cache.group(p) is not None]


def _text(cache: GroupCache, chain: list[str], name: str) -> str | None:
    for group in chain:
        value = cache.text(group, name)
        if value:
            return value
    return None


def _number(cache: GroupCache, chain: list[str], name: str) -> float | None:
    for group in chain:
        value = cache.number(group, name)
        if value is not None:
            return value
    return None


def _when(path: Path, date: str | None, time: str | None, label: str) -> dt.datetime | None:
    if not date or not time:
        return None
    try:
        return parse_stamp(date + time.ljust(6, "0")[:6], seconds=True)
    except ValueError:
        raise ReaderError(
            path, "inconsistent", f"{label} date/time {date!r} {time!r} is not YYYYMMDD HHMMSS"
        ) from None


def _select_data(path: Path, cache: GroupCache, quantity: str | None) -> tuple[str, str, str]:
    """(dataset, data, quantity) of the field to read: the first supported one by default."""
    if quantity is not None and quantity.upper() not in QUANTITY_UNITS:
        raise ReaderError(
            path,
            "unknown_quantity",
            f"quantity {quantity!r} is not one the reader converts ({sorted(QUANTITY_UNITS)})",
        )
    datasets = _numbered(cache, "", "dataset")
    if not datasets:
        raise ReaderError(
            path,
            "missing_group",
            f"no /dataset1 group (groups present: {cache.children('')}); not an ODIM composite",
        )
    seen = []
    for ds in datasets:
        for data in _numbered(cache, ds, "data"):
            dset = cache.dataset(f"{ds}/{data}/data")
            if dset is None:
                continue
            what = _chain(cache, ds, data, "what")
            # A Météo-France mosaic that does not say what it holds is a 5-minute ACRR.
            source = _text(cache, what, "source") or ""
            mf = _METEOFRANCE_ORG in source or dset.shape in _METEOFRANCE_GRIDS
            q = (_text(cache, what, "quantity") or ("ACRR" if mf else "")).upper()
            seen.append(f"{ds}/{data}:{q or '?'}")
            if (quantity is None and q in QUANTITY_UNITS) or (quantity and q == quantity.upper()):
                return ds, data, q
    if not seen:
        raise ReaderError(path, "missing_group", f"no {datasets[0]}/data1/data array in the file")
    wanted = quantity.upper() if quantity else f"one of {sorted(QUANTITY_UNITS)}"
    raise ReaderError(
        path,
        "unknown_quantity",
        f"no field with quantity {wanted} (found {', '.join(seen)})",
    )


@lru_cache(maxsize=64)
def _to_xy(projdef: str) -> Transformer:
    return Transformer.from_crs("EPSG:4326", CRS.from_user_input(projdef), always_xy=True)


@lru_cache(maxsize=64)
def _is_meteofrance_crs(projdef: str) -> bool:
    try:
        return CRS.from_user_input(projdef).equals(CRS.from_user_input(METEOFRANCE_PROJ))
    except ProjError:
        return False  # reported by _grid, which names the attribute


def _snap(grid: ProjectedGrid) -> ProjectedGrid:
    """The Météo-France window ``grid`` is within 1 m of, or ``grid`` itself."""
    if not _is_meteofrance_crs(grid.crs):
        return grid
    for parent in _METEOFRANCE_GRIDS.values():
        if (parent.dx, parent.dy) != (grid.dx, grid.dy):
            continue
        c0 = round((grid.x_min - parent.x_min) / parent.dx)
        r0 = round((parent.y_max - grid.y_max) / parent.dy)
        x0 = parent.x_min + c0 * parent.dx
        y0 = parent.y_max - r0 * parent.dy
        if abs(x0 - grid.x_min) > _SNAP_METRES or abs(y0 - grid.y_max) > _SNAP_METRES:
            continue
        if min(c0, r0) >= 0 and c0 + grid.nx <= parent.nx and r0 + grid.ny <= parent.ny:
            if (r0, c0, grid.ny, grid.nx) == (0, 0, parent.ny, parent.nx):
                return parent
            return parent.window(slice(r0, r0 + grid.ny), slice(c0, c0 + grid.nx))
        return ProjectedGrid(
            crs=grid.crs,
            nx=grid.nx,
            ny=grid.ny,
            x_min=x0,
            y_max=y0,
            dx=grid.dx,
            dy=grid.dy,
            name=grid.name,
        )
    return grid


class _GridError(Exception):
    """Georeferencing that does not hold together (``reason``, ``detail`` of a ReaderError)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@lru_cache(maxsize=64)
def _grid_from_where(
    projdef: str,
    nx: int,
    ny: int,
    dx: float,
    dy: float,
    ul: tuple[float, float],
    lr: tuple[float | None, float | None],
    source: str,
) -> ProjectedGrid:
    """The grid that ``where`` describes (cached: files of one grid share their ``where``).

    Raises:
        _GridError: An unusable projection, or corners that disagree with the size.
    """
    try:
        to_xy = _to_xy(projdef)
    except ProjError as err:
        raise _GridError("inconsistent", f"where/projdef {projdef!r}: {err}") from None
    x_min, y_max = to_xy.transform(*ul)
    if lr[0] is not None and lr[1] is not None:
        x_lr, y_lr = to_xy.transform(*lr)
        if abs(x_lr - (x_min + nx * dx)) > dx / 2 or abs(y_lr - (y_max - ny * dy)) > dy / 2:
            raise _GridError(
                "inconsistent",
                f"where corners disagree with the grid size: UL projects to ({x_min:.1f}, "
                f"{y_max:.1f}) m and LR to ({x_lr:.1f}, {y_lr:.1f}) m, but {nx} × {ny} pixels "
                f"of {dx:g} × {dy:g} m end at ({x_min + nx * dx:.1f}, {y_max - ny * dy:.1f}) m",
            )
    grid = ProjectedGrid(
        crs=projdef,
        nx=nx,
        ny=ny,
        x_min=round(x_min, 2) + 0.0,
        y_max=round(y_max, 2) + 0.0,
        dx=dx,
        dy=dy,
        name=f"odim {source}".strip(),
    )
    return _snap(grid)


def _grid(
    path: Path, cache: GroupCache, ds: str, data: str, shape: tuple[int, int], meteofrance: bool
) -> ProjectedGrid:
    where = _chain(cache, ds, data, "where")
    projdef = _text(cache, where, "projdef")
    if projdef is None:
        if meteofrance and shape in _METEOFRANCE_GRIDS:
            return _METEOFRANCE_GRIDS[shape]
        raise ReaderError(
            path,
            "missing_attribute",
            f"no where/projdef georeferencing and shape {shape} is not a full Météo-France "
            f"grid ({sorted(_METEOFRANCE_GRIDS)})",
        )
    values = {}
    for name in ("xsize", "ysize", "xscale", "yscale", "UL_lon", "UL_lat"):
        values[name] = _number(cache, where, name)
        if values[name] is None:
            raise ReaderError(
                path, "missing_attribute", f"where has projdef but no {name} attribute"
            )
    nx, ny = int(values["xsize"]), int(values["ysize"])
    if (ny, nx) != shape:
        raise ReaderError(
            path,
            "inconsistent",
            f"where/xsize={nx}, ysize={ny} disagree with {ds}/{data}/data shape {shape}",
        )
    source = _text(cache, _chain(cache, ds, data, "what"), "source") or ""
    try:
        return _grid_from_where(
            projdef,
            nx,
            ny,
            values["xscale"],
            values["yscale"],
            (values["UL_lon"], values["UL_lat"]),
            (_number(cache, where, "LR_lon"), _number(cache, where, "LR_lat")),
            source,
        )
    except _GridError as err:
        raise ReaderError(path, err.reason, err.detail) from None


def _read_header(path: Path, cache: GroupCache, quantity: str | None) -> _OdimHeader:
    ds, data, q = _select_data(path, cache, quantity)
    what = _chain(cache, ds, data, "what")
    source = _text(cache, what, "source") or ""
    data_path = f"{ds}/{data}/data"
    dset = cache.dataset(data_path)
    if len(dset.shape) != 2:
        raise ReaderError(
            path, "inconsistent", f"/{data_path} has shape {dset.shape}; expected 2-D (y, x)"
        )
    shape = (int(dset.shape[0]), int(dset.shape[1]))
    projdef = _text(cache, _chain(cache, ds, data, "where"), "projdef")
    meteofrance = (
        _METEOFRANCE_ORG in source
        or (projdef is None and shape in _METEOFRANCE_GRIDS)
        or (projdef is not None and _is_meteofrance_crs(projdef))
    )
    grid = _grid(path, cache, ds, data, shape, meteofrance)
    root_what = ["what"] if cache.group("what") is not None else []
    nominal = _when(path, _text(cache, root_what, "date"), _text(cache, root_what, "time"), "what")
    end = (
        _when(
            path,
            _text(cache, what, "enddate"),
            _text(cache, what, "endtime"),
            f"{ds} end",
        )
        or nominal
    )
    if end is None:
        raise ReaderError(
            path, "missing_attribute", "no end time (what/enddate+endtime) nor what/date+time"
        )
    start = _when(
        path, _text(cache, what, "startdate"), _text(cache, what, "starttime"), f"{ds} start"
    )
    units = QUANTITY_UNITS[q]
    accumulation = None
    if units == ACCUMULATION_UNITS:
        if start is None:
            if not meteofrance:
                raise ReaderError(
                    path,
                    "missing_attribute",
                    f"{q} accumulation without startdate/starttime: its period is unknown",
                )
            start = end - dt.timedelta(minutes=_METEOFRANCE_MINUTES)
        accumulation = (end - start).total_seconds() / 60.0
        if accumulation <= 0:
            raise ReaderError(
                path,
                "inconsistent",
                f"accumulation start {start.isoformat()} is not before its end {end.isoformat()}",
            )
    elif start is None:
        start = end
    gain, nodata = _number(cache, what, "gain"), _number(cache, what, "nodata")
    if meteofrance:
        gain = 0.01 if gain is None else gain
        nodata = 65535.0 if nodata is None else nodata
    meta = RadarMetadata(
        path=str(path),
        kind="meteofrance" if meteofrance else "odim",
        end_time=end,
        start_time=start,
        accumulation_minutes=accumulation,
        quantity=q,
        units=units,
        grid=grid,
        shape=shape,
        frame_times=(end,),
        nominal_time=nominal,
    )
    return _OdimHeader(
        meta=meta,
        data_path=data_path,
        gain=1.0 if gain is None else gain,
        offset=_number(cache, what, "offset") or 0.0,
        nodata=nodata,
        undetect=_number(cache, what, "undetect"),
        source=source,
    )


def odim_metadata(path: str | Path, *, quantity: str | None = None) -> RadarMetadata:
    """Metadata of an ODIM HDF5 composite from its attributes (the data are not decoded).

    Args:
        path: The HDF5 file.
        quantity: ODIM quantity to pick (default: the first of ACRR, RATE, DBZH, TH found).

    Returns:
        The file's :class:`RadarMetadata`.

    Raises:
        ReaderError: Unreadable file, missing group or attribute, unknown quantity,
            inconsistent georeferencing, time in the name disagreeing with the file.
    """
    path = Path(path)
    with open_hdf5(path) as h5:
        meta = _read_header(path, GroupCache(h5), quantity).meta
    check_name_time(path, [t for t in (meta.nominal_time, meta.end_time) if t is not None])
    return meta


def _decode_general(
    raw: np.ndarray, scaling: _Scaling, zr: tuple[float, float], limit: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Physical values (float32), the mask of impossible ones and, among them, the mask of
    negative ones, computed in float64.

    The reference decoding: any dtype. nodata → NaN, undetect → 0, reflectivity → rate
    with ``Z = a R^b``, then values above ``limit`` or negative → NaN (and flagged).
    """
    nodata = raw == scaling.nodata if scaling.nodata is not None else np.zeros(raw.shape, bool)
    undetect = (
        raw == scaling.undetect if scaling.undetect is not None else np.zeros(raw.shape, bool)
    )
    values = raw.astype(np.float64) * scaling.gain + scaling.offset
    if scaling.reflectivity:
        a, b = zr
        with np.errstate(over="ignore", invalid="ignore"):
            values = (10.0 ** (values / 10.0) / a) ** (1.0 / b)
    values[undetect] = 0.0
    values[nodata | ~np.isfinite(values)] = np.nan
    with np.errstate(invalid="ignore"):
        negative = values < 0
        impossible = (values > limit) | negative
    values[impossible] = np.nan
    return values.astype(np.float32), impossible, negative


def _runs(flags: np.ndarray, first_code: int) -> tuple[tuple[int, int], ...]:
    """Inclusive ``(first, last)`` codes of the runs of True in ``flags`` (codes ascending)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flags, [False])).astype(np.int8)))
    return tuple(
        (first_code + int(lo), first_code + int(hi) - 1)
        for lo, hi in zip(edges[::2], edges[1::2], strict=True)
    )


_MAX_RANGES = 4
"""Code ranges masked or counted by comparisons at most; more go through the table."""


def _scale_f32_multiply(raw: np.ndarray, constant: float) -> np.ndarray:
    return np.multiply(raw, np.float32(constant), dtype=np.float32)


def _scale_f32_divide(raw: np.ndarray, constant: float) -> np.ndarray:
    return np.divide(raw, np.float32(constant), dtype=np.float32)


def _scale_f64_multiply(raw: np.ndarray, constant: float) -> np.ndarray:
    values = np.empty(raw.shape, np.float32)  # computed in float64 chunk by chunk
    np.multiply(raw, constant, out=values, dtype=np.float64, casting="same_kind")
    return values


@dataclass(frozen=True)
class _CodeTable:
    """The decoding of every code of a small integer type, by :func:`_decode_general`.

    Attributes:
        values: float32 value of each code, indexed by the code's unsigned bit pattern.
        impossible: Whether each code is an impossible value (same indexing).
        negative: Whether each code is a negative value (a subset of ``impossible``).
        nan_ranges: Inclusive code ranges that decode to NaN (nodata, impossible).
        other_nan_ranges: The code ranges of NaNs that are not impossible values (nodata).
        impossible_ranges: Inclusive code ranges of impossible values.
        negative_ranges: Inclusive code ranges of negative values (none for a
            non-negative scaling, so counting them then costs nothing).
        scale: A one-operation formula, ``(function, constant)``, that gives ``values`` for
            every code outside ``nan_ranges``, bit for bit (checked on every code), or None.
    """

    values: np.ndarray
    impossible: np.ndarray
    negative: np.ndarray
    nan_ranges: tuple[tuple[int, int], ...]
    other_nan_ranges: tuple[tuple[int, int], ...]
    impossible_ranges: tuple[tuple[int, int], ...]
    negative_ranges: tuple[tuple[int, int], ...]
    scale: tuple[Callable[[np.ndarray, float], np.ndarray], float] | None


def _scale_formula(
    codes: np.ndarray, values: np.ndarray, kept: np.ndarray, scaling: _Scaling
) -> tuple[Callable[[np.ndarray, float], np.ndarray], float] | None:
    """The fastest formula that reproduces ``values[kept]`` exactly from ``codes[kept]``.

    float32 arithmetic is tried first: multiplying by the float32 gain is rarely exact (1
    code in 4 differs by one unit in the last place for a gain of 0.01), dividing by the
    float32 inverse of the gain often is (always for 0.01, 0.1, 0.5, 0.001 on 16-bit
    codes: the quotient of two exact numbers is correctly rounded); the product computed
    in float64 then rounded is the reference itself when the offset is 0.
    """
    candidates = [(_scale_f32_multiply, scaling.gain), (_scale_f64_multiply, scaling.gain)]
    if scaling.gain != 0 and np.isfinite(1.0 / scaling.gain):
        candidates.insert(1, (_scale_f32_divide, 1.0 / scaling.gain))
    expected = values[kept].view(np.uint32)
    for formula, constant in candidates:
        with np.errstate(all="ignore"):
            got = formula(codes, constant)
        if np.array_equal(got[kept].view(np.uint32), expected):
            return formula, constant
    return None


@lru_cache(maxsize=32)
def _code_table(
    dtype: np.dtype, scaling: _Scaling, zr: tuple[float, ...], limit: float
) -> _CodeTable:
    unsigned = np.dtype(f"u{dtype.itemsize}")
    bits = np.arange(2 ** (8 * dtype.itemsize), dtype=np.int64).astype(unsigned)
    by_bits = bits.view(dtype)  # the code of each unsigned bit pattern
    values, impossible, negative = _decode_general(by_bits, scaling, zr, limit)
    order = np.argsort(by_bits, kind="stable")  # codes ascending
    first = int(by_bits[order[0]])
    nan = np.isnan(values)
    for array in (values, impossible, negative):
        array.flags.writeable = False
    return _CodeTable(
        values=values,
        impossible=impossible,
        negative=negative,
        nan_ranges=_runs(nan[order], first),
        other_nan_ranges=_runs((nan & ~impossible)[order], first),
        impossible_ranges=_runs(impossible[order], first),
        negative_ranges=_runs(negative[order], first),
        scale=_scale_formula(by_bits, values, ~nan, scaling),
    )


def _in_range(raw: np.ndarray, lo: int, hi: int) -> np.ndarray | None:
    """Mask of ``lo <= raw <= hi`` (None: every pixel), in as few passes as possible."""
    info = np.iinfo(raw.dtype)
    if lo <= info.min and hi >= info.max:
        return None
    if lo == hi:
        return raw == lo
    if lo <= info.min:
        return raw <= hi
    if hi >= info.max:
        return raw >= lo
    return (raw >= lo) & (raw <= hi)


def _count_in_range(raw: np.ndarray, lo: int, hi: int) -> int:
    """How many pixels have ``lo <= raw <= hi``."""
    info = np.iinfo(raw.dtype)
    if lo <= info.min and hi >= info.max:
        return raw.size
    if lo == hi:
        return int(np.count_nonzero(raw == lo))
    if lo <= info.min:
        return int(np.count_nonzero(raw <= hi))
    if hi >= info.max:
        return int(np.count_nonzero(raw >= lo))
    return int(np.count_nonzero(raw >= lo)) - int(np.count_nonzero(raw > hi))


def _count_codes(
    raw: np.ndarray, bits: np.ndarray | None, ranges: tuple[tuple[int, int], ...], flags: np.ndarray
) -> int:
    """How many pixels have a code in ``ranges``: by comparisons when there are few ranges,
    else through ``flags`` (indexed by the codes' bit patterns ``bits``).
    """
    if len(ranges) <= _MAX_RANGES:
        return sum(_count_in_range(raw, lo, hi) for lo, hi in ranges)
    if bits is None:
        bits = raw.view(f"u{raw.dtype.itemsize}")
    return int(np.count_nonzero(np.take(flags, bits)))


def _decode(
    raw: np.ndarray, scaling: _Scaling, zr: tuple[float, float], limit: float
) -> tuple[np.ndarray, int, int]:
    """Physical values (float32), the number of impossible ones and, among them, of
    negative ones.

    Identical, bit for bit, to :func:`_decode_general`. Integer fields of one or two bytes
    (Météo-France uint16 counts, 8-bit reflectivities) are decoded through a table of their
    codes, itself made by :func:`_decode_general`. When one float32 operation reproduces
    the table on every valid code (checked on all of them; for Météo-France's gain of 0.01,
    dividing by 100), a frame is that operation and a NaN mask per range of nodata and
    impossible codes, with no float64 temporary; otherwise it is one lookup per pixel.
    Impossible values are counted on the codes, by comparisons.
    """
    if raw.dtype.kind not in "iu" or raw.dtype.itemsize > 2:
        values, impossible, negative = _decode_general(raw, scaling, zr, limit)
        return values, int(np.count_nonzero(impossible)), int(np.count_nonzero(negative))
    dtype = raw.dtype.newbyteorder("=")
    raw = raw.astype(dtype, copy=False)
    table = _code_table(dtype, scaling, tuple(float(v) for v in zr), float(limit))
    if (
        table.scale is not None
        and len(table.nan_ranges) <= _MAX_RANGES
        and len(table.other_nan_ranges) <= _MAX_RANGES
    ):
        formula, constant = table.scale
        values = formula(raw, constant)
        n_nan = 0
        for lo, hi in table.nan_ranges:
            mask = _in_range(raw, lo, hi)
            if mask is None:
                values.fill(np.nan)
                n_nan = raw.size
            else:
                np.copyto(values, np.float32(np.nan), where=mask)
                n_nan += int(np.count_nonzero(mask))
        other = sum(_count_in_range(raw, lo, hi) for lo, hi in table.other_nan_ranges)
        n_negative = _count_codes(raw, None, table.negative_ranges, table.negative)
        return values, n_nan - other, n_negative
    bits = raw.view(f"u{dtype.itemsize}")
    values = np.take(table.values, bits)
    n_impossible = _count_codes(raw, bits, table.impossible_ranges, table.impossible)
    n_negative = _count_codes(raw, bits, table.negative_ranges, table.negative)
    return values, n_impossible, n_negative


def _read_data(
    path: Path, cache: GroupCache, data_path: str, window: tuple[slice, slice] | None
) -> np.ndarray:
    """The data array, or only its ``window`` (a hyperslab: HDF5 reads and decompresses
    only the chunks it touches).

    Raises:
        ReaderError: ``corrupt_data`` if the array cannot be read or decompressed.
    """
    dset = cache.dataset(data_path)
    file_space = dset.get_space()
    if window is None:
        shape = dset.shape
    else:
        rows, cols = window
        shape = (rows.stop - rows.start, cols.stop - cols.start)
        file_space.select_hyperslab((rows.start, cols.start), shape)
    dtype = dset.dtype
    out = np.empty(shape, dtype=dtype.newbyteorder("=") if dtype.kind in "iuf" else dtype)
    try:
        dset.read(h5py.h5s.create_simple(shape), file_space, out)
    except (OSError, RuntimeError) as err:  # the file opened: its data chunks are damaged
        raise ReaderError(
            path, "corrupt_data", f"{data_path} cannot be read or decompressed: {err}"
        ) from None
    return out


def read_odim_frames(
    path: str | Path,
    *,
    max_rate: float = 300.0,
    zr: tuple[float, float] = (200.0, 1.6),
    quantity: str | None = None,
    expected_grid: ProjectedGrid | None = None,
    window: tuple[slice, slice] | None = None,
) -> RadarFrames:
    """Read the field of an ODIM HDF5 composite, without building its DataArray (see
    :func:`rainscore.io.radar.read_radar_frames`).
    """
    path = Path(path)
    with open_hdf5(path, chunk_cache=False) as h5:
        cache = GroupCache(h5)
        header = _read_header(path, cache, quantity)
        meta = header.meta
        check_name_time(path, [t for t in (meta.nominal_time, meta.end_time) if t is not None])
        check_grid(path, meta.grid, expected_grid)
        if window is not None:
            window = check_window(path, window, meta.shape)
        raw = _read_data(path, cache, header.data_path, window)
    limit = impossible_limit(meta.units, meta.accumulation_minutes, max_rate)
    values, n_impossible, n_negative = _decode(raw, header.scaling, zr, limit)
    extra = {"source": header.source, "gain": header.gain, "offset": header.offset}
    if meta.quantity in _REFLECTIVITY:
        extra["zr_a"], extra["zr_b"] = float(zr[0]), float(zr[1])
    if window is not None:
        extra.update(window_attrs(meta, window))
        meta = window_metadata(meta, window)
    return radar_frames(
        values,
        meta,
        n_impossible=n_impossible,
        n_negative=n_negative,
        max_rate=max_rate,
        extra_attrs=extra,
    )


def open_odim(
    path: str | Path,
    *,
    max_rate: float = 300.0,
    zr: tuple[float, float] = (200.0, 1.6),
    quantity: str | None = None,
    expected_grid: ProjectedGrid | None = None,
    window: tuple[slice, slice] | None = None,
) -> xr.DataArray:
    """Read the field of an ODIM HDF5 composite (see :func:`rainscore.io.open_radar`)."""
    return read_odim_frames(
        path,
        max_rate=max_rate,
        zr=zr,
        quantity=quantity,
        expected_grid=expected_grid,
        window=window,
    ).to_dataarray()
