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
from rainscore.io.hdf5 import attr_number, attr_text, open_hdf5
from rainscore.io.radar_field import (
    ACCUMULATION_UNITS,
    RATE_UNITS,
    RadarMetadata,
    build_radar_array,
    check_grid,
    check_name_time,
    impossible_limit,
    mask_impossible,
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
class _OdimHeader:
    """Everything :func:`odim_metadata` learns, plus where the data and scaling are."""

    meta: RadarMetadata
    data_path: str
    gain: float
    offset: float
    nodata: float | None
    undetect: float | None
    source: str


def _numbered(group: h5py.Group, prefix: str) -> list[str]:
    found = []
    for key in group:
        m = _NUMBERED.match(key)
        if m and m[1] == prefix and isinstance(group[key], h5py.Group):
            found.append((int(m[2]), key))
    return [key for _, key in sorted(found)]


def _chain(h5: h5py.File, dataset: str, data: str, kind: str) -> list[h5py.Group]:
    """``what`` or ``where`` groups from the most specific to the root."""
    paths = (f"{dataset}/{data}/{kind}", f"{dataset}/{kind}", kind)
    return [h5[p] for p in paths if isinstance(h5.get(p), h5py.Group)]


def _text(chain: list[h5py.Group], name: str) -> str | None:
    for group in chain:
        value = attr_text(group, name)
        if value:
            return value
    return None


def _number(chain: list[h5py.Group], name: str) -> float | None:
    for group in chain:
        value = attr_number(group, name)
        if value is not None:
            return value
    return None


def _when(path: Path, date: str | None, time: str | None, label: str) -> dt.datetime | None:
    if not date or not time:
        return None
    try:
        return dt.datetime.strptime(date + time.ljust(6, "0")[:6], "%Y%m%d%H%M%S")
    except ValueError:
        raise ReaderError(
            path, "inconsistent", f"{label} date/time {date!r} {time!r} is not YYYYMMDD HHMMSS"
        ) from None


def _select_data(path: Path, h5: h5py.File, quantity: str | None) -> tuple[str, str, str]:
    """(dataset, data, quantity) of the field to read: the first supported one by default."""
    if quantity is not None and quantity.upper() not in QUANTITY_UNITS:
        raise ReaderError(
            path,
            "unknown_quantity",
            f"quantity {quantity!r} is not one the reader converts ({sorted(QUANTITY_UNITS)})",
        )
    datasets = _numbered(h5, "dataset")
    if not datasets:
        raise ReaderError(
            path,
            "missing_group",
            f"no /dataset1 group (groups present: {list(h5.keys())}); not an ODIM composite",
        )
    seen = []
    for ds in datasets:
        for data in _numbered(h5[ds], "data"):
            dset = h5.get(f"{ds}/{data}/data")
            if not isinstance(dset, h5py.Dataset):
                continue
            what = _chain(h5, ds, data, "what")
            # A Météo-France mosaic that does not say what it holds is a 5-minute ACRR.
            source = _text(what, "source") or ""
            mf = _METEOFRANCE_ORG in source or dset.shape in _METEOFRANCE_GRIDS
            q = (_text(what, "quantity") or ("ACRR" if mf else "")).upper()
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


def _grid(
    path: Path, h5: h5py.File, ds: str, data: str, shape: tuple[int, int], meteofrance: bool
) -> ProjectedGrid:
    where = _chain(h5, ds, data, "where")
    projdef = _text(where, "projdef")
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
        values[name] = _number(where, name)
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
    try:
        to_xy = _to_xy(projdef)
    except ProjError as err:
        raise ReaderError(path, "inconsistent", f"where/projdef {projdef!r}: {err}") from None
    dx, dy = values["xscale"], values["yscale"]
    x_min, y_max = to_xy.transform(values["UL_lon"], values["UL_lat"])
    lr_lon, lr_lat = _number(where, "LR_lon"), _number(where, "LR_lat")
    if lr_lon is not None and lr_lat is not None:
        x_lr, y_lr = to_xy.transform(lr_lon, lr_lat)
        if abs(x_lr - (x_min + nx * dx)) > dx / 2 or abs(y_lr - (y_max - ny * dy)) > dy / 2:
            raise ReaderError(
                path,
                "inconsistent",
                f"where corners disagree with the grid size: UL projects to ({x_min:.1f}, "
                f"{y_max:.1f}) m and LR to ({x_lr:.1f}, {y_lr:.1f}) m, but {nx} × {ny} pixels "
                f"of {dx:g} × {dy:g} m end at ({x_min + nx * dx:.1f}, {y_max - ny * dy:.1f}) m",
            )
    source = _text(_chain(h5, ds, data, "what"), "source") or ""
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


def _read_header(path: Path, h5: h5py.File, quantity: str | None) -> _OdimHeader:
    ds, data, q = _select_data(path, h5, quantity)
    what = _chain(h5, ds, data, "what")
    source = _text(what, "source") or ""
    dset = h5[f"{ds}/{data}/data"]
    if dset.ndim != 2:
        raise ReaderError(
            path, "inconsistent", f"{dset.name} has shape {dset.shape}; expected 2-D (y, x)"
        )
    shape = (int(dset.shape[0]), int(dset.shape[1]))
    projdef = _text(_chain(h5, ds, data, "where"), "projdef")
    meteofrance = (
        _METEOFRANCE_ORG in source
        or (projdef is None and shape in _METEOFRANCE_GRIDS)
        or (projdef is not None and _is_meteofrance_crs(projdef))
    )
    grid = _grid(path, h5, ds, data, shape, meteofrance)
    root_what = [h5["what"]] if isinstance(h5.get("what"), h5py.Group) else []
    nominal = _when(path, _text(root_what, "date"), _text(root_what, "time"), "what")
    end = _when(path, _text(what, "enddate"), _text(what, "endtime"), f"{ds} end") or nominal
    if end is None:
        raise ReaderError(
            path, "missing_attribute", "no end time (what/enddate+endtime) nor what/date+time"
        )
    start = _when(path, _text(what, "startdate"), _text(what, "starttime"), f"{ds} start")
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
    gain, nodata = _number(what, "gain"), _number(what, "nodata")
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
        data_path=dset.name,
        gain=1.0 if gain is None else gain,
        offset=_number(what, "offset") or 0.0,
        nodata=nodata,
        undetect=_number(what, "undetect"),
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
        meta = _read_header(path, h5, quantity).meta
    check_name_time(path, [t for t in (meta.nominal_time, meta.end_time) if t is not None])
    return meta


def open_odim(
    path: str | Path,
    *,
    max_rate: float = 300.0,
    zr: tuple[float, float] = (200.0, 1.6),
    quantity: str | None = None,
    expected_grid: ProjectedGrid | None = None,
) -> xr.DataArray:
    """Read the field of an ODIM HDF5 composite (see :func:`rainscore.io.open_radar`)."""
    path = Path(path)
    with open_hdf5(path) as h5:
        header = _read_header(path, h5, quantity)
        meta = header.meta
        check_name_time(path, [t for t in (meta.nominal_time, meta.end_time) if t is not None])
        check_grid(path, meta.grid, expected_grid)
        raw = h5[header.data_path][()]
    nodata = raw == header.nodata if header.nodata is not None else np.zeros(raw.shape, bool)
    undetect = raw == header.undetect if header.undetect is not None else np.zeros(raw.shape, bool)
    values = raw.astype(np.float64) * header.gain + header.offset
    if meta.quantity in _REFLECTIVITY:
        a, b = zr
        with np.errstate(over="ignore", invalid="ignore"):
            values = (10.0 ** (values / 10.0) / a) ** (1.0 / b)
    values[undetect] = 0.0
    values[nodata | ~np.isfinite(values)] = np.nan
    limit = impossible_limit(meta.units, meta.accumulation_minutes, max_rate)
    n_impossible = mask_impossible(values, limit)
    extra = {"source": header.source, "gain": header.gain, "offset": header.offset}
    if meta.quantity in _REFLECTIVITY:
        extra["zr_a"], extra["zr_b"] = float(zr[0]), float(zr[1])
    return build_radar_array(
        values, meta, n_impossible=n_impossible, max_rate=max_rate, extra_attrs=extra
    )
