"""Benchmark: reading the France box from global IMERG files, open_imerg vs xarray.

Writes N synthetic global half-hourly files in the V07 layout (time=1, lon=3600, lat=1800,
gzip-compressed, chunked over the globe, fill -9999.9 poleward of 60° for the IR fields),
then reads the default box from each file:

- ``open_imerg``: h5py hyperslab of the box, every variable (Grid and Grid/Intermediate),
  and again with only the four ``Grid`` variables;
- ``xarray``: ``xr.open_dataset(path, group="Grid", engine=...)``, ``.sel`` of the box,
  ``.load()`` (the four ``Grid`` variables only: the ``Intermediate`` group would need a
  second open).

Each reader runs in a fresh process, so its peak memory is its own: ``tracemalloc`` peak
(Python and numpy allocations), the growth of the peak resident set (``VmHWM``, which also
sees HDF5's C buffers and decompression) over the process's state after imports, and the
process's absolute peak RSS (imports included).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_imerg_read.py [--n-files 48]
        [--engine h5netcdf|netcdf4] [--dir DIR]

``--smoke`` (the test suite's run): one nearly dry file, written with deflate level 1, one run
per reader.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import h5py
import numpy as np

GRID_VARIABLES = ["precipitation", "random_error", "liquid_probability", "quality_index"]
_CHUNKS = (1, 145, 1800)
_FILL_F = np.float32(-9999.9)
_FILL_I = np.int16(-9999)
# path, dtype, units
_LAYOUT = (
    ("Grid/precipitation", "f4", "mm/hr"),
    ("Grid/randomError", "f4", "mm/hr"),
    ("Grid/probabilityLiquidPrecipitation", "i2", "percent"),
    ("Grid/precipitationQualityIndex", "f4", None),
    ("Grid/Intermediate/MWprecipitation", "f4", "mm/hr"),
    ("Grid/Intermediate/MWprecipSource", "i2", None),
    ("Grid/Intermediate/MWobservationTime", "i2", "minutes"),
    ("Grid/Intermediate/IRprecipitation", "f4", "mm/hr"),
    ("Grid/Intermediate/IRinfluence", "i2", None),
    ("Grid/Intermediate/precipitationUncal", "f4", "mm/hr"),
)


def _global_fields(seed: int, wet_fraction: float = 0.1) -> dict[str, np.ndarray]:
    """Plausible global (lon, lat) fields: mostly dry, 0.01 mm/h resolution like PPS."""
    rng = np.random.default_rng(seed)
    shape = (3600, 1800)
    lat = -89.95 + 0.1 * np.arange(1800)
    wet = rng.random(shape, dtype=np.float32) < wet_fraction
    rain = np.where(wet, np.round(rng.lognormal(0.0, 1.0, shape).astype(np.float32), 2), 0)
    source = np.where(rng.random(shape) < 2 * wet_fraction, rng.choice([3, 5, 7, 9, 11], shape), 0)
    minutes = np.where(source > 0, rng.integers(0, 30, shape), _FILL_I)
    no_ir = np.abs(lat)[None, :] > 60
    fields = {
        "Grid/precipitation": rain,
        "Grid/randomError": np.round(rain * 0.5 + 0.05, 2),
        "Grid/probabilityLiquidPrecipitation": np.where(np.abs(lat) < 50, 100, 40)[None, :]
        + np.zeros(shape, np.int16),
        "Grid/precipitationQualityIndex": np.round(rng.random(shape, dtype=np.float32), 2),
        "Grid/Intermediate/MWprecipitation": np.where(source > 0, rain, _FILL_F),
        "Grid/Intermediate/MWprecipSource": source,
        "Grid/Intermediate/MWobservationTime": minutes,
        "Grid/Intermediate/IRprecipitation": np.where(no_ir, _FILL_F, np.round(rain * 0.7, 2)),
        "Grid/Intermediate/IRinfluence": np.where(no_ir, _FILL_I, rng.integers(0, 101, shape)),
        "Grid/Intermediate/precipitationUncal": np.round(rain * 0.9, 2),
    }
    return fields


def write_files(
    folder: Path, n_files: int, *, seed: int = 0, gzip_level: int = 4, wet_fraction: float = 0.1
) -> list[Path]:
    """N global V07B Final files, consecutive half hours from 2018-01-01 00:00."""
    fields = _global_fields(seed, wet_fraction)
    paths = []
    epoch = dt.datetime(1980, 1, 6)
    for k in range(n_files):
        start = dt.datetime(2018, 1, 1) + dt.timedelta(minutes=30 * k)
        end = start + dt.timedelta(minutes=29, seconds=59)
        name = (
            f"3B-HHR.MS.MRG.3IMERG.{start:%Y%m%d}-S{start:%H%M%S}-E{end:%H%M%S}."
            f"{start.hour * 60 + start.minute:04d}.V07B.HDF5"
        )
        path = folder / name
        with h5py.File(path, "w") as h5:
            h5.attrs["FileHeader"] = np.bytes_(
                f"AlgorithmID=3IMERGHH;\nFileName={name};\nProductVersion=V07B;\n"
                f"StartGranuleDateTime={start:%Y-%m-%dT%H:%M:%S}.000Z;\n"
            )
            grid = h5.create_group("Grid")
            grid.create_group("Intermediate")
            scales = {}
            for axis, n, origin, units in (
                ("lon", 3600, -179.95, "degrees_east"),
                ("lat", 1800, -89.95, "degrees_north"),
            ):
                d = grid.create_dataset(axis, data=(origin + 0.1 * np.arange(n)).astype("f4"))
                d.attrs["units"] = np.bytes_(units)
                d.make_scale(axis)
                scales[axis] = d
            seconds = int((start - epoch).total_seconds())
            t = grid.create_dataset("time", data=np.array([seconds], "i4"))
            t.attrs["units"] = np.bytes_("seconds since 1980-01-06 00:00:00 UTC")
            t.attrs["calendar"] = np.bytes_("julian")
            t.make_scale("time")
            scales["time"] = t
            for where, dtype, units in _LAYOUT:
                fill = _FILL_F if dtype == "f4" else _FILL_I
                values = np.roll(fields[where], 7 * k, axis=0).astype(dtype)[None]
                d = h5.create_dataset(
                    where,
                    data=values,
                    chunks=_CHUNKS,
                    compression="gzip",
                    compression_opts=gzip_level,
                    fillvalue=fill,
                )
                d.attrs["DimensionNames"] = np.bytes_("time,lon,lat")
                d.attrs["_FillValue"] = fill
                if units:
                    d.attrs["units"] = np.bytes_(units)
                for i, axis in enumerate(("time", "lon", "lat")):
                    d.dims[i].attach_scale(scales[axis])
        paths.append(path)
    return paths


def _vm_hwm_kib() -> int:
    """Peak resident set size of this process so far (KiB), from /proc (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def _worker(mode: str, folder: Path, engine: str) -> dict:
    """Read the box from every file with one method; return timings and peak memory."""
    import xarray as xr

    from rainscore.grids import DEFAULT_BOX
    from rainscore.io import open_imerg

    paths = sorted(folder.glob("*.HDF5"))
    box = DEFAULT_BOX
    lat_sel = slice(box.lat_edges[0], box.lat_edges[-1])
    lon_sel = slice(box.lon_edges[0], box.lon_edges[-1])

    def ours(path, variables):
        return open_imerg(path, box=box, variables=variables)

    def baseline(path):
        with xr.open_dataset(path, group="Grid", engine=engine) as ds:
            return (
                ds[
                    [
                        "precipitation",
                        "randomError",
                        "probabilityLiquidPrecipitation",
                        "precipitationQualityIndex",
                    ]
                ]
                .sel(lat=lat_sel, lon=lon_sel)
                .load()
            )

    read = {
        "ours_all": lambda p: ours(p, None),
        "ours_grid": lambda p: ours(p, GRID_VARIABLES),
        "xarray": baseline,
    }[mode]
    xr.DataArray(np.zeros(1)).load()  # trigger xarray's lazy imports before measuring
    hwm_before = _vm_hwm_kib()
    tracemalloc.start()
    read(paths[0])  # warm-up (HDF5 filters, engine caches), not timed but in the peaks
    t0, c0 = time.perf_counter(), time.process_time()
    first = read(paths[0])
    for path in paths[1:]:
        read(path)  # results dropped: the peak is the reader's working memory
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    precip = first["precipitation"].values.squeeze()
    if mode == "xarray":
        precip = precip.T  # (lon, lat) → (lat, lon)
        precip = np.where(precip < -9000, np.nan, precip)
    return {
        "mode": mode,
        "files": len(paths),
        "seconds": elapsed,
        "files_per_s": len(paths) / elapsed,
        "cpu_ms_per_file": 1000 * cpu / len(paths),
        "tracemalloc_peak_mib": peak / 2**20,
        "rss_peak_growth_mib": (_vm_hwm_kib() - hwm_before) / 1024,
        "rss_peak_mib": _vm_hwm_kib() / 1024,
        "precip_sum": float(np.nansum(precip)),
        "shape": list(precip.shape),
    }


def _run_worker(mode: str, folder: Path, engine: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", mode, "--dir", str(folder), "--engine", engine],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-files", type=int, default=48)
    parser.add_argument("--engine", default="h5netcdf", choices=["h5netcdf", "netcdf4"])
    parser.add_argument("--dir", type=Path, help="reuse/keep files in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader (best kept)")
    parser.add_argument("--smoke", action="store_true", help="one file, one run (test suite)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.n_files, args.repeat = 1, 1
    if args.worker:
        print(json.dumps(_worker(args.worker, args.dir, args.engine)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        existing = sorted(folder.glob("*.HDF5"))
        if len(existing) != args.n_files:
            for p in existing:
                p.unlink()
            t0 = time.perf_counter()
            if args.smoke:  # nearly dry fields, fast deflate: written in seconds
                write_files(folder, args.n_files, gzip_level=1, wet_fraction=0.002)
            else:
                write_files(folder, args.n_files)
            print(f"wrote {args.n_files} global V07 files in {time.perf_counter() - t0:.1f} s")
        size = sum(p.stat().st_size for p in folder.glob("*.HDF5")) / args.n_files / 2**20
        print(f"files: 3600 x 1800, 10 variables, gzip, chunks {_CHUNKS}, {size:.1f} MiB each")
        print(f"box: France default (72 x 104 cells); engine for xarray: {args.engine}")
        print(f"cpu cores: {os.cpu_count()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")
        modes = ("xarray", "ours_grid", "ours_all")
        runs: dict[str, list[dict]] = {m: [] for m in modes}
        for _ in range(args.repeat):  # interleaved, so a busy spell hits every reader
            for mode in modes:
                runs[mode].append(_run_worker(mode, folder, args.engine))
        labels = {
            "xarray": "xr.open_dataset(group=Grid) + sel",
            "ours_grid": "open_imerg, 4 Grid variables",
            "ours_all": "open_imerg, all 10 variables",
        }
        print(f"\nbest of {args.repeat} runs (wall clock); CPU time: median of the runs")
        print(
            f"{'reader':<34}{'files/s':>9}{'CPU ms/file':>13}{'tracemalloc peak':>18}"
            f"{'RSS peak growth':>17}{'RSS peak':>10}"
        )
        best = {}
        for mode in modes:
            r = max(runs[mode], key=lambda x: x["files_per_s"])
            cpu = float(np.median([x["cpu_ms_per_file"] for x in runs[mode]]))
            best[mode] = (r["files_per_s"], cpu)
            print(
                f"{labels[mode]:<34}{r['files_per_s']:>9.1f}{cpu:>13.1f}"
                f"{r['tracemalloc_peak_mib']:>14.1f} MiB{r['rss_peak_growth_mib']:>13.1f} MiB"
                f"{r['rss_peak_mib']:>6.0f} MiB"
            )
        print()
        for mode, text in (("ours_grid", "same 4 variables"), ("ours_all", "all 10 vs xarray's 4")):
            print(
                f"open_imerg / xarray, {text}: {best[mode][0] / best['xarray'][0]:.1f}x files/s, "
                f"{best['xarray'][1] / best[mode][1]:.1f}x less CPU per file"
            )
        sums = [runs[m][0]["precip_sum"] for m in modes]
        agree = max(sums) - min(sums) <= 1e-4 * max(1.0, abs(sums[0]))
        print(f"same box values (precipitation sum, first file): {agree}")


if __name__ == "__main__":
    main()
