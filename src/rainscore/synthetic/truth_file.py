"""The truth of a synthetic world on the box's IMERG cells (``truth/truth.nc``).

netCDF4 (written with h5netcdf), dims ``(time, lat, lon)``; ``time`` is the START of each
half hour (datetime64, UTC), ``lat``/``lon`` are the box's cell centres (float64).
"""

from __future__ import annotations

import json
import os

import numpy as np
import xarray as xr

from rainscore.atomic import atomic_path
from rainscore.grids import Box
from rainscore.synthetic.config import REGIMES
from rainscore.synthetic.constellation import SENSOR_CODES


def truth_dataset(
    times: np.ndarray,
    box: Box,
    *,
    rain: np.ndarray,
    regime: np.ndarray,
    pmw_age: np.ndarray,
    pmw_age_backward: np.ndarray,
    pmw_sensor: np.ndarray,
    wind_u: np.ndarray,
    wind_v: np.ndarray,
    attrs: dict,
) -> xr.Dataset:
    """Assemble the truth dataset.

    Args:
        times: Start of each half hour (datetime64).
        box: The box.
        rain: True half-hour mean rate (time, lat, lon), mm/h.
        regime: Regime code per half hour.
        pmw_age: Minutes from the last PMW observation to the start of the half hour
            (0 when the half hour has one; NaN before the first).
        pmw_age_backward: Minutes from the end of the half hour to the next PMW observation
            (0 when the half hour has one; NaN after the last).
        pmw_sensor: IMERG sensor code of the half hour's PMW observation, else of the last
            one (0: none yet).
        wind_u: Eastward motion of the rain (m/s) per half hour, radar grid axes.
        wind_v: Northward motion of the rain (m/s) per half hour.
        attrs: Global attributes (values must be strings or numbers).

    Returns:
        The dataset.
    """
    dims = ("time", "lat", "lon")
    codes = sorted(SENSOR_CODES)
    ds = xr.Dataset(
        {
            "rain": (
                dims,
                rain.astype(np.float32),
                {
                    "units": "mm/h",
                    "long_name": "true half-hour mean rain rate (area mean of the six 5-minute "
                    "frames stamped HH:05 to HH:30 for the half hour HH:00)",
                    "standard_name": "rainfall_rate",
                },
            ),
            "regime": (
                ("time",),
                regime.astype(np.int8),
                {
                    "long_name": "rain regime of the half hour (Markov chain state)",
                    "flag_values": np.arange(len(REGIMES), dtype=np.int8),
                    "flag_meanings": " ".join(REGIMES),
                },
            ),
            "pmw_age": (
                dims,
                pmw_age.astype(np.float32),
                {
                    "units": "minutes",
                    "long_name": "time from the last passive-microwave observation used by "
                    "the IMERG run to the start of the half hour (0: observed in the half "
                    "hour)",
                },
            ),
            "pmw_age_backward": (
                dims,
                pmw_age_backward.astype(np.float32),
                {
                    "units": "minutes",
                    "long_name": "time from the end of the half hour to the next "
                    "passive-microwave observation (0: observed in the half hour)",
                },
            ),
            "pmw_sensor": (
                dims,
                pmw_sensor.astype(np.int16),
                {
                    "long_name": "IMERG MWprecipSource code of the half hour's PMW "
                    "observation, else of the last one",
                    "flag_values": np.array(codes, dtype=np.int16),
                    "flag_meanings": " ".join(SENSOR_CODES[c].replace("-", "_") for c in codes),
                },
            ),
            "wind_u": (
                ("time",),
                wind_u.astype(np.float32),
                {"units": "m/s", "long_name": "eastward motion of the rain (radar grid x)"},
            ),
            "wind_v": (
                ("time",),
                wind_v.astype(np.float32),
                {"units": "m/s", "long_name": "northward motion of the rain (radar grid y)"},
            ),
        },
        coords={
            "time": ("time", times.astype("datetime64[ns]"), {"long_name": "start of half hour"}),
            **box.coords(),
        },
        attrs=attrs,
    )
    return ds


def write_truth_file(path: str | os.PathLike, ds: xr.Dataset) -> None:
    """Write the truth dataset atomically (netCDF4 through h5netcdf, compressed)."""
    encoding = {
        name: {"zlib": True, "complevel": 4}
        for name in ("rain", "pmw_age", "pmw_age_backward", "pmw_sensor")
    }
    encoding["time"] = {"units": "seconds since 1970-01-01 00:00:00", "dtype": "int64"}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)


def json_attr(value: object) -> str:
    """Serialise ``value`` for a netCDF attribute (JSON, sorted keys)."""
    return json.dumps(value, sort_keys=True)
