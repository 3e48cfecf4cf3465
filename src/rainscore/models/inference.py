"""Scoring new IMERG maps without radar: the U-Net and a clustering method on raw files.

The maps are read from raw IMERG granules by the ingestion's cube builder
(:class:`rainscore.ingest.ImergCubeBlocks`, a block of half hours at a time, PMW ages
included) over a box anywhere of at least the grid shape the models were trained on,
turned into the same input channels (:func:`rainscore.models.data.input_channels`, each
model's own normalisation) and scored per map and per tile of the training shape (one tile
when the box has that shape; a larger box is covered by tiles, the last row and column
moved back to end on its edge): the U-Net's estimated target score with its conformal
interval, and the chosen clustering method's cluster, label (median of the training maps'
scores in that cluster) and interval, with an out-of-distribution flag (the embedding's
distance to the nearest centroid beyond the training threshold stored in the artefact).

A model trained on another input layout (channels or grid shape) is refused with a message
naming the model and the difference; a granule lacking a variable the channels need stops
the run, naming the file and the channel.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import xarray as xr

from rainscore.grids import Box
from rainscore.grids.imerg import IMERG_RES
from rainscore.models.artefacts import ModelArtefact
from rainscore.models.autoencoder import Autoencoder, AutoencoderConfig
from rainscore.models.clustering import METHODS, ClusterModel, cluster_from_artefact
from rainscore.models.data import (
    CUBE_VARIABLES,
    INPUT_CHANNELS,
    NormStats,
    input_channels,
    pad_to_multiple,
)
from rainscore.models.experiment import unet_from_artefact
from rainscore.models.intervals import SplitConformal
from rainscore.models.labelling import ClusterLabels, DistanceOOD, score_maps
from rainscore.models.training import pick_device
from rainscore.models.unet import UNet
from rainscore.params import dataclass_from_params

__all__ = [
    "CHANNEL_SOURCES",
    "IMERG_PATTERNS",
    "INFERENCE_COLUMNS",
    "READ_VARIABLES",
    "ClusterScorer",
    "InferenceConfig",
    "UNetScorer",
    "find_imerg_files",
    "inference_box",
    "missing_channel_error",
    "score_blocks",
    "tiles",
]

logger = logging.getLogger(__name__)

HALF_CELL = IMERG_RES / 2
"""Half an IMERG cell, degrees (from a cell's centre to its edges)."""

IMERG_PATTERNS: tuple[str, ...] = ("**/3B-HHR*.HDF5", "**/3B-HHR*.RT-H5", "**/3B-HHR*.nc4")
"""The granules searched for under a folder (those of the ``imerg_raw`` catalog entry)."""

READ_VARIABLES: tuple[str, ...] = (
    "precipitation",
    "quality_index",
    "ir_influence",
    "mw_source",
    "mw_observation_time",
)
"""The IMERG variables read from each granule (the PMW ages are computed from the last two)."""

CHANNEL_SOURCES: dict[str, str] = {
    "precipitation": "precipitation",
    "quality_index": "quality_index",
    "ir_influence": "ir_influence",
    "mw_source": "pmw_present, pmw_age_forward, pmw_age_backward",
    "mw_observation_time": "pmw_age_forward, pmw_age_backward",
}
"""The input channels each read variable feeds (for the message of a missing variable)."""

INFERENCE_COLUMNS: tuple[str, ...] = (
    "time",
    "tile_lat_min",
    "tile_lat_max",
    "tile_lon_min",
    "tile_lon_max",
    "unet_score",
    "unet_lower",
    "unet_upper",
    "cluster_method",
    "cluster_id",
    "cluster_score",
    "cluster_lower",
    "cluster_upper",
    "cluster_distance",
    "ood",
)
"""The columns of ``inference_scores``, one row per scored map and tile (the tile's edges,
degrees; the whole box when it has the training shape)."""


@dataclass(frozen=True)
class InferenceConfig:
    """``params:inference``.

    Attributes:
        imerg_files: A folder (searched recursively for IMERG granules,
            :data:`IMERG_PATTERNS`) or a glob of files (``**`` recurses); ``None``: the
            granules of the catalog's ``imerg_raw`` (the archive the other pipelines read).
        method: The clustering method whose estimate is given (:data:`METHODS`).
        box: The box scored (``lat_min``, ``lat_max``, ``lon_min``, ``lon_max``), anywhere,
            at least the grid shape the models were trained on (a larger box is scored by
            tiles of that shape); ``None``: the training box.
        batch_size: Maps per forward pass.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
    """

    imerg_files: str | None = None
    method: str = "kmeans"
    box: Mapping[str, float] | None = None
    batch_size: int = 32
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.imerg_files is not None and (
            not isinstance(self.imerg_files, str) or not self.imerg_files
        ):
            raise ValueError(
                "inference.imerg_files must be a folder, a glob or null (the catalog's "
                f"imerg_raw), got {self.imerg_files!r}"
            )
        if self.method not in METHODS:
            raise ValueError(
                f"inference.method must be one of {list(METHODS)}, got {self.method!r}"
            )
        size = self.batch_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"inference.batch_size must be a whole number >= 1, got {size!r}")
        if self.box is not None:
            try:
                Box.from_dict(dict(self.box))
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"inference.box: {err}") from None

    @classmethod
    def from_dict(cls, params: Mapping[str, Any] | None) -> InferenceConfig:
        """Build from ``params:inference`` (unknown keys are an error naming them)."""
        return dataclass_from_params(cls, params, section="inference")


