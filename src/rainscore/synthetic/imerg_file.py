"""IMERG V07 half-hourly HDF5 files (Final ``.HDF5``, Early/Late ``.RT-H5``).

The structure, attribute names and strings copy a genuine V07A file (``FileHeader``,
``FileInfo``, ``GridHeader``; ``LongName``, ``Units``/``units``, ``CodeMissingValue``,
``_FillValue``, ``DimensionNames``, ``coordinates``; netCDF-style dimension scales
``time``/``lon``/``lat``/``nv``/``lonv``/``latv`` attached to every variable). Arrays are
global, ``(time=1, lon=3600, lat=1800)``, chunked like the real files (``(1, 145, 1800)``
for float32, ``(1, 291, 1800)`` for int16) and deflated; the fill value (−9999.9, or
−9999 for int16) is the dataset's HDF5 fill value and only the box hyperslab is written,
so chunks outside the box are never allocated and the files stay small.

``Grid/time`` is int32 seconds since 1980-01-06 00:00:00 UTC (the V07 epoch) at the start
of the half hour; ``time_bnds`` holds start and end (start + 1800 s).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from rainscore.atomic import atomic_path
from rainscore.grids import IMERG_NLAT, IMERG_NLON, Box, imerg_global_lat, imerg_global_lon
from rainscore.io.imerg_filename import ALGORITHM_IDS, imerg_filename
from rainscore.synthetic.hdf5 import deflate_chunk, set_attrs

V07_EPOCH = np.datetime64("1980-01-06T00:00:00", "s")
TIME_UNITS = "seconds since 1980-01-06 00:00:00 UTC"
FLOAT_FILL = np.float32(-9999.9)
INT_FILL = np.int16(-9999)
FLOAT_CHUNKS = (1, 145, 1800)
INT_CHUNKS = (1, 291, 1800)

_RUN_DOI = {"final": "3B-HH", "late": "3B-HH-L", "early": "3B-HH-E"}
_RUN_LATENCY = {
    "early": np.timedelta64(4 * 3600, "s"),
    "late": np.timedelta64(14 * 3600, "s"),
    "final": np.timedelta64(105 * 86400, "s"),
}

_FILE_INFO = (
    "DataFormatVersion=7e;\nTKCodeBuildVersion=0;\nMetadataVersion=7e;\n"
    "FormatPackage=HDF5-1.10.5;\nBlueprintFilename=GPM.V7.3IMERGHH.blueprint.xml;\n"
    "BlueprintVersion=BV_69;\nTKIOVersion=3.100;\nMetadataStyle=PVL;\n"
    "EndianType=LITTLE_ENDIAN;\n"
)
_GRID_HEADER = (
    "BinMethod=ARITHMETIC_MEAN;\nRegistration=CENTER;\nLatitudeResolution=0.1;\n"
    "LongitudeResolution=0.1;\nNorthBoundingCoordinate=90;\nSouthBoundingCoordinate=-90;\n"
    "EastBoundingCoordinate=180;\nWestBoundingCoordinate=-180;\nOrigin=SOUTHWEST;\n"
)
_NETCDF_DIM = "This is a netCDF dimension but not a netCDF variable.         2"
_IND = "\n                        "


@dataclass(frozen=True)
class VariableSpec:
    """A data variable of the IMERG V07 file.

    Attributes:
        path: Path in the file.
        dtype: ``"f4"`` or ``"i2"``.
        long_name: ``LongName`` attribute (verbatim from a real V07 file).
        units: ``Units``/``units`` attributes (``None``: absent).
    """

    path: str
    dtype: str
    long_name: str
    units: str | None

    @property
    def name(self) -> str:
        """Variable name (last path component)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def fill(self) -> np.float32 | np.int16:
        """Fill value."""
        return FLOAT_FILL if self.dtype == "f4" else INT_FILL


