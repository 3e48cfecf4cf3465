"""Read IMERG half-hourly files of any version and run over a box, as one xarray Dataset.

Every version users hold is read through the same path: V07 (``Grid/`` and
``Grid/Intermediate/``), V06, older V03–V05 files (2-D (lon, lat) arrays without a time
dimension), PPS originals (Final ``.HDF5``, Early/Late ``.RT-H5``) and GES DISC netCDF-4
subsets (``.nc4``, whose lat/lon may already be a subset, with or without groups).

Only the box's hyperslab is read from disk (h5py), never the global 3600 × 1800 arrays.
The variables get the normalised names of :data:`~rainscore.io.imerg_variables.IMERG_VARIABLES`,
dims (time, lat, lon) with lat ascending, the box's own float64 coordinates (after checking
that the file's float32 coordinates agree with them), NaN for every fill value, ``mm/h`` for
rates, and ``time`` = start of the half hour decoded from the file's own ``units``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from rainscore.grids import DEFAULT_BOX, IMERG_NLAT, IMERG_NLON, IMERG_RES, Box
from rainscore.io.errors import ReaderError
from rainscore.io.hdf5 import attr_number, attr_text, open_hdf5, parse_header
from rainscore.io.imerg_filename import (
    ALGORITHM_IDS,
    IMERG_PRODUCTS,
    ImergFileInfo,
    normalise_version,
    parse_imerg_filename,
    version_number,
)
from rainscore.io.imerg_variables import IMERG_VARIABLES, ImergVariable

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = range(3, 8)
"""Major IMERG versions this reader knows (V03 … V07)."""

_ORIGIN = {"lat": -89.95, "lon": -179.95}
_LATTICE_TOLERANCE = 1e-3  # degrees; float32 coordinates are off by at most ~1e-5
_DEFAULT_FILLS = (-9999.9, -9999.0)
_UNIT_ALIASES = {
    "mm/hr": "mm/h",
    "mm/h": "mm/h",
    "mm hr-1": "mm/h",
    "mm h-1": "mm/h",
    "mm hr^-1": "mm/h",
    "percent": "%",
    "%": "%",
    "minutes": "min",
    "minute": "min",
    "min": "min",
}
_ALGORITHM_RUN = {algorithm: run for run, algorithm in ALGORITHM_IDS.items()}
_NEAR_REAL_TIME = "near-real-time"  # the run a generic 3IMERGHH says in a PPS-NRT file
_TIME_UNITS_RE = re.compile(
    r"^\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|d)\s+since\s+"
    r"(?P<date>\d{4}-\d{1,2}-\d{1,2})(?:[ T](?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?))?"
    r"\s*(?:UTC|Z|GMT|\+00:?00)?\s*$",
    re.IGNORECASE,
)
_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400 * 10**9}


@dataclass
class _FileRecord:
    """What one file contributed: times, box arrays (time, lat, lon) and provenance."""

    path: Path
    product: str
    version: str
    times: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


def open_imerg(
    paths: str | PathLike | Iterable[str | PathLike],
    *,
    box: Box = DEFAULT_BOX,
    variables: Sequence[str] | None = None,
    progress: bool = False,
) -> xr.Dataset:
    """Read IMERG half-hourly files over a box into one Dataset, sorted on time.

    Args:
        paths: One file or several (any version, run and format, see the module doc).
        box: The lat/lon box to read; only its hyperslab is read from disk.
        variables: Normalised names to read (keys of
            :data:`~rainscore.io.imerg_variables.IMERG_VARIABLES`). ``None`` reads every
            known variable present in the files.
        progress: Show a progress bar over the files.

    Returns:
        A Dataset with dims (time, lat, lon): lat ascending, float64 coordinates of the box
        rounded to 1e-6, ``time`` the start of each half hour (datetime64[ns], UTC), float32
        variables with NaN for missing, and attrs ``product`` (Early/Late/Final),
        ``version`` (``V07B``; several joined by commas), ``source_files`` (file names in
        time order) and ``box`` (JSON).

    Raises:
        ReaderError: A file is empty, unreadable, of an unknown version, lacks a group or a
            requested variable, does not cover the box, has a time inside that disagrees
            with its name; or files mix runs or repeat a half hour.
        ValueError: ``paths`` is empty or ``variables`` holds an unknown name.
    """
    path_list = [Path(paths)] if isinstance(paths, str | PathLike) else [Path(p) for p in paths]
    if not path_list:
        raise ValueError("open_imerg: no files given")
    specs = _resolve_variables(variables)
    records = [
        _read_file(p, box=box, specs=specs, required=variables is not None)
        for p in tqdm(path_list, desc="IMERG files", unit="file", disable=not progress)
    ]
    return _assemble(records, box)


def _resolve_variables(variables: Sequence[str] | None) -> list[ImergVariable]:
    if variables is None:
        return list(IMERG_VARIABLES.values())
    if isinstance(variables, str):
        variables = [variables]
    unknown = [v for v in variables if v not in IMERG_VARIABLES]
    if unknown:
        raise ValueError(
            f"open_imerg: unknown variable name(s) {unknown}; known names: {list(IMERG_VARIABLES)}"
        )
    return [IMERG_VARIABLES[v] for v in dict.fromkeys(variables)]


# --------------------------------------------------------------------------- one file


def _read_file(path: Path, *, box: Box, specs: list[ImergVariable], required: bool) -> _FileRecord:
    try:
        info: ImergFileInfo | None = parse_imerg_filename(path)
    except ReaderError:
        info = None
    with open_hdf5(path) as h5:
        header = parse_header(attr_text(h5, "FileHeader"))
        run = _detect_run(path, info, header)
        version = _detect_version(path, info, header, h5)
        major = version_number(version)
        original = _check_groups(path, h5, major, info)
        times = _read_times(path, h5, header, info)
        lat_pos = _box_positions(path, h5, "lat", box.lat_index)
        lon_pos = _box_positions(path, h5, "lon", box.lon_index)
        record = _FileRecord(path=path, product=IMERG_PRODUCTS[run], version=version, times=times)
        for spec in specs:
            dset, where = _find_dataset(h5, spec.path(major))
            if dset is None:
                # A PPS original always has the precipitation field (its absence means a
                # mislabelled version: V07 names in a file called V06, or the reverse), and
                # from V06 on all the others: a missing one is a damaged file.
                if required or (original and (spec.name == "precipitation" or major >= 6)):
                    raise ReaderError(
                        path,
                        "missing_variable",
                        f"{version} file has no variable {spec.path(major)!r} "
                        f"(normalised name {spec.name!r})",
                    )
                continue
            record.arrays[spec.name] = _read_box(path, dset, lat_pos, lon_pos, times.size, spec)
            record.sources[spec.name] = where
    if not record.arrays:
        raise ReaderError(
            path,
            "missing_variable",
            f"{version} file holds none of the variables {[s.path(major) for s in specs]}",
        )
    return record


def _detect_run(path: Path, info: ImergFileInfo | None, header: dict[str, str]) -> str:
    """The run (:data:`~rainscore.io.imerg_filename.IMERG_RUNS`) of a file.

    ``AlgorithmID`` names the run in production files (``3IMERGHHE``, ``3IMERGHHL``,
    ``3IMERGHH`` for Final). Near-real-time files of the V03–V04 era
    (``ProcessingSystem=PPS-NRT``) say ``3IMERGHH`` in both the Early and the Late run:
    there the run is the one of the file name, or of the header's ``FileName``.
    """
    algorithm = header.get("AlgorithmID", "")
    from_header = _ALGORITHM_RUN.get(algorithm.upper())
    if from_header == "final" and "NRT" in header.get("ProcessingSystem", "").upper():
        from_header = _NEAR_REAL_TIME
        if info is None:
            info = _header_file_name(header)
    if info is not None and from_header is not None:
        agrees = info.run != "final" if from_header == _NEAR_REAL_TIME else info.run == from_header
        if not agrees:
            said = (
                f"a {_NEAR_REAL_TIME} (ProcessingSystem={header['ProcessingSystem']}) file"
                if from_header == _NEAR_REAL_TIME
                else f"the {IMERG_PRODUCTS[from_header]} run"
            )
            raise ReaderError(
                path,
                "inconsistent",
                f"file name says the {info.product} run but FileHeader AlgorithmID="
                f"{algorithm} is {said} (mislabelled file)",
            )
    if info is not None:
        return info.run
    if from_header == _NEAR_REAL_TIME:
        raise ReaderError(
            path,
            "unknown_version",
            f"cannot tell the run: FileHeader AlgorithmID={algorithm} of a "
            f"{_NEAR_REAL_TIME} file may be Early or Late, and neither the file name nor "
            "FileHeader FileName is an IMERG name",
        )
    if from_header is None:
        raise ReaderError(
            path,
            "unknown_version",
            "cannot tell the run (Early/Late/Final): the file name is not an IMERG name "
            "and FileHeader has no AlgorithmID",
        )
    return from_header


def _header_file_name(header: dict[str, str]) -> ImergFileInfo | None:
    """What the ``FileName`` written in the header says, if it is an IMERG name."""
    try:
        return parse_imerg_filename(header.get("FileName", ""))
    except ReaderError:
        return None


def _detect_version(
    path: Path, info: ImergFileInfo | None, header: dict[str, str], h5: h5py.File
) -> str:
    in_header = header.get("ProductVersion") or None
    # Near-real-time headers write the version without its V ("03E").
    from_header = (normalise_version(in_header) or in_header) if in_header else None
    from_name = info.version if info is not None else None
    if from_header and from_name and from_header != from_name:
        raise ReaderError(
            path,
            "inconsistent",
            f"file name says version {from_name} but FileHeader ProductVersion={in_header} "
            "(mislabelled file)",
        )
    version = from_header or from_name
    if version is None:
        if _find_dataset(h5, "Grid/Intermediate/MWprecipitation")[0] is not None:
            version = "V07"
        elif _find_dataset(h5, "Grid/precipitationCal")[0] is not None:
            version = "V06"
        else:
            raise ReaderError(
                path,
                "unknown_version",
                "no version in the file name or FileHeader, and neither "
                "Grid/Intermediate/MWprecipitation (V07) nor Grid/precipitationCal (V03–V06)",
            )
        logger.warning("%s: no version in name or header; %s layout detected", path, version)
    try:
        major = version_number(version)
    except ValueError:
        major = -1
    if major not in SUPPORTED_VERSIONS:
        raise ReaderError(
            path,
            "unknown_version",
            f"IMERG version {version!r} is not supported (known: V03 to V07)",
        )
    return version


def _check_groups(path: Path, h5: h5py.File, major: int, info: ImergFileInfo | None) -> bool:
    """Check the group layout of a PPS original; return whether the file is one.

    GES DISC subsets (``.nc4``, or variables flattened at the root) may lack groups.
    """
    if info is not None and info.is_netcdf_subset:
        return False
    if not isinstance(h5.get("Grid"), h5py.Group) and (
        "precipitation" in h5 or "precipitationCal" in h5
    ):
        return False  # a flattened netCDF subset renamed without .nc4
    for group in ["Grid", "Grid/Intermediate"] if major >= 7 else ["Grid"]:
        if not isinstance(h5.get(group), h5py.Group):
            raise ReaderError(
                path,
                "missing_group",
                f"V{major:02d} file has no group {group!r} (groups present: {list(h5.keys())})",
            )
    return True


def _find_dataset(h5: h5py.File, canonical: str) -> tuple[h5py.Dataset | None, str]:
    """Find a variable at its PPS path or where netCDF subsetters put it."""
    base = canonical.rsplit("/", 1)[-1]
    candidates = (
        canonical,
        f"Grid/{base}",
        f"Grid/Intermediate/{base}",
        base,
        f"Grid_{base}",
        f"Grid_Intermediate_{base}",
    )
    for name in dict.fromkeys(candidates):
        obj = h5.get(name)
        if isinstance(obj, h5py.Dataset):
            return obj, name
    return None, canonical


# --------------------------------------------------------------------------- time


def decode_time_units(values: np.ndarray, units: str) -> np.ndarray:
    """Decode CF-style numeric times (``"seconds since 1980-01-06 00:00:00 UTC"``).

    Calendars are ignored: IMERG files say ``calendar = "julian"`` but count plain
    (proleptic Gregorian) seconds, without leap seconds.

    Args:
        values: Numeric times.
        units: ``"<seconds|minutes|hours|days> since <date>[ <time>][ UTC]"``.

    Returns:
        ``datetime64[ns]`` values.

    Raises:
        ValueError: If ``units`` cannot be parsed.
    """
    m = _TIME_UNITS_RE.match(units)
    if m is None:
        raise ValueError(f"time units {units!r} are not '<unit> since <date> [<time>]'")
    base = pd.Timestamp(f"{m['date']} {m['time'] or '00:00:00'}").to_datetime64()
    step = _UNIT_NS[m["unit"][0].lower()]
    offsets = np.rint(np.asarray(values, dtype=np.float64) * step).astype("int64")
    return base.astype("datetime64[ns]") + offsets.astype("timedelta64[ns]")


def _read_times(
    path: Path, h5: h5py.File, header: dict[str, str], info: ImergFileInfo | None
) -> np.ndarray:
    dset, where = _find_dataset(h5, "Grid/time")
    if dset is not None:
        units = attr_text(dset, "units") or attr_text(dset, "Units")
        if not units:
            raise ReaderError(path, "missing_attribute", f"variable {where!r} has no units")
        raw = np.atleast_1d(dset[()])
        try:
            times = decode_time_units(raw, units)
        except ValueError as err:
            raise ReaderError(path, "inconsistent", f"variable {where!r}: {err}") from None
        origin = f"{where} = {raw[0]} {units}"
    elif header.get("StartGranuleDateTime"):
        stamp = header["StartGranuleDateTime"]
        try:
            times = np.array([pd.Timestamp(stamp).tz_localize(None).to_datetime64()])
        except ValueError:
            raise ReaderError(
                path, "inconsistent", f"FileHeader StartGranuleDateTime={stamp!r} is not a date"
            ) from None
        times = times.astype("datetime64[ns]")
        origin = f"FileHeader StartGranuleDateTime={stamp}"
    elif info is not None:
        return np.array([np.datetime64(info.start, "ns")])
    else:
        raise ReaderError(
            path,
            "missing_variable",
            "no time variable, no FileHeader StartGranuleDateTime and no IMERG file name",
        )
    if info is not None and times[0] != np.datetime64(info.start, "ns"):
        raise ReaderError(
            path,
            "time_mismatch",
            f"time inside ({origin} → {_iso(times[0])}) disagrees with the file name "
            f"(start {info.start.isoformat()})",
        )
    return times


def _iso(t: np.datetime64) -> str:
    return str(np.datetime64(t, "s"))


# --------------------------------------------------------------------------- space


def _box_positions(path: Path, h5: h5py.File, axis: str, window: slice) -> np.ndarray:
    """Positions, in the file's ``axis`` coordinate, of the box's cells (ascending)."""
    need = np.arange(window.start, window.stop)
    dset, where = _find_dataset(h5, f"Grid/{axis}")
    if dset is None:
        # Old files without coordinate variables hold the global SOUTHWEST-origin lattice.
        return need
    values = np.asarray(dset[()], dtype=np.float64).reshape(-1)
    index = np.rint((values - _ORIGIN[axis]) / IMERG_RES)
    off = np.abs(values - (_ORIGIN[axis] + index * IMERG_RES))
    if values.size == 0 or np.nanmax(off) > _LATTICE_TOLERANCE or not np.isfinite(off).all():
        bad = values[np.argmax(np.where(np.isfinite(off), off, np.inf))] if values.size else None
        raise ReaderError(
            path,
            "inconsistent",
            f"coordinate {where!r} is not on the IMERG 0.1° lattice (e.g. {bad!r})",
        )
    index = index.astype(np.int64)
    order = np.argsort(index, kind="stable")
    found = np.searchsorted(index[order], need)
    found = np.clip(found, 0, index.size - 1)
    hit = index[order][found] == need
    if not hit.all():
        origin = _ORIGIN[axis]
        raise ReaderError(
            path,
            "outside_box",
            f"coordinate {where!r} covers {values.min():.2f}…{values.max():.2f}, but the box "
            f"needs {origin + need[0] * IMERG_RES:.2f}…{origin + need[-1] * IMERG_RES:.2f}",
        )
    return order[found]


def _axis_roles(path: Path, dset: h5py.Dataset) -> tuple[str, ...]:
    """Which of time/lat/lon each axis of ``dset`` is."""
    roles: list[str] | None = None
    names = attr_text(dset, "DimensionNames")
    if names:
        roles = [n.strip() for n in names.split(",")]
    else:
        try:
            scales = [dset.dims[i][0].name if len(dset.dims[i]) else "" for i in range(dset.ndim)]
        except (RuntimeError, KeyError, ValueError):
            scales = [""] * dset.ndim
        if all(scales):
            roles = [s.rsplit("/", 1)[-1] for s in scales]
    if roles is None:
        shape = dset.shape[-2:]
        if dset.ndim in (2, 3) and shape == (IMERG_NLAT, IMERG_NLON):
            roles = ["lat", "lon"]
        else:
            roles = ["lon", "lat"]  # the IMERG order
        if dset.ndim == 3:
            roles.insert(0, "time")
    roles = [{"nlon": "lon", "nlat": "lat"}.get(r, r) for r in roles]
    if len(roles) != dset.ndim or not {"lat", "lon"} <= set(roles) <= {"time", "lat", "lon"}:
        raise ReaderError(
            path,
            "inconsistent",
            f"variable {dset.name!r} has dims {roles} (shape {dset.shape}); expected "
            "(time, lon, lat), (time, lat, lon) or (lon, lat)",
        )
    return tuple(roles)


def _read_box(
    path: Path,
    dset: h5py.Dataset,
    lat_pos: np.ndarray,
    lon_pos: np.ndarray,
    n_times: int,
    spec: ImergVariable,
) -> np.ndarray:
    roles = _axis_roles(path, dset)
    sizes = dict(zip(roles, dset.shape, strict=True))
    if sizes.get("time", n_times) != n_times:
        raise ReaderError(
            path,
            "inconsistent",
            f"variable {dset.name!r} has {sizes['time']} time steps, the time variable {n_times}",
        )
    pos = {"lat": lat_pos, "lon": lon_pos}
    for axis in ("lat", "lon"):
        if pos[axis].max() >= sizes[axis]:
            raise ReaderError(
                path,
                "inconsistent",
                f"variable {dset.name!r} has {sizes[axis]} {axis} cells, fewer than its "
                f"{axis} coordinate",
            )
    lo = {a: int(p.min()) for a, p in pos.items()}
    hi = {a: int(p.max()) + 1 for a, p in pos.items()}
    selection = tuple(slice(lo[r], hi[r]) if r in pos else slice(None) for r in roles)
    raw = dset[selection]
    if "time" not in roles:
        raw = raw[np.newaxis]
        roles = ("time", *roles)
    raw = np.transpose(raw, [roles.index("time"), roles.index("lat"), roles.index("lon")])
    lat_take, lon_take = lat_pos - lo["lat"], lon_pos - lo["lon"]
    if not np.array_equal(lat_take, np.arange(lat_take.size)):
        raw = raw[:, lat_take, :]
    if not np.array_equal(lon_take, np.arange(lon_take.size)):
        raw = raw[:, :, lon_take]
    _check_units(path, dset, spec)
    return _decode(dset, raw)


def _check_units(path: Path, dset: h5py.Dataset, spec: ImergVariable) -> None:
    units = attr_text(dset, "units") or attr_text(dset, "Units")
    if not units or spec.units in (None, "1"):
        return
    if _UNIT_ALIASES.get(units.strip().lower()) != spec.units:
        raise ReaderError(
            path,
            "inconsistent",
            f"variable {dset.name!r} has units {units!r}; expected {spec.units} "
            f"(for {spec.name!r})",
        )


def _fill_values(dset: h5py.Dataset) -> list[float]:
    fills = [attr_number(dset, a) for a in ("_FillValue", "missing_value", "CodeMissingValue")]
    return [f for f in (*fills, *_DEFAULT_FILLS) if f is not None]


def _decode(dset: h5py.Dataset, raw: np.ndarray) -> np.ndarray:
    """Raw values → float32 with NaN for every fill value, unpacked if packed."""
    fills = _fill_values(dset)
    if raw.dtype.kind in "iu":
        missing = np.isin(raw, [int(f) for f in fills if float(f).is_integer()])
    else:
        missing = np.zeros(raw.shape, dtype=bool)
        for f in dict.fromkeys(fills):
            missing |= np.abs(raw - f) < 1e-2
        missing |= ~np.isfinite(raw)
    scale = attr_number(dset, "scale_factor")
    offset = attr_number(dset, "add_offset")
    out = raw.astype(np.float32)
    if scale is not None or offset is not None:
        out = (out * np.float32(scale or 1.0) + np.float32(offset or 0.0)).astype(np.float32)
    out[missing] = np.nan
    return out


# --------------------------------------------------------------------------- assembly


def _assemble(records: list[_FileRecord], box: Box) -> xr.Dataset:
    records = sorted(records, key=lambda r: r.times[0])
    first = records[0]
    seen: dict[np.datetime64, Path] = {}
    for rec in records:
        if rec.product != first.product:
            raise ReaderError(
                rec.path,
                "inconsistent",
                f"{rec.product} run mixed with the {first.product} run of {first.path.name}; "
                "read one run at a time",
            )
        for t in rec.times:
            if t in seen:
                raise ReaderError(
                    rec.path,
                    "inconsistent",
                    f"half hour {_iso(t)} is also in {seen[t].name} (duplicate time)",
                )
            seen[t] = rec.path
    names = [n for n in IMERG_VARIABLES if any(n in r.arrays for r in records)]
    shape = box.shape
    data_vars = {}
    for name in names:
        parts = []
        for rec in records:
            arr = rec.arrays.get(name)
            if arr is None:
                logger.warning("%s: no %s; filled with NaN", rec.path, name)
                arr = np.full((rec.times.size, *shape), np.nan, dtype=np.float32)
            parts.append(arr)
        sources = sorted({r.sources[name] for r in records if name in r.sources})
        attrs = IMERG_VARIABLES[name].attrs(", ".join(sources))
        data_vars[name] = (("time", "lat", "lon"), np.concatenate(parts, axis=0), attrs)
    times = np.concatenate([r.times for r in records]).astype("datetime64[ns]")
    order = np.argsort(times, kind="stable")
    if not np.array_equal(order, np.arange(order.size)):
        times = times[order]
        data_vars = {k: (d, a[order], at) for k, (d, a, at) in data_vars.items()}
    coords = {
        "time": xr.DataArray(
            times,
            dims="time",
            attrs={"standard_name": "time", "long_name": "start of the half hour (UTC)"},
        ),
        **box.coords(),
    }
    versions = sorted({r.version for r in records})
    attrs = {
        "title": f"IMERG {first.product} run, half-hourly, over a lat/lon box",
        "product": first.product,
        "version": ",".join(versions),
        "source_files": [r.path.name for r in records],
        "box": json.dumps(box.to_dict()),
        "Conventions": "CF-1.8",
    }
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