def find_imerg_files(where: str, root: str | Path = ".") -> list[str]:
    """The IMERG granules of a folder or a glob, sorted.

    Args:
        where: A folder (searched recursively for :data:`IMERG_PATTERNS`) or a glob.
        root: What a relative ``where`` is relative to (the project's folder).

    Returns:
        The files, sorted.

    Raises:
        FileNotFoundError: Nothing found (``where`` named).
    """
    path = Path(where) if Path(where).is_absolute() else Path(root) / where
    patterns = [str(path / p) for p in IMERG_PATTERNS] if path.is_dir() else [str(path)]
    found = {p for pattern in patterns for p in glob.iglob(pattern, recursive=True)}
    files = sorted(p for p in found if Path(p).is_file() and not Path(p).name.startswith("."))
    if not files:
        raise FileNotFoundError(
            f"inference.imerg_files: no IMERG granule found at {where!r} (searched {patterns})"
        )
    return files


def inference_box(
    box: Mapping[str, float] | None, training_box: Box, shape: tuple[int, int]
) -> Box:
    """The box to score, checked against the models' grid shape.

    Args:
        box: ``inference.box`` (``None``: the training box).
        training_box: The training box (``params:box``).
        shape: The grid shape ``(H, W)`` the models were trained on.

    Returns:
        The box.

    Raises:
        ValueError: The box's grid is smaller than ``shape`` in a direction (both named).
    """
    chosen = training_box if box is None else Box.from_dict(dict(box))
    if chosen.shape[0] < shape[0] or chosen.shape[1] < shape[1]:
        raise ValueError(
            f"inference.box {chosen.to_dict()} is a grid of {chosen.shape[0]} x "
            f"{chosen.shape[1]} cells; the models were trained on maps of {shape[0]} x "
            f"{shape[1]} cells: score a box of at least that shape (a larger one is tiled)"
        )
    return chosen


def tiles(grid: tuple[int, int], tile: tuple[int, int]) -> list[tuple[slice, slice]]:
    """Tiles of shape ``tile`` covering a grid: side by side from the south-west corner, the
    last row and column of tiles moved back to end on the grid's edge (overlapping the one
    before) when the grid is not a multiple of the tile.

    Args:
        grid: ``(H, W)`` of the box.
        tile: ``(h, w)`` of the training maps, at most ``grid``.

    Returns:
        ``(rows, cols)`` slices, south to north then west to east.
    """

    def starts(n: int, t: int) -> list[int]:
        out = list(range(0, n - t + 1, t))
        return out if out[-1] + t == n else [*out, n - t]

    return [
        (slice(r, r + tile[0]), slice(c, c + tile[1]))
        for r in starts(grid[0], tile[0])
        for c in starts(grid[1], tile[1])
    ]


def _check_channels(name: str, channels: Any, norm: NormStats) -> None:
    """Refuse a model whose inputs are not this version's channels."""
    if list(channels or []) != list(INPUT_CHANNELS) or tuple(norm.channels) != INPUT_CHANNELS:
        raise ValueError(
            f"{name} was trained on the input channels {channels} (normalised as "
            f"{list(norm.channels)}); inference makes {list(INPUT_CHANNELS)}: retrain it"
        )