VARIABLES: tuple[VariableSpec, ...] = (
    VariableSpec(
        "Grid/precipitation",
        "f4",
        f"\nComplete merged microwave-infrared (gauge-adjusted){_IND}"
        "precipitation estimate;  formerly precipitationCal\n",
        "mm/hr",
    ),
    VariableSpec(
        "Grid/randomError",
        "f4",
        f"\nRoot-mean-square error estimate for {_IND}complete merged microwave-infrared "
        f"(gauge-adjusted){_IND}precipitation\n",
        "mm/hr",
    ),
    VariableSpec(
        "Grid/probabilityLiquidPrecipitation",
        "i2",
        f"\nProbability of liquid precipitation;  estimated with{_IND}"
        "a diagnostic parameterization using ancillary data\n",
        "percent",
    ),
    VariableSpec(
        "Grid/precipitationQualityIndex",
        "f4",
        f"\nPrecipitation quality index; qualitative indicator{_IND}"
        "of skill based on the microwave-infrared merging process\n",
        None,
    ),
    VariableSpec(
        "Grid/Intermediate/MWprecipitation",
        "f4",
        f"Observed merged microwave precipitation estimate;{_IND}formerly HQprecipitation",
        "mm/hr",
    ),
    VariableSpec(
        "Grid/Intermediate/MWprecipSource",
        "i2",
        f"Observed merged microwave satellite source;{_IND}formerly HQprecipSource",
        None,
    ),
    VariableSpec(
        "Grid/Intermediate/MWobservationTime",
        "i2",
        f"\nObserved merged microwave observation time after{_IND}"
        "dataset start time;  formerly HQobservationTime\n",
        "minutes",
    ),
    VariableSpec(
        "Grid/Intermediate/IRprecipitation", "f4", "Infrared precipitation estimate", "mm/hr"
    ),
    VariableSpec(
        "Grid/Intermediate/IRinfluence",
        "i2",
        f"\nRelative influence of infrared precipitation in the merged{_IND}"
        "microwave-infrared precipitation estimate\n",
        None,
    ),
    VariableSpec(
        "Grid/Intermediate/precipitationUncal",
        "f4",
        f"Merged microwave-infrared {_IND}precipitation estimate",
        "mm/hr",
    ),
)
"""The data variables of an IMERG V07 half-hourly file."""


def _iso(t: np.datetime64) -> str:
    return np.datetime_as_string(np.datetime64(t, "s"), unit="s")  # YYYY-MM-DDTHH:MM:SS


def _name(start: np.datetime64, run: str, version: str) -> str:
    """The PPS name (:func:`rainscore.io.imerg_filename.imerg_filename`) of the file."""
    return imerg_filename(np.datetime64(start, "s").item(), run=run, version=version)


def imerg_relpath(start: np.datetime64, run: str, version: str) -> Path:
    """Path relative to the world's root: ``imerg/YYYY/MM/DD/<name>``.

    ``<name>`` is the PPS name of the run's file (``3B-HHR-L.MS.MRG.3IMERG.…V07B.RT-H5``),
    built by :func:`rainscore.io.imerg_filename.imerg_filename`, where names are parsed.
    """
    day = np.datetime_as_string(np.datetime64(start, "D")).split("-")
    return Path("imerg", *day, _name(start, run, version))


def file_header(start: np.datetime64, run: str, version: str) -> str:
    """The ``FileHeader`` attribute (PVL text) of the file of the half hour ``start``."""
    start = np.datetime64(start, "s")
    stop = start + np.timedelta64(29 * 60 + 59, "s")
    generated = start + _RUN_LATENCY[run]
    fields = [
        ("DOI", f"10.5067/GPM/IMERG/{_RUN_DOI[run]}/{version[1:3]}"),
        ("DOIauthority", "http://dx.doi.org/"),
        ("DOIshortName", ALGORITHM_IDS[run]),
        ("AlgorithmID", ALGORITHM_IDS[run]),
        ("AlgorithmVersion", f"3IMERGH_{int(version[1:3])}.0"),
        ("FileName", _name(start, run, version)),
        ("SatelliteName", "MULTI"),
        ("InstrumentName", "MERGED"),
        ("GenerationDateTime", f"{_iso(generated)}.000Z"),
        ("StartGranuleDateTime", f"{_iso(start)}.000Z"),
        ("StopGranuleDateTime", f"{_iso(stop)}.999Z"),
        ("GranuleNumber", ""),
        ("NumberOfSwaths", "0"),
        ("NumberOfGrids", "1"),
        ("GranuleStart", ""),
        ("TimeInterval", "HALF_HOUR"),
        ("ProcessingSystem", "PPS"),
        ("ProductVersion", version),
        ("EmptyGranule", "NOT_EMPTY"),
        ("MissingData", ""),
    ]
    return "".join(f"{k}={v};\n" for k, v in fields)


def _b(text: str) -> np.bytes_:
    return np.bytes_(text.encode("ascii"))


