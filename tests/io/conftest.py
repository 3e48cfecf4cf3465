"""Factories writing small files in the real IMERG, ODIM and Météo-France layouts.

They are exposed as fixtures returning the writer functions (importing from a test module
would clash across test folders). Every writer is seeded or takes explicit values.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h5py
import netCDF4
import numpy as np
import pytest
from pyproj import Transformer

from rainscore.grids import DEFAULT_BOX, ProjectedGrid

FILL_F = np.float32(-9999.9)
FILL_I = np.int16(-9999)

# normalised name → (V07 path, V06 path, dtype, units attribute or None)
LAYOUT = {
    "precipitation": ("Grid/precipitation", "Grid/precipitationCal", "f4", "mm/hr"),
    "precipitation_uncal": (
        "Grid/Intermediate/precipitationUncal",
        "Grid/precipitationUncal",
        "f4",
        "mm/hr",
    ),
    "random_error": ("Grid/randomError", "Grid/randomError", "f4", "mm/hr"),
    "liquid_probability": (
        "Grid/probabilityLiquidPrecipitation",
        "Grid/probabilityLiquidPrecipitation",
        "i2",
        "percent",
    ),
    "quality_index": (
        "Grid/precipitationQualityIndex",
        "Grid/precipitationQualityIndex",
        "f4",
        None,
    ),
    "mw_precipitation": (
        "Grid/Intermediate/MWprecipitation",
        "Grid/HQprecipitation",
        "f4",
        "mm/hr",
    ),
    "mw_source": ("Grid/Intermediate/MWprecipSource", "Grid/HQprecipSource", "i2", None),
    "mw_observation_time": (
        "Grid/Intermediate/MWobservationTime",
        "Grid/HQobservationTime",
        "i2",
        "minutes",
    ),
    "ir_precipitation": (
        "Grid/Intermediate/IRprecipitation",
        "Grid/IRprecipitation",
        "f4",
        "mm/hr",
    ),
    "ir_influence": ("Grid/Intermediate/IRinfluence", "Grid/IRkalmanFilterWeight", "i2", None),
}
ALGORITHM = {"F": "3IMERGHH", "E": "3IMERGHHE", "L": "3IMERGHHL"}
EPOCH = {
    8: "1980-01-06",
    7: "1980-01-06",
    6: "1970-01-01",
    5: "1970-01-01",
    4: "1970-01-01",
    3: "1970-01-01",
}


def imerg_name(start: dt.datetime, *, run: str = "F", version: str = "V07B", nc4: bool = False):
    """The PPS name of a half-hourly file."""
    suffix = "" if run == "F" else f"-{run}"
    ext = "HDF5" if run == "F" else "RT-H5"
    end = start + dt.timedelta(minutes=29, seconds=59)
    minutes = start.hour * 60 + start.minute
    name = (
        f"3B-HHR{suffix}.MS.MRG.3IMERG.{start:%Y%m%d}-S{start:%H%M%S}-E{end:%H%M%S}."
        f"{minutes:04d}.{version}.{ext}"
    )
    return name + ".nc4" if nc4 else name


def imerg_fields(shape: tuple[int, int], seed: int) -> dict[str, np.ndarray]:
    """Plausible values (lat, lon) for every variable, NaN where missing (seeded)."""
    rng = np.random.default_rng(seed)
    rain = np.where(rng.random(shape) < 0.3, rng.lognormal(0.0, 1.0, shape), 0.0)
    source = np.where(rng.random(shape) < 0.25, rng.choice([3, 5, 7, 9, 11], shape), 0)
    minutes = np.where(source > 0, rng.integers(0, 30, shape), np.nan)
    fields = {
        "precipitation": rain,
        "precipitation_uncal": rain * 0.9,
        "random_error": rain * 0.5 + 0.1,
        "liquid_probability": rng.integers(0, 101, shape).astype(float),
        "quality_index": rng.random(shape),
        "mw_precipitation": np.where(source > 0, rain * 1.1, np.nan),
        "mw_source": source.astype(float),
        "mw_observation_time": minutes,
        "ir_precipitation": rain * 0.7,
        "ir_influence": rng.integers(0, 101, shape).astype(float),
    }
    fields["precipitation"][0, 0] = np.nan  # one missing pixel in every float field
    for k in ("precipitation_uncal", "random_error", "quality_index", "ir_precipitation"):
        fields[k][0, 0] = np.nan
    fields["liquid_probability"][0, 1] = np.nan
    return {k: np.asarray(v, dtype=np.float64) for k, v in fields.items()}


def _to_file(values: np.ndarray, dtype: str) -> np.ndarray:
    fill = FILL_F if dtype == "f4" else FILL_I
    out = np.where(np.isnan(values), fill, values)
    return np.round(out).astype(dtype) if dtype == "i2" else out.astype(dtype)


def _header(start: dt.datetime, name: str, run: str, version: str) -> str:
    stop = start + dt.timedelta(minutes=29, seconds=59.999)
    return (
        f"DOI=10.5067/GPM/IMERG/3B-HH/07;\nDOIauthority=http://dx.doi.org/;\n"
        f"DOIshortName={ALGORITHM[run]};\nAlgorithmID={ALGORITHM[run]};\n"
        f"AlgorithmVersion=3IMERGH_7.0;\nFileName={name};\nSatelliteName=MULTI;\n"
        f"InstrumentName=MERGED;\nGenerationDateTime=2024-01-01T00:00:00.000Z;\n"
        f"StartGranuleDateTime={start:%Y-%m-%dT%H:%M:%S}.000Z;\n"
        f"StopGranuleDateTime={stop:%Y-%m-%dT%H:%M:%S}.999Z;\nGranuleNumber=;\n"
        f"NumberOfSwaths=0;\nNumberOfGrids=1;\nGranuleStart=;\nTimeInterval=HALF_HOUR;\n"
        f"ProcessingSystem=PPS;\nProductVersion={version};\nEmptyGranule=NOT_EMPTY;\n"
        f"MissingData=;\n"
    )


def write_imerg(
    folder: Path,
    start: dt.datetime,
    *,
    fields: dict[str, np.ndarray] | None = None,
    at: tuple[int, int] = (DEFAULT_BOX.lat_index.start, DEFAULT_BOX.lon_index.start),
    run: str = "F",
    version: str = "V07B",
    name: str | None = None,
    inside_start: dt.datetime | None = None,
    two_d: bool = False,
    with_time: bool = True,
    with_coords: bool = True,
    header_version: str | None = None,
    header_run: str | None = None,
    skip_groups: tuple[str, ...] = (),
    units_override: dict[str, str] | None = None,
) -> Path:
    """A global IMERG half-hourly file in the PPS layout of ``version``.

    Only ``fields`` (lat, lon) at global indices ``at`` = (lat row, lon column) are written;
    the rest of the chunked, gzip-compressed global arrays is the fill value. ``two_d``
    writes V03–V05 style (lon, lat) arrays without a time dimension.
    """
    major = int(version[1:3])
    name = name or imerg_name(start, run=run, version=version)
    path = folder / name
    fields = fields if fields is not None else imerg_fields((8, 10), seed=0)
    inside = inside_start or start
    with h5py.File(path, "w") as h5:
        h5.attrs["FileHeader"] = np.bytes_(
            _header(start, name, header_run or run, header_version or version)
        )
        grid = h5.create_group("Grid")
        grid.attrs["GridHeader"] = np.bytes_(
            "BinMethod=ARITHMETIC_MEAN;\nRegistration=CENTER;\nLatitudeResolution=0.1;\n"
            "LongitudeResolution=0.1;\nNorthBoundingCoordinate=90;\n"
            "SouthBoundingCoordinate=-90;\nEastBoundingCoordinate=180;\n"
            "WestBoundingCoordinate=-180;\nOrigin=SOUTHWEST;\n"
        )
        if major >= 7 and "Grid/Intermediate" not in skip_groups:
            grid.create_group("Intermediate")
        scales = {}
        if with_coords:
            for axis, n, origin, units in (
                ("lon", 3600, -179.95, "degrees_east"),
                ("lat", 1800, -89.95, "degrees_north"),
            ):
                d = grid.create_dataset(axis, data=(origin + 0.1 * np.arange(n)).astype("f4"))
                d.attrs["units"] = np.bytes_(units)
                d.attrs["Units"] = np.bytes_(units)
                d.make_scale(axis)
                scales[axis] = d
        if with_time and not two_d:
            epoch = EPOCH[major]
            seconds = int((inside - dt.datetime.fromisoformat(epoch)).total_seconds())
            units = f"seconds since {epoch} 00:00:00 UTC"
            t = grid.create_dataset("time", data=np.array([seconds], dtype="i4"))
            t.attrs["units"] = np.bytes_(units)
            t.attrs["Units"] = np.bytes_(units)
            t.attrs["calendar"] = np.bytes_("julian")
            t.make_scale("time")
            tb = grid.create_dataset("time_bnds", data=np.array([[seconds, seconds + 1800]], "i4"))
            tb.attrs["units"] = np.bytes_(units)
            scales["time"] = t
        j0, i0 = at
        for key, (p07, p06, dtype, units) in LAYOUT.items():
            if key not in fields:
                continue
            where = p07 if major >= 7 else p06
            if any(where.startswith(g + "/") for g in skip_groups):
                continue
            shape = (3600, 1800) if two_d else (1, 3600, 1800)
            chunks = (145, 1800) if two_d else (1, 145, 1800)
            fill = FILL_F if dtype == "f4" else FILL_I
            d = h5.create_dataset(
                where, shape, dtype=dtype, chunks=chunks, compression="gzip", fillvalue=fill
            )
            block = _to_file(fields[key], dtype).T  # (lon, lat)
            sl = (slice(i0, i0 + block.shape[0]), slice(j0, j0 + block.shape[1]))
            d[sl if two_d else (0, *sl)] = block
            d.attrs["DimensionNames"] = np.bytes_("lon,lat" if two_d else "time,lon,lat")
            d.attrs["_FillValue"] = fill
            d.attrs["CodeMissingValue"] = np.bytes_("-9999.9" if dtype == "f4" else "-9999")
            the_units = (units_override or {}).get(key, units)
            if the_units:
                d.attrs["units"] = np.bytes_(the_units)
                d.attrs["Units"] = np.bytes_(the_units)
            axes = ("lon", "lat") if two_d else ("time", "lon", "lat")
            for k, axis in enumerate(axes):
                if axis in scales:
                    d.dims[k].attach_scale(scales[axis])
    return path


def write_imerg_nc4(
    folder: Path,
    start: dt.datetime,
    *,
    fields: dict[str, np.ndarray],
    lat: np.ndarray,
    lon: np.ndarray,
    version: str = "V07B",
    groups: bool = False,
    time_units: str = "seconds since 1970-01-01 00:00:00 UTC",
) -> Path:
    """A GES DISC-style netCDF-4 subset: float32 lat/lon covering only a region.

    ``fields`` are (lat, lon) in the order of ``lat``/``lon`` (either may be descending).
    ``groups`` keeps the ``Grid``/``Grid/Intermediate`` hierarchy; otherwise every variable
    is at the root under its PPS base name.
    """
    major = int(version[1:3])
    name = imerg_name(start, version=version, nc4=True)
    path = folder / name
    base = dt.datetime.fromisoformat(time_units.split("since ")[1].split(" ")[0])
    with netCDF4.Dataset(path, "w") as nc:
        nc.FileHeader = _header(start, name.removesuffix(".nc4"), "F", version)
        root = nc.createGroup("Grid") if groups else nc
        root.createDimension("time", 1)
        root.createDimension("lon", lon.size)
        root.createDimension("lat", lat.size)
        t = root.createVariable("time", "f8", ("time",))
        t.units = time_units
        t[:] = [(start - base).total_seconds()]
        for axis, values in (("lat", lat), ("lon", lon)):
            v = root.createVariable(axis, "f4", (axis,))
            v[:] = values.astype("f4")
        for key, (p07, p06, dtype, units) in LAYOUT.items():
            if key not in fields:
                continue
            where = p07 if major >= 7 else p06
            leaf = where.rsplit("/", 1)[-1]
            parent = root
            if groups and "/Intermediate/" in where:
                parent = root.groups.get("Intermediate") or root.createGroup("Intermediate")
            fill = FILL_F if dtype == "f4" else FILL_I
            v = parent.createVariable(
                leaf, dtype, ("time", "lon", "lat"), fill_value=fill, zlib=True
            )
            v.set_auto_maskandscale(False)
            if units:
                v.units = units
            v[0] = _to_file(fields[key], dtype).T
    return path


def _corners(grid: ProjectedGrid) -> dict[str, float]:
    to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
    out = {}
    for label, x, y in (
        ("UL", grid.x_min, grid.y_max),
        ("UR", grid.x_max, grid.y_max),
        ("LL", grid.x_min, grid.y_min),
        ("LR", grid.x_max, grid.y_min),
    ):
        lon, lat = to_ll.transform(x, y)
        out[f"{label}_lon"], out[f"{label}_lat"] = float(lon), float(lat)
    return out


def write_odim(
    path: Path,
    values: np.ndarray,
    *,
    grid: ProjectedGrid | None,
    end: dt.datetime,
    start: dt.datetime | None = None,
    nominal: dt.datetime | None = None,
    quantity: str | None = "ACRR",
    gain: float | None = 0.01,
    offset: float | None = 0.0,
    nodata: float | None = 65535.0,
    undetect: float | None = None,
    source: str = "ORG:85",
    conventions: str = "ODIM_H5/V2_1",
    chunks: tuple[int, int] | None = None,
) -> Path:
    """An ODIM HDF5 composite in the Météo-France mosaic layout (defaults) or any other.

    ``grid=None`` writes no ``where`` group. ``values`` are written as they are (their
    dtype is the file's), rows north to south, gzipped in ``chunks`` (default: up to
    256 × 256, as Météo-France's).
    """
    nominal = nominal or end
    start = start if start is not None else end - dt.timedelta(minutes=5)
    with h5py.File(path, "w") as h5:
        h5.attrs["Conventions"] = np.bytes_(conventions)
        what = h5.create_group("what")
        for key, value in (
            ("object", "COMP"),
            ("date", f"{nominal:%Y%m%d}"),
            ("time", f"{nominal:%H%M%S}"),
            ("source", source),
            ("version", "H5rad 2.1"),
        ):
            what.attrs[key] = np.bytes_(value)
        if grid is not None:
            where = h5.create_group("where")
            where.attrs["projdef"] = np.bytes_(grid.crs)
            where.attrs["xsize"] = np.int64(grid.nx)
            where.attrs["ysize"] = np.int64(grid.ny)
            where.attrs["xscale"] = np.float64(grid.dx)
            where.attrs["yscale"] = np.float64(grid.dy)
            for key, value in _corners(grid).items():
                where.attrs[key] = np.float64(value)
        how = h5.create_group("how")
        how.attrs["software"] = np.bytes_("rainscore tests")
        dwhat = h5.create_group("dataset1/what")
        dwhat.attrs["product"] = np.bytes_("COMP")
        if quantity is not None:
            dwhat.attrs["quantity"] = np.bytes_(quantity)
        dwhat.attrs["startdate"] = np.bytes_(f"{start:%Y%m%d}")
        dwhat.attrs["starttime"] = np.bytes_(f"{start:%H%M%S}")
        dwhat.attrs["enddate"] = np.bytes_(f"{end:%Y%m%d}")
        dwhat.attrs["endtime"] = np.bytes_(f"{end:%H%M%S}")
        for key, value in (
            ("gain", gain),
            ("offset", offset),
            ("nodata", nodata),
            ("undetect", undetect),
        ):
            if value is not None:
                dwhat.attrs[key] = np.float64(value)
        h5.create_dataset(
            "dataset1/data1/data",
            data=values,
            chunks=chunks or (min(values.shape[0], 256), min(values.shape[1], 256)),
            compression="gzip",
        )
    return path


@pytest.fixture
def imerg_writer():
    """:func:`write_imerg`."""
    return write_imerg


@pytest.fixture
def imerg_nc4_writer():
    """:func:`write_imerg_nc4`."""
    return write_imerg_nc4


@pytest.fixture
def odim_writer():
    """:func:`write_odim`."""
    return write_odim


@pytest.fixture
def fields_factory():
    """:func:`imerg_fields`."""
    return imerg_fields


@pytest.fixture
def name_factory():
    """:func:`imerg_name`."""
    return imerg_name