class UNetScorer:
    """The U-Net's estimated target score and conformal interval of maps."""

    def __init__(self, artefact: ModelArtefact, *, name: str = "unet_model") -> None:
        """Load the model.

        Raises:
            ValueError: Not a calibrated U-Net of this version's channels (``name`` named).
        """
        if artefact.kind != "unet":
            raise ValueError(f"{name} is a {artefact.kind!r} model artefact, not a 'unet'")
        channels = artefact.metadata.get("input_channels")
        _check_channels(name, channels, NormStats.from_dict(artefact.metadata["norm"]))
        model, norm, conformal = unet_from_artefact(artefact)
        if conformal is None:
            raise ValueError(f"{name} has no conformal interval: run the training pipeline")
        self.model: UNet = model.eval()
        self.norm: NormStats = norm
        self.conformal: SplitConformal = conformal

    def score(self, channels: np.ndarray, device: torch.device, batch_size: int) -> pd.DataFrame:
        """``unet_score``, ``unet_lower``, ``unet_upper`` of raw channels ``(C, N, H, W)``."""
        x = _model_input(channels, self.norm, self.model.multiple)
        out = _batched(self.model.score, self.model, x, device, batch_size)
        score = self.conformal.clip(out.astype(np.float64))
        lower, upper = self.conformal.interval(score)
        return pd.DataFrame({"unet_score": score, "unet_lower": lower, "unet_upper": upper})


class ClusterScorer:
    """A clustering method's cluster, label, interval and OOD flag of maps."""

    def __init__(self, artefact: ModelArtefact, method: str, *, name: str | None = None) -> None:
        """Load the encoder, the clusters, their labels and the OOD threshold.

        Raises:
            ValueError: Not a clustering artefact of this version's channels (named).
        """
        name = name or f"{method}_model"
        if artefact.kind != "clustering":
            raise ValueError(f"{name} is a {artefact.kind!r} model artefact, not a 'clustering'")
        cluster, state = cluster_from_artefact(artefact)
        autoencoder = artefact.metadata["autoencoder"]
        norm = NormStats.from_dict(autoencoder["metadata"]["norm"])
        _check_channels(name, autoencoder["metadata"].get("input_channels"), norm)
        config = AutoencoderConfig.from_dict(autoencoder["config"], section=f"{name}.autoencoder")
        encoder = Autoencoder(config)
        encoder.load_state_dict(state)
        self.method = method
        self.name = name
        self.encoder: Autoencoder = encoder.eval()
        self.norm = norm
        self.cluster: ClusterModel = cluster
        self.labels = ClusterLabels.from_dict(artefact.metadata["labels"])
        self.ood = DistanceOOD.from_dict(artefact.metadata["ood"])

    @property
    def map_shape(self) -> tuple[int, int]:
        """The grid shape ``(H, W)`` the encoder was trained on."""
        return tuple(self.encoder.config.map_shape)  # type: ignore[return-value]

    def score(self, channels: np.ndarray, device: torch.device, batch_size: int) -> pd.DataFrame:
        """The cluster columns of :data:`INFERENCE_COLUMNS` of raw channels ``(C, N, H, W)``."""
        shape = tuple(channels.shape[-2:])
        if shape != self.map_shape:
            raise ValueError(
                f"{self.name}: maps of {shape[0]} x {shape[1]} cells, the encoder was trained "
                f"on {self.map_shape[0]} x {self.map_shape[1]}"
            )
        x = _model_input(channels, self.norm, self.encoder.multiple)
        z = _batched(self.encoder.encode, self.encoder, x, device, batch_size)
        table = score_maps(self.cluster, self.labels, self.ood, z.astype(np.float64))
        return pd.DataFrame(
            {
                "cluster_method": self.method,
                "cluster_id": table["cluster"].to_numpy(dtype=np.int64),
                "cluster_score": table["estimate"].to_numpy(dtype=np.float64),
                "cluster_lower": table["lower"].to_numpy(dtype=np.float64),
                "cluster_upper": table["upper"].to_numpy(dtype=np.float64),
                "cluster_distance": table["distance"].to_numpy(dtype=np.float64),
                "ood": table["ood"].to_numpy(dtype=bool),
            }
        )


def _model_input(channels: np.ndarray, norm: NormStats, multiple: int) -> np.ndarray:
    """Standardised, padded ``(N, C, H', W')`` from raw ``(C, N, H, W)``."""
    padded, _ = pad_to_multiple(norm.apply(channels), multiple)
    return np.ascontiguousarray(padded.transpose(1, 0, 2, 3))