def _scale(grp: h5py.Group, name: str, data: np.ndarray, attrs: dict, **kwargs) -> h5py.Dataset:
    ds = grp.create_dataset(name, data=data, **kwargs)
    ds.make_scale(_NETCDF_DIM if name in ("nv", "lonv", "latv") else "")
    set_attrs(ds, attrs)
    return ds


def write_imerg_file(
    path: str | os.PathLike,
    start: np.datetime64,
    fields: dict[str, np.ndarray],
    box: Box,
    *,
    run: str,
    version: str,
    gzip_level: int = 4,
) -> None:
    """Write one IMERG half-hourly file atomically.

    Args:
        path: Final path.
        start: Start of the half hour.
        fields: Box arrays (n_lat, n_lon), lat ascending, for every name of
            :data:`VARIABLES` (float32 or int16; NaN in float fields becomes the fill value).
        box: The box the arrays cover.
        run: ``"early"``, ``"late"`` or ``"final"``.
        version: Product version, e.g. ``"V07B"``.
        gzip_level: Deflate level.

    Raises:
        ValueError: If a variable is missing or has the wrong shape.
    """
    start = np.datetime64(start, "s")
    t = np.int32((start - V07_EPOCH) / np.timedelta64(1, "s"))
    lat64, lon64 = imerg_global_lat(), imerg_global_lon()
    lat, lon = lat64.astype(np.float32), lon64.astype(np.float32)
    lat_bnds = np.stack([lat64 - 0.05, lat64 + 0.05], axis=1).astype(np.float32)
    lon_bnds = np.stack([lon64 - 0.05, lon64 + 0.05], axis=1).astype(np.float32)
    for spec in VARIABLES:
        if spec.name not in fields:
            raise ValueError(f"IMERG file {path}: variable {spec.name!r} is missing")
        if fields[spec.name].shape != box.shape:
            raise ValueError(
                f"IMERG file {path}: {spec.name} has shape {fields[spec.name].shape}, "
                f"expected the box shape {box.shape}"
            )
    time_attrs = {
        "DimensionNames": _b("time"),
        "LongName": _b(
            "\nRepresentative time of data in \n\t\t\tseconds since 1980-01-06 00:00:00 UTC."
            "\n\t\t\tThe calculation of time does not add leap seconds.\n\t\t\tThe difference "
            "due to leap seconds grows with time \n\t\t\tand in 2019 is less than 30 seconds.\n"
        ),
        "Units": _b(TIME_UNITS),
        "axis": _b("T"),
        "bounds": _b("time_bnds"),
        "calendar": _b("julian"),
        "standard_name": _b("time"),
        "units": _b(TIME_UNITS),
    }
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        set_attrs(
            f, {"FileHeader": _b(file_header(start, run, version)), "FileInfo": _b(_FILE_INFO)}
        )
        grid = f.create_group("Grid")
        set_attrs(grid, {"GridHeader": _b(_GRID_HEADER)})
        zeros2 = np.zeros(2, dtype=np.int32)
        nv = _scale(grid, "nv", zeros2, _nc_dim_attrs("time"), chunks=(2,))
        lonv = _scale(grid, "lonv", zeros2, _nc_dim_attrs("longitude"), chunks=(2,))
        latv = _scale(grid, "latv", zeros2, _nc_dim_attrs("latitude"), chunks=(2,))
        time = _scale(
            grid,
            "time",
            np.array([t], dtype=np.int32),
            time_attrs,
            chunks=(32,),
            maxshape=(None,),
        )
        lon_ds = _scale(grid, "lon", lon, _coord_attrs("lon"), chunks=(IMERG_NLON,))
        lat_ds = _scale(grid, "lat", lat, _coord_attrs("lat"), chunks=(IMERG_NLAT,))
        time_bnds = grid.create_dataset(
            "time_bnds",
            data=np.array([[t, t + 1800]], dtype=np.int32),
            chunks=(32, 2),
            maxshape=(None, 2),
        )
        _bounds_attrs(time_bnds, "time", "nv", TIME_UNITS)
        time_bnds.dims[0].attach_scale(time)
        time_bnds.dims[1].attach_scale(nv)
        lon_b = grid.create_dataset("lon_bnds", data=lon_bnds, chunks=(IMERG_NLON, 2))
        _bounds_attrs(lon_b, "lon", "lonv", "degrees_east")
        lon_b.dims[0].attach_scale(lon_ds)
        lon_b.dims[1].attach_scale(lonv)
        lat_b = grid.create_dataset("lat_bnds", data=lat_bnds, chunks=(IMERG_NLAT, 2))
        _bounds_attrs(lat_b, "lat", "latv", "degrees_north")
        lat_b.dims[0].attach_scale(lat_ds)
        lat_b.dims[1].attach_scale(latv)

        for spec in VARIABLES:
            dtype = np.dtype(spec.dtype)
            ds = f.create_dataset(
                spec.path,
                shape=(1, IMERG_NLON, IMERG_NLAT),
                dtype=dtype,
                chunks=FLOAT_CHUNKS if spec.dtype == "f4" else INT_CHUNKS,
                compression="gzip",
                compression_opts=gzip_level,
                fillvalue=spec.fill,
            )
            values = np.asarray(fields[spec.name])
            if dtype.kind == "f":
                values = np.where(np.isfinite(values), values, spec.fill)
            _write_box(ds, values.T.astype(dtype), box, spec.fill, gzip_level)
            attrs = {
                "CodeMissingValue": _b("-9999.9" if spec.dtype == "f4" else "-9999"),
                "DimensionNames": _b("time,lon,lat"),
                "LongName": _b(spec.long_name),
                "_FillValue": spec.fill,
                "coordinates": _b("time lon lat"),
            }
            if spec.units is not None:
                attrs["Units"] = attrs["units"] = _b(spec.units)
            set_attrs(ds, attrs)
            ds.dims[0].attach_scale(time)
            ds.dims[1].attach_scale(lon_ds)
            ds.dims[2].attach_scale(lat_ds)


