"""Benchmark: scoring new IMERG maps, end to end, against the readers alone on the same files.

On N IMERG granules (a small synthetic world written by :mod:`rainscore.synthetic`, or the
granules of ``--imerg``), alternately, best of K:

- **readers alone** (the floor): the inference's cube builder
  (:class:`rainscore.ingest.ImergCubeBlocks`) over the same files, the same five variables
  (:data:`rainscore.models.inference.READ_VARIABLES`), the same box and the same executor,
  every block consumed;
- **inference end to end**: the ``inference`` pipeline's node
  (:func:`rainscore.pipelines.inference.nodes.score_imerg_maps`: the same reading, the
  input channels, the U-Net and the k-means clustering's encoder and labels), with models
  built here, untrained, at the size asked (``--width``/``--depth``/``--latent``; by default
  the demo's: U-Net width 8, autoencoder width 4, both depth 2, latent 16; ``--science``:
  both width 16, depth 3, latent 16).

It prints wall and CPU milliseconds per map for each, their ratio, and whether the ratio
meets the goal of issue 13 (end to end ≤ 1.5 × the readers alone).

Usage::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_inference.py [--granules 24]
        [--imerg DIR] [--repeats 3] [--science | --width W --depth D --latent L]
        [--executor sequential] [--smoke]

``--smoke`` (the test suite's run): 4 granules over a 5 × 6-cell box, tiny models, one repeat.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import ImergCubeBlocks, IngestionConfig
from rainscore.models.artefacts import ModelArtefact
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig
from rainscore.models.clustering import cluster_artefact
from rainscore.models.clustering.kmeans import KMeansConfig, fit_kmeans
from rainscore.models.data import (
    CUBE_VARIABLES,
    INPUT_CHANNELS,
    NormStats,
    input_channels,
    pad_to_multiple,
)
from rainscore.models.experiment import unet_artefact
from rainscore.models.inference import READ_VARIABLES, find_imerg_files
from rainscore.models.intervals import SplitConformal
from rainscore.models.labelling import DistanceOOD, LabelConfig, fit_labels
from rainscore.models.unet import UNet, UNetConfig
from rainscore.pipelines.inference.nodes import score_imerg_maps
from rainscore.synthetic import SyntheticWorld, WorldConfig

GOAL = 1.5
DEMO = {"unet_width": 8, "ae_width": 4, "depth": 2, "latent": 16}
SCIENCE = {"unet_width": 16, "ae_width": 16, "depth": 3, "latent": 16}
SMOKE = {"unet_width": 2, "ae_width": 2, "depth": 1, "latent": 4}
SMOKE_BOX = Box(lat_min=46.0, lat_max=46.5, lon_min=2.0, lon_max=2.6)
DEFAULT_BOX = WorldConfig().box


def write_world(folder: Path, granules: int, box: Box) -> Path:
    """A synthetic world of ``granules`` half hours over ``box``; its IMERG folder."""
    config = WorldConfig(days=granules / 48, box=box, spinup_hours=0.5)
    SyntheticWorld(config).write(folder, progress=False, cache_dir=folder / "weights")
    return folder


def _blocks(files: list[str], box: Box, executor: str) -> ImergCubeBlocks:
    """The cube builder exactly as the inference node builds it."""
    ingest = IngestionConfig()
    return ImergCubeBlocks(
        files,
        box=box,
        config=dataclasses.replace(ingest, imerg_variables=READ_VARIABLES),
        execution=ExecutorConfig.from_dict({"executor": executor}, stage="inference"),
        block_half_hours=ingest.block_half_hours,
    )


def read_only(files: list[str], box: Box, executor: str) -> int:
    """The floor: every block of the cube read, nothing else; the maps read."""
    blocks = _blocks(files, box, executor)
    for block in blocks:
        block["precipitation"].values  # noqa: B018 (the block is in memory already)
    log = blocks.log()
    return int((log["status"] == "read").sum())


def build_models(
    files: list[str], box: Box, executor: str, size: dict[str, int]
) -> tuple[ModelArtefact, ModelArtefact]:
    """Untrained U-Net and k-means artefacts at ``size``, normalised on the first block."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    cube = next(iter(_blocks(files, box, executor))).transpose("time", "lat", "lon")
    times = pd.DatetimeIndex(cube["time"].values)
    norm = NormStats.fit(cube[list(CUBE_VARIABLES)], times)
    channels = len(INPUT_CHANNELS)
    unet = UNet(UNetConfig(in_channels=channels, depth=size["depth"], width=size["unet_width"]))
    conformal = SplitConformal(quantile=0.1, coverage=0.8, n_calibration=10)
    unet_model = unet_artefact(unet.eval(), norm, conformal=conformal)
    config = AutoencoderConfig(
        in_channels=channels,
        map_shape=tuple(box.shape),
        depth=size["depth"],
        width=size["ae_width"],
        latent_dim=size["latent"],
    )
    encoder = Autoencoder(config).eval()
    raw = input_channels({v: cube[v].values for v in CUBE_VARIABLES})
    x, _ = pad_to_multiple(norm.apply(raw), encoder.multiple)
    with torch.no_grad():
        z = encoder.encode(torch.from_numpy(np.ascontiguousarray(x.transpose(1, 0, 2, 3))))
    z = z.numpy().astype(np.float64)
    k = min(4, len(z))
    cluster = fit_kmeans(z, KMeansConfig(n_clusters=k))
    assigned, _ = cluster.assign(z)
    scores = rng.random(len(z))
    labels = fit_labels(assigned, scores, k, LabelConfig(min_count=1))
    labels = labels.calibrate(assigned, scores, 0.8)
    ood = DistanceOOD.fit(cluster.nearest_distance(z), 0.99)
    metadata = {"input_channels": list(INPUT_CHANNELS), "norm": norm.to_dict()}
    kmeans_model = cluster_artefact(
        cluster,
        encoder=encoder,
        metadata={
            "autoencoder": {"config": config.to_dict(), "metadata": metadata},
            "labels": labels.to_dict(),
            "ood": ood.to_dict(),
        },
    )
    return unet_model, kmeans_model