def _batched(
    forward: Callable[[torch.Tensor], torch.Tensor],
    model: torch.nn.Module,
    x: np.ndarray,
    device: torch.device,
    batch_size: int,
) -> np.ndarray:
    """``forward`` over ``x`` in batches on ``device``, concatenated on the CPU."""
    model.to(device)
    outputs = []
    with torch.no_grad():
        for start in range(0, x.shape[0], batch_size):
            batch = torch.from_numpy(x[start : start + batch_size]).to(device)
            outputs.append(forward(batch).float().cpu().numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0,), np.float32)


def score_blocks(
    blocks: Iterable[xr.Dataset],
    read_times: Callable[[], Iterable[pd.Timestamp]],
    unet: UNetScorer,
    clusters: ClusterScorer,
    *,
    batch_size: int = 32,
    device: str = "auto",
) -> pd.DataFrame:
    """Score every map of the cube's blocks whose granule was read, by tiles of the
    clustering's training shape (one tile when the box has that shape).

    Args:
        blocks: Consecutive blocks of the IMERG cube (:class:`~rainscore.ingest.ImergCubeBlocks`),
            with :data:`~rainscore.models.data.CUBE_VARIABLES`.
        read_times: Called after each block, returns the times whose granule was read so
            far (missing half hours and unread granules are not scored); it may raise
            to stop the run (a granule lacking a channel).
        unet: The U-Net.
        clusters: The clustering method.
        batch_size: Maps per forward pass.
        device: Where the models run.

    Returns:
        One row per scored map and tile, :data:`INFERENCE_COLUMNS`, in time order (tiles
        south to north, then west to east).
    """
    torch_device = pick_device(device)
    parts = []
    for block in blocks:
        read = pd.DatetimeIndex(read_times())
        times = pd.DatetimeIndex(block["time"].values)
        keep = times.isin(read)
        if not keep.any():
            continue
        block = block.isel(time=np.flatnonzero(keep))
        block = block.transpose("time", "lat", "lon")
        channels = input_channels({v: block[v].values for v in CUBE_VARIABLES})
        lat, lon = block["lat"].values, block["lon"].values
        for rows, cols in tiles(channels.shape[-2:], clusters.map_shape):
            tile = channels[..., rows, cols]
            edges = {
                "tile_lat_min": lat[rows][0] - HALF_CELL,
                "tile_lat_max": lat[rows][-1] + HALF_CELL,
                "tile_lon_min": lon[cols][0] - HALF_CELL,
                "tile_lon_max": lon[cols][-1] + HALF_CELL,
            }
            where = pd.DataFrame({"time": times[keep]}).assign(
                **{k: round(float(v), 6) for k, v in edges.items()}
            )
            scores = [s.score(tile, torch_device, batch_size) for s in (unet, clusters)]
            parts.append(pd.concat([where, *scores], axis=1))
    if not parts:
        raise ValueError("inference: no IMERG map could be read (see the log of skipped files)")
    table = pd.concat(parts, ignore_index=True).sort_values("time", kind="stable")
    table = table.reset_index(drop=True)
    logger.info(
        "Scored %d IMERG maps (%d tiles) with the U-Net and %s; %d out of distribution",
        table["time"].nunique(),
        len(table),
        clusters.method,
        int(table["ood"].sum()),
    )
    return table[list(INFERENCE_COLUMNS)]


def missing_channel_error(log: pd.DataFrame) -> ValueError | None:
    """The error for the first granule lacking a variable the channels need, if any.

    Args:
        log: The cube builder's per-file log.

    Returns:
        A ``ValueError`` naming the file, the variable and the channels it feeds, or
        ``None``.
    """
    bad = log[log["reason"] == "missing_variable"]
    if bad.empty:
        return None
    row = bad.iloc[0]
    problem = str(row["problem"])
    variable = next((v for v in READ_VARIABLES if repr(v) in problem), None)
    channel = CHANNEL_SOURCES.get(variable, str(list(INPUT_CHANNELS)))
    return ValueError(
        f"inference: {row['path']} ({row['version']}) lacks the IMERG variable "
        f"{variable!r}, needed for the input channel(s) {channel}: {problem}. The models "
        f"need every channel of {list(INPUT_CHANNELS)}; score files of a version that has it"
    )