def _write_box(
    ds: h5py.Dataset, values: np.ndarray, box: Box, fill: np.generic, level: int
) -> None:
    """Write the (lon, lat) box hyperslab of ``ds[0]`` chunk by chunk, compressed here.

    Each chunk that meets the box is assembled in memory (fill value around the box) and
    deflated with zlib (the stream HDF5's deflate filter reads), then stored with
    ``write_direct_chunk``: several times faster than letting HDF5 fill, write and
    compress the chunk, and byte-identical in content.
    """
    _, c_lon, c_lat = ds.chunks
    lon0, lon1 = box.lon_index.start, box.lon_index.stop
    lat0, lat1 = box.lat_index.start, box.lat_index.stop
    for a in range(lon0 // c_lon * c_lon, lon1, c_lon):
        for b in range(lat0 // c_lat * c_lat, lat1, c_lat):
            chunk = np.full((1, c_lon, c_lat), fill, dtype=ds.dtype)
            i0, i1 = max(lon0, a), min(lon1, a + c_lon)
            j0, j1 = max(lat0, b), min(lat1, b + c_lat)
            chunk[0, i0 - a : i1 - a, j0 - b : j1 - b] = values[
                i0 - lon0 : i1 - lon0, j0 - lat0 : j1 - lat0
            ]
            ds.id.write_direct_chunk((0, a, b), deflate_chunk(chunk, level, shuffle=False))


def _nc_dim_attrs(what: str) -> dict[str, np.bytes_]:
    names = {"time": "nv", "longitude": "lonv", "latitude": "latv"}
    short = {"time": "time", "longitude": "lon", "latitude": "lat"}
    return {
        "DimensionNames": _b(names[what]),
        "LongName": _b(f"Number of {what} bounds."),
        "standard_name": _b(f"number{short[what]}bnds"),
    }


def _coord_attrs(name: str) -> dict[str, np.bytes_]:
    if name == "lat":
        long_name = (
            "Latitude at the center of\n\t\t\t0.10 degree grid intervals of latitude"
            "\n\t\t\tfrom -90 to 90."
        )
        units, axis, std = "degrees_north", "Y", "latitude"
    else:
        long_name = (
            "Longitude at the center of\n\t\t\t0.10 degree grid intervals of longitude "
            "\n\t\t\tfrom -180 to 180."
        )
        units, axis, std = "degrees_east", "X", "longitude"
    return {
        "DimensionNames": _b(name),
        "LongName": _b(long_name),
        "Units": _b(units),
        "axis": _b(axis),
        "bounds": _b(f"{name}_bnds"),
        "standard_name": _b(std),
        "units": _b(units),
    }


def _bounds_attrs(ds: h5py.Dataset, dim: str, vdim: str, units: str) -> None:
    set_attrs(
        ds,
        {
            "DimensionNames": _b(f"{dim},{vdim}"),
            "Units": _b(units),
            "coordinates": _b(f"{dim} {vdim}"),
            "units": _b(units),
        },
    )
