"""Benchmark: random reads of whole maps by time index from a store (training's access).

Builds a two-month store (2,880 half hours of 72 × 104, the IMERG-side input channels:
precipitation, quality index, IR influence, PMW age forward/backward, PMW present, all
float32, plausible values so that compression is realistic) with
``rainscore.datasets.XarrayZarrDataset``, one store per layout (time chunk / shard), then
reads all channels of one map by shuffled time index, on one core, for a few seconds, by:

- ``MapReader``: :class:`rainscore.stores.MapReader` (the store's files read directly);
- ``zarr``: zarr-python, ``array[i]`` per channel;
- ``xarray``: ``open_store(chunks=None).isel(time=i)``, ``.values`` per channel;

against two references in the same run: the same maps from an in-memory numpy array (the
ceiling), and from the netCDF export of the store (``export_netcdf``, the netCDF dataset's
default ~4 MB time chunks) read per map with h5py. Prints maps/s and the goal (≥ 2,000
maps/s). Every path's maps are checked against the in-memory array first.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_random_reads.py [--maps 2880]
        [--seconds 3] [--layouts 1/48 1/none 8/48 1/48/zstd] [--no-netcdf] [--dir DIR]
        [--smoke]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import xarray as xr
import zarr

from rainscore.datasets import XarrayZarrDataset, export_netcdf
from rainscore.stores import MapReader, open_store, store_nbytes

CHANNELS = (
    "precipitation",
    "quality_index",
    "ir_influence",
    "pmw_age_forward",
    "pmw_age_backward",
    "pmw_present",
)
SHAPE = (72, 104)
GOAL = 2000.0
BLOCK = 48


def synthetic_blocks(n_maps: int, seed: int = 0) -> Iterator[xr.Dataset]:
    """The input channels in blocks of a day: mostly dry rain at 0.01 mm/h resolution,
    quality in hundredths, IR influence in percent, PMW ages in minutes (NaN when none)."""
    rng = np.random.default_rng(seed)
    times = pd.date_range("2024-06-01", periods=n_maps, freq="30min")
    lat = np.round(42.85 + 0.1 * np.arange(SHAPE[0]), 6)
    lon = np.round(-2.75 + 0.1 * np.arange(SHAPE[1]), 6)
    for start in range(0, n_maps, BLOCK):
        n = min(BLOCK, n_maps - start)
        shape = (n, *SHAPE)
        wet = rng.random(shape) < 0.1
        rain = np.where(wet, np.round(rng.lognormal(0.0, 1.0, shape), 2), 0.0)
        present = rng.random(shape) < 0.3
        forward = np.where(rng.random(shape) < 0.8, rng.integers(0, 90, shape), np.nan)
        backward = np.where(rng.random(shape) < 0.8, rng.integers(0, 90, shape), np.nan)
        values = {
            "precipitation": rain,
            "quality_index": np.round(rng.random(shape), 2),
            "ir_influence": rng.integers(0, 101, shape),
            "pmw_age_forward": forward,
            "pmw_age_backward": backward,
            "pmw_present": present,
        }
        yield xr.Dataset(
            {k: (("time", "lat", "lon"), v.astype("float32")) for k, v in values.items()},
            coords={"time": times[start : start + n], "lat": lat, "lon": lon},
        )


def maps_per_second(
    read: Callable[[int], object], order: np.ndarray, seconds: float
) -> tuple[float, float]:
    """Maps read per wall-clock second and per CPU second of this process (all its
    threads), cycling through ``order`` for at least ``seconds``."""
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        for i in order:
            read(int(i))
            n += 1
            if n % 64 == 0 and time.perf_counter() - start >= seconds:
                return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def _checked_rate(
    read: Callable[[int], list[np.ndarray]], reference: np.ndarray, order, seconds, name
) -> tuple[float, float]:
    """:func:`maps_per_second` of ``read``, after checking 20 of its maps."""
    for i in order[:20]:
        got = np.stack(read(int(i)))
        if not np.array_equal(got, reference[:, i], equal_nan=True):
            raise AssertionError(f"{name}: map {i} differs from the in-memory array")
    return maps_per_second(read, order, seconds)


def _machine() -> str:
    with open("/proc/cpuinfo") as f:
        names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    cpu = names[0] if names else platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"


def _store_rows(path: Path, spec: str, reference, order, seconds) -> list[dict]:
    """Build the store of layout ``spec`` at ``path``; a row per read path."""
    chunk, shard, *codec = spec.split("/")
    compressor = codec[0] if codec else "lz4"
    layout = {
        "time_chunk": int(chunk),
        "time_shard": None if shard == "none" else int(shard),
        "compressor": None if compressor == "none" else compressor,
    }
    start = time.perf_counter()
    XarrayZarrDataset(filepath=str(path), layout=layout).save(synthetic_blocks(order.size))
    write_s = time.perf_counter() - start
    files = sum(1 for p in path.rglob("*") if p.is_file())
    info = f"{spec} ({store_nbytes(path) / 1e6:.0f} MB, {files} files, write {write_s:.0f} s)"
    reader = MapReader(path, CHANNELS)
    group = zarr.open_group(path, mode="r")
    arrays = [group[c] for c in CHANNELS]
    lazy = open_store(path, chunks=None)[list(CHANNELS)]
    paths: dict[str, Callable[[int], list[np.ndarray]]] = {
        "MapReader": lambda i: list(reader.read(i).values()),
        "zarr": lambda i: [a[i] for a in arrays],
        "xarray": lambda i: [v.values for v in lazy.isel(time=i).data_vars.values()],
    }
    rows = []
    for name, read in paths.items():
        rate = _checked_rate(read, reference, order, seconds, f"{spec} {name}")
        rows.append({"store": info, "path": name, "rate": rate})
    reader.close()
    return rows


def _netcdf_row(store: Path, nc: Path, reference, order, seconds) -> dict:
    """Export ``store`` to netCDF (the netCDF dataset's chunks); its row, read with h5py."""
    export_netcdf(open_store(store), nc)
    with h5py.File(nc, "r") as f:
        datasets = [f[c] for c in CHANNELS]
        rate = _checked_rate(
            lambda i: [d[i] for d in datasets], reference, order, seconds, "netCDF"
        )
        chunks = datasets[0].chunks
    return {"store": f"netCDF export ({chunks[0]} steps a chunk)", "path": "h5py", "rate": rate}


def run(
    n_maps: int, seconds: float, layouts: list[str], folder: Path, netcdf: bool = True
) -> list[dict]:
    """Build the stores, time every read path; the rows of the result table."""
    reference = np.stack(
        [np.concatenate([b[c].values for b in synthetic_blocks(n_maps)]) for c in CHANNELS]
    )
    order = np.random.default_rng(1).permutation(n_maps)
    rows = [
        {
            "store": "in-memory numpy",
            "path": "reference",
            "rate": maps_per_second(
                lambda i: [reference[k, i].copy() for k in range(len(CHANNELS))], order, seconds
            ),
        }
    ]
    for spec in layouts:
        path = folder / f"inputs_{spec.replace('/', '_')}.zarr"
        rows += _store_rows(path, spec, reference, order, seconds)
    if netcdf:
        first = folder / f"inputs_{layouts[0].replace('/', '_')}.zarr"
        rows.append(_netcdf_row(first, folder / "inputs.nc", reference, order, seconds))
    return rows


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark and print its table; the rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maps", type=int, default=2880, help="time steps (2,880: 60 days)")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per read path")
    parser.add_argument(
        "--layouts",
        nargs="+",
        default=["1/48", "1/none", "8/48", "1/48/zstd"],
        help="time_chunk/time_shard[/compressor] of each store (shard none: unsharded; "
        "compressor lz4 (default), zstd or none)",
    )
    parser.add_argument(
        "--netcdf",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also read the netCDF export of the first store",
    )
    parser.add_argument("--dir", type=Path, default=None, help="where to build (default: tmp)")
    parser.add_argument("--smoke", action="store_true", help="at most 100 maps, a few reads")
    args = parser.parse_args(argv)
    if args.smoke:
        args.maps, args.seconds = min(args.maps, 100), 0.05
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rows = run(args.maps, args.seconds, args.layouts, Path(tmp), args.netcdf)
    print(f"Random reads of {len(CHANNELS)} channels × {SHAPE[0]} × {SHAPE[1]} float32 maps,")
    print(f"{args.maps} time steps, shuffled, one process; {_machine()}")
    print(f"goal {GOAL:.0f} maps/s; per CPU second: the process's own CPU time (a shared machine)")
    print(f"{'store (time chunk/shard)':48} {'read path':>10} {'maps/s':>8} {'per CPU s':>10}")
    for row in rows:
        wall, cpu = row["rate"]
        print(f"{row['store']:48} {row['path']:>10} {wall:8.0f} {cpu:10.0f}")
    return rows


if __name__ == "__main__":
    main()