def _clock(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall and CPU seconds of ``fn()`` and its result."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall0, time.process_time() - cpu0, out


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Run the benchmark; returns the best times (s) per map and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--granules", type=int, default=24, help="half hours of the world")
    parser.add_argument("--imerg", type=Path, default=None, help="score these granules instead")
    parser.add_argument("--repeats", type=int, default=3, help="K: best of K")
    parser.add_argument("--width", type=int, default=None, help="both models (default: demo)")
    parser.add_argument("--depth", type=int, default=None)
    parser.add_argument("--latent", type=int, default=None)
    parser.add_argument("--science", action="store_true", help="width 16, depth 3, latent 16")
    parser.add_argument("--executor", default="sequential", help="execution.executor")
    parser.add_argument("--smoke", action="store_true", help="4 granules, 5 x 6 cells, 1 run")
    args = parser.parse_args(argv)
    size = dict(SCIENCE if args.science else SMOKE if args.smoke else DEMO)
    if args.width is not None:
        size["unet_width"] = size["ae_width"] = args.width
    size |= {k: v for k, v in (("depth", args.depth), ("latent", args.latent)) if v is not None}
    box = SMOKE_BOX if args.smoke else DEFAULT_BOX
    granules, repeats = (4, 1) if args.smoke else (args.granules, args.repeats)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch threads {torch.get_num_threads()}, executor {args.executor}, "
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.imerg or write_world(Path(tmp) / "world", granules, box)
        files = find_imerg_files(str(folder))
        unet_model, kmeans_model = build_models(files, box, args.executor, size)
        params = {
            "inference": {"imerg_files": str(folder), "method": "kmeans", "device": "cpu"},
            "box": box.to_dict(),
            "ingestion": {},
            "execution": {"executor": args.executor},
        }

        def end_to_end() -> pd.DataFrame:
            models = (unet_model, kmeans_model, kmeans_model, kmeans_model)
            return score_imerg_maps(files, *models, **params)

        best = {"read": (np.inf, np.inf), "infer": (np.inf, np.inf)}
        maps = rows = 0
        for _ in range(repeats):
            wall, cpu, maps = _clock(lambda: read_only(files, box, args.executor))
            best["read"] = (min(best["read"][0], wall), min(best["read"][1], cpu))
            wall, cpu, table = _clock(end_to_end)
            best["infer"] = (min(best["infer"][0], wall), min(best["infer"][1], cpu))
            rows = len(table)
    h, w = box.shape
    print(
        f"{len(files)} granules, {maps} maps read, {rows} rows scored, box {h}x{w} cells; "
        f"U-Net width {size['unet_width']}, autoencoder width {size['ae_width']}, depth "
        f"{size['depth']}, latent {size['latent']}; best of {repeats}"
    )
    per_map = {k: (wall / maps, cpu / maps) for k, (wall, cpu) in best.items()}
    for key, label in (("read", "readers alone"), ("infer", "inference end to end")):
        wall, cpu = per_map[key]
        print(f"{label}: {wall * 1e3:.2f} ms/map wall, {cpu * 1e3:.2f} ms/map CPU")
    ratio = round(per_map["infer"][0] / per_map["read"][0], 2)
    ratio_cpu = round(per_map["infer"][1] / per_map["read"][1], 2)
    print(f"inference end to end / readers alone, CPU: {ratio_cpu:.2f}x")
    print(f"inference end to end / readers alone, wall: {ratio:.2f}x")
    verdict = "MET" if ratio <= GOAL else "NOT MET"
    print(f"goal end to end <= {GOAL}x the readers alone (wall): {verdict}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return {
        "read_s_per_map": per_map["read"][0],
        "infer_s_per_map": per_map["infer"][0],
        "ratio": ratio,
        "ratio_cpu": ratio_cpu,
        "maps": maps,
    }


if __name__ == "__main__":
    main()
