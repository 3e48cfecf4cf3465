"""Benchmark: U-Net training throughput and the share of step time spent waiting for data.

Builds a synthetic IMERG cube store (the six cube variables the input channels are made
of) and a local error store over the default box (72 × 104 cells), then trains a U-Net on
them through the project's own path — :class:`rainscore.models.MapDataset` (maps read
lazily by :class:`rainscore.stores.MapReader`), :func:`rainscore.models.make_loader`, the
masked loss, AdamW, mixed precision on CUDA — on the CPU and, when one is present, on a
CUDA device, with each number of loader workers asked for.

For each run it prints samples per second and the share of the step time spent waiting for
the next batch: the time from the end of a step to the batch being on the device, over the
whole step (wait + forward + backward + update; CUDA synchronised before each clock
reading). Goal: data waiting < 10 % of the step time.

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_training.py [--maps 480]
        [--steps 30] [--batch-size 16] [--width 16] [--depth 3] [--workers 0 2 4]
        [--devices cpu cuda] [--dir DIR] [--smoke]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from rainscore.models import (
    INPUT_CHANNELS,
    MapDataset,
    NormStats,
    TrainConfig,
    UNet,
    UNetConfig,
    make_loader,
    unet_loss,
)
from rainscore.stores import open_store, write_store

SHAPE = (72, 104)
BLOCK = 48
GOAL = 0.10


def _coords(n_maps: int, start: int) -> dict[str, np.ndarray]:
    times = pd.date_range("2024-06-01", periods=n_maps, freq="30min")
    return {
        "time": times[start : start + BLOCK],
        "lat": np.round(42.85 + 0.1 * np.arange(SHAPE[0]), 6),
        "lon": np.round(-2.75 + 0.1 * np.arange(SHAPE[1]), 6),
    }


def cube_blocks(n_maps: int, seed: int = 0) -> Iterator[xr.Dataset]:
    """The IMERG cube variables of the input channels, a day at a time."""
    rng = np.random.default_rng(seed)
    dims = ("time", "lat", "lon")
    for start in range(0, n_maps, BLOCK):
        coords = _coords(n_maps, start)
        shape = (len(coords["time"]), *SHAPE)
        wet = rng.random(shape) < 0.2
        values = {
            "precipitation": np.where(wet, rng.lognormal(0.0, 1.0, shape), 0.0),
            "quality_index": rng.random(shape),
            "ir_influence": rng.integers(0, 101, shape).astype(float),
            "pmw_age_forward": np.where(
                rng.random(shape) < 0.8, rng.integers(0, 90, shape), np.nan
            ),
            "pmw_age_backward": np.where(
                rng.random(shape) < 0.8, rng.integers(0, 90, shape), np.nan
            ),
            "mw_source": np.where(rng.random(shape) < 0.3, 7.0, 0.0),
        }
        yield xr.Dataset(
            {k: (dims, v.astype(np.float32)) for k, v in values.items()}, coords=coords
        )


def error_blocks(n_maps: int, seed: int = 1) -> Iterator[xr.Dataset]:
    """Local errors in [-1, 1] and a scoring mask (most of the box), a day at a time."""
    rng = np.random.default_rng(seed)
    dims = ("time", "lat", "lon")
    for start in range(0, n_maps, BLOCK):
        coords = _coords(n_maps, start)
        shape = (len(coords["time"]), *SHAPE)
        yield xr.Dataset(
            {
                "local_fraction_error": (dims, rng.uniform(-1, 1, shape).astype(np.float32)),
                "mask": (dims, rng.random(shape) < 0.9),
            },
            coords=coords,
        )


def build_stores(folder: Path, n_maps: int) -> tuple[Path, Path, pd.Series]:
    """Write both stores; the cube, the local error store and a score per map."""
    cube, errors = folder / "imerg_cube.zarr", folder / "local_error_maps.zarr"
    write_store(cube, cube_blocks(n_maps))
    write_store(errors, error_blocks(n_maps))
    times = pd.date_range("2024-06-01", periods=n_maps, freq="30min")
    scores = pd.Series(np.random.default_rng(2).random(n_maps), index=times, name="score")
    return cube, errors, scores


def run(
    cube: Path,
    errors: Path,
    scores: pd.Series,
    *,
    device: str,
    workers: int,
    steps: int,
    batch_size: int,
    width: int,
    depth: int,
) -> dict:
    """Train ``steps`` steps (after two warm-up steps); samples/s and the waiting share."""
    torch.manual_seed(0)
    model = UNet(UNetConfig(in_channels=len(INPUT_CHANNELS), depth=depth, width=width))
    times = pd.DatetimeIndex(scores.index)
    norm = NormStats.fit(open_store(cube), times[: min(len(times), 96)])
    dataset = MapDataset(cube, times, norm, model.multiple, errors, scores)
    config = TrainConfig(batch_size=batch_size, num_workers=workers, device=device)
    target = torch.device(device)
    loader = make_loader(dataset, config, shuffle=True, device=target)
    model.to(target).train()
    amp = target.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)

    def sync() -> None:
        if amp:
            torch.cuda.synchronize(target)

    wait = compute = 0.0
    samples = done = 0
    batches = iter(loader)
    sync()
    before = time.perf_counter()
    while done < steps + 2:
        try:
            raw = next(batches)
        except StopIteration:
            batches = iter(loader)
            raw = next(batches)
        batch = {k: v.to(target, non_blocking=True) for k, v in raw.items()}
        sync()
        got = time.perf_counter()
        with torch.autocast(device_type=target.type, dtype=torch.float16, enabled=amp):
            loss = unet_loss(model(batch["x"]), batch)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        sync()
        after = time.perf_counter()
        if done >= 2:  # the first steps start the workers and warm up the kernels
            wait += got - before
            compute += after - got
            samples += len(batch["x"])
        done += 1
        before = after
    total = wait + compute
    return {
        "device": device,
        "workers": workers,
        "samples_per_s": samples / total,
        "wait_share": wait / total,
        "step_ms": 1000 * total / steps,
    }


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark and print one line per device and worker count; the rows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--maps", type=int, default=480, help="maps in the stores (10 days)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per run")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument(
        "--devices", nargs="+", default=None, help="default: cpu, and cuda when present"
    )
    parser.add_argument("--dir", type=Path, default=None, help="folder of the temporary stores")
    parser.add_argument("--smoke", action="store_true", help="a tiny run (tests)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.maps, args.steps, args.batch_size, args.width, args.depth = 48, 2, 2, 4, 2
        args.workers = [0]
    devices = args.devices or ["cpu", *(["cuda"] if torch.cuda.is_available() else [])]
    print(
        f"bench_training: {args.maps} maps of {SHAPE[0]}x{SHAPE[1]}, batch {args.batch_size}, "
        f"U-Net width {args.width} depth {args.depth}, {args.steps} steps per run; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__}, threads {torch.get_num_threads()}"
        + (f", {torch.cuda.get_device_name()}" if torch.cuda.is_available() else "")
    )
    rows = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        cube, errors, scores = build_stores(Path(tmp), args.maps)
        for device in devices:
            for workers in args.workers:
                row = run(
                    cube,
                    errors,
                    scores,
                    device=device,
                    workers=workers,
                    steps=args.steps,
                    batch_size=args.batch_size,
                    width=args.width,
                    depth=args.depth,
                )
                verdict = "PASS" if row["wait_share"] < GOAL else "FAIL"
                print(
                    f"{device:>4}, {workers} workers: {row['samples_per_s']:8.1f} samples/s, "
                    f"{row['step_ms']:7.1f} ms/step, data waiting {100 * row['wait_share']:5.1f} % "
                    f"of the step time (goal < {100 * GOAL:.0f} %: {verdict})"
                )
                rows.append(row)
    return rows


if __name__ == "__main__":
    main()
