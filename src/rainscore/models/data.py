"""The models' inputs: IMERG-side channels read lazily from the stores, normalised.

Inputs come from the **IMERG cube** store alone (``imerg_cube``), so that a map without
radar gets the same inputs at inference (DESIGN §6). The channels of :data:`INPUT_CHANNELS`:

- ``precipitation``: ``log1p`` of the IMERG rate (mm/h);
- ``quality_index``, ``ir_influence``, ``pmw_age_forward``, ``pmw_age_backward``: as stored;
- ``pmw_present``: 1 where the half hour has a passive-microwave observation
  (``mw_source > 0``), 0 where it has none, unknown (NaN) where ``mw_source`` is missing.

Each channel is standardised with :class:`NormStats` (mean and standard deviation of the
training maps only, saved with the model). Missing values (a PMW age before the first
overpass, a missing ``mw_source``) become 0 *after* standardisation, i.e. the training mean
of their channel: the network cannot tell them from a mean value by that channel, which is
the explicit choice here (the ages' missing values are rare past the first hours of a
period). Maps are padded at the bottom and right to the network's stride multiple
(:func:`pad_to_multiple`); the padding is 0 and ``valid`` is False there, and the losses
mask it out.

Targets come from the radar side and enter only as targets and masks: the local error maps
(``local_error_maps``: ``local_fraction_error`` and the scoring ``mask``) and the map score
(a column of ``map_scores``). A map whose score is undefined (NaN: too dry) has
``score_mask`` False and is left out of the score loss; :attr:`MapDataset.n_undefined`
counts them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import xarray as xr
from torch.utils.data import Dataset

from rainscore.stores import MapReader, open_store

__all__ = [
    "CUBE_VARIABLES",
    "INPUT_CHANNELS",
    "MapDataset",
    "NormStats",
    "input_channels",
    "pad_to_multiple",
]

INPUT_CHANNELS: tuple[str, ...] = (
    "precipitation",
    "quality_index",
    "ir_influence",
    "pmw_age_forward",
    "pmw_age_backward",
    "pmw_present",
)
"""The input channels, in order (``precipitation`` is log1p-transformed)."""

CUBE_VARIABLES: tuple[str, ...] = (
    "precipitation",
    "quality_index",
    "ir_influence",
    "pmw_age_forward",
    "pmw_age_backward",
    "mw_source",
)
"""The IMERG cube variables the channels are made from (``pmw_present`` from ``mw_source``)."""

FIT_BLOCK = 48
"""Maps read at a time by :meth:`NormStats.fit` (a day of half hours: one shard)."""


def input_channels(maps: Mapping[str, np.ndarray]) -> np.ndarray:
    """The raw (not standardised) input channels of one or more maps.

    Args:
        maps: The :data:`CUBE_VARIABLES` of the IMERG cube, arrays of the same shape
            ``(..., H, W)`` (one map from :class:`rainscore.stores.MapReader`, or a block).

    Returns:
        ``float32`` array ``(C, ..., H, W)`` in the order of :data:`INPUT_CHANNELS`.

    Raises:
        KeyError: A variable of :data:`CUBE_VARIABLES` is missing (named).
    """
    missing = [name for name in CUBE_VARIABLES if name not in maps]
    if missing:
        raise KeyError(f"input channels need the IMERG cube variables {missing}")
    source = np.asarray(maps["mw_source"], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        present = np.where(np.isfinite(source), (source > 0).astype(np.float32), np.nan)
        precipitation = np.log1p(np.asarray(maps["precipitation"], dtype=np.float32))
    channels = [
        precipitation,
        *(np.asarray(maps[name], dtype=np.float32) for name in INPUT_CHANNELS[1:5]),
        present,
    ]
    return np.stack(channels).astype(np.float32, copy=False)


@dataclass(frozen=True)
class NormStats:
    """Per-channel mean and standard deviation of the training maps.

    Attributes:
        channels: Channel names (:data:`INPUT_CHANNELS`).
        mean: Mean of each channel over the finite values of the training maps.
        std: Standard deviation of each (1.0 where a channel is constant or never finite,
            so that it standardises to 0).
        count: Finite values behind each statistic.
    """

    channels: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    count: tuple[int, ...]

    def __post_init__(self) -> None:
        n = len(self.channels)
        for name in ("mean", "std", "count"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"NormStats: {name} has {len(getattr(self, name))} values for {n} channels"
                )
        if not all(np.isfinite(s) and s > 0 for s in self.std):
            raise ValueError(f"NormStats: std must be finite and > 0, got {list(self.std)}")

    @classmethod
    def fit(
        cls, cube: xr.Dataset, times: pd.DatetimeIndex, *, block_size: int = FIT_BLOCK
    ) -> NormStats:
        """Statistics of the input channels over the given (training) times only.

        The maps are read ``block_size`` at a time (a lazily opened store reads only
        those) and combined exactly (Chan's parallel mean and variance), so memory does not
        grow with the period.

        Args:
            cube: The IMERG cube (lazy or in memory) with :data:`CUBE_VARIABLES`.
            times: The training times; every one must be in ``cube``.
            block_size: Maps per read.

        Returns:
            The statistics.

        Raises:
            ValueError: No times, or ``block_size`` below 1.
            KeyError: Times not in the cube (the first few named) or a missing variable.
        """
        times = pd.DatetimeIndex(times)
        if len(times) == 0:
            raise ValueError("NormStats.fit: no training times")
        if block_size < 1:
            raise ValueError(f"NormStats.fit: block_size must be >= 1, got {block_size}")
        missing_vars = [name for name in CUBE_VARIABLES if name not in cube]
        if missing_vars:
            raise KeyError(f"NormStats.fit: the cube has no {missing_vars}")
        cube_times = pd.DatetimeIndex(cube["time"].values)
        absent = times.difference(cube_times)
        if len(absent):
            raise KeyError(
                f"NormStats.fit: {len(absent)} training times are not in the cube, "
                f"e.g. {absent[:3].tolist()}"
            )
        positions = np.sort(cube_times.get_indexer(times))
        n_channels = len(INPUT_CHANNELS)
        count = np.zeros(n_channels)
        mean = np.zeros(n_channels)
        m2 = np.zeros(n_channels)
        for start in range(0, len(positions), block_size):
            block = cube[list(CUBE_VARIABLES)].isel(time=positions[start : start + block_size])
            values = input_channels({k: v.values for k, v in block.load().data_vars.items()})
            flat = values.reshape(n_channels, -1).astype(np.float64)
            finite = np.isfinite(flat)
            n_b = finite.sum(axis=1).astype(np.float64)
            mean_b = np.where(finite, flat, 0.0).sum(axis=1) / np.maximum(n_b, 1)
            m2_b = (np.where(finite, flat - mean_b[:, None], 0.0) ** 2).sum(axis=1)
            total = count + n_b  # Chan et al.: merge the block's moments into the running ones
            delta = mean_b - mean
            mean = mean + delta * n_b / np.maximum(total, 1)
            m2 = m2 + m2_b + delta**2 * count * n_b / np.maximum(total, 1)
            count = total
        std = np.sqrt(m2 / np.maximum(count, 1))
        std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        return cls(
            channels=INPUT_CHANNELS,
            mean=tuple(float(v) for v in mean),
            std=tuple(float(v) for v in std),
            count=tuple(int(v) for v in count),
        )

    def apply(self, channels: np.ndarray) -> np.ndarray:
        """Standardise raw channels (:func:`input_channels`); missing values become 0.

        Args:
            channels: ``(C, ...)`` raw channels, ``C`` = ``len(self.channels)``.

        Returns:
            ``float32`` array of the same shape, finite everywhere.

        Raises:
            ValueError: The first axis is not the number of channels.
        """
        channels = np.asarray(channels)
        if channels.shape[:1] != (len(self.channels),):
            raise ValueError(
                f"NormStats.apply: expected {len(self.channels)} channels first, "
                f"got shape {channels.shape}"
            )
        extra = (1,) * (channels.ndim - 1)
        mean = np.asarray(self.mean, dtype=np.float32).reshape(-1, *extra)
        std = np.asarray(self.std, dtype=np.float32).reshape(-1, *extra)
        out = channels.astype(np.float32)  # a copy: the caller's array is left as it is
        out -= mean
        out /= std
        out[~np.isfinite(out)] = 0.0
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (lists of plain floats and ints)."""
        return {
            "channels": list(self.channels),
            "mean": list(self.mean),
            "std": list(self.std),
            "count": list(self.count),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NormStats:
        """Rebuild from :meth:`to_dict` (a model artefact's metadata).

        Raises:
            ValueError: Missing or unknown keys (named).
        """
        keys = {"channels", "mean", "std", "count"}
        if set(data) != keys:
            raise ValueError(
                f"NormStats.from_dict: expected keys {sorted(keys)}, got {sorted(data)}"
            )
        return cls(
            channels=tuple(str(c) for c in data["channels"]),
            mean=tuple(float(v) for v in data["mean"]),
            std=tuple(float(v) for v in data["std"]),
            count=tuple(int(v) for v in data["count"]),
        )


def pad_to_multiple(array: np.ndarray, multiple: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad the last two axes with zeros at the bottom and right to a multiple of ``multiple``.

    Args:
        array: ``(..., H, W)``.
        multiple: The network's stride multiple (``UNet.multiple``).

    Returns:
        ``(padded, valid)``: the array ``(..., H', W')`` and a boolean ``(H', W')`` map,
        True on the original cells.

    Raises:
        ValueError: ``multiple`` below 1 or an array of fewer than two dimensions.
    """
    if multiple < 1:
        raise ValueError(f"pad_to_multiple: multiple must be >= 1, got {multiple}")
    if array.ndim < 2:
        raise ValueError(f"pad_to_multiple: need (..., H, W), got shape {array.shape}")
    h, w = array.shape[-2:]
    shape = (h + -h % multiple, w + -w % multiple)
    padded = np.zeros((*array.shape[:-2], *shape), dtype=array.dtype)  # np.pad is 5x slower
    padded[..., :h, :w] = array
    valid = np.zeros(shape, dtype=bool)
    valid[:h, :w] = True
    return padded, valid


def _store_times(path: Path) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(open_store(path, chunks=None)["time"].values)


def _positions(path: Path, times: pd.DatetimeIndex, what: str) -> np.ndarray:
    """Time index in the store ``path`` of each of ``times``."""
    positions = _store_times(path).get_indexer(times)
    if (positions < 0).any():
        absent = times[positions < 0]
        raise KeyError(
            f"MapDataset: {len(absent)} times are not in the {what} store {path}, "
            f"e.g. {absent[:3].tolist()}"
        )
    return positions


class MapDataset(Dataset):
    """Maps of the IMERG cube (and their targets) by position in ``times``, read lazily.

    Each item reads one map of every input variable through
    :class:`rainscore.stores.MapReader` (and one map of the local error store when given).
    Readers are opened on the first read in each process and never pickled, so the dataset
    works in a :class:`torch.utils.data.DataLoader` with ``num_workers > 0``.

    Items are dicts of tensors:

    - ``x`` ``(C, H', W')`` float32: the standardised channels, padded;
    - ``valid`` ``(1, H', W')`` bool: inside the box (not padding);
    - ``index`` ``()`` int64: the position in ``times``;
    - with ``local_error_path``: ``pixel_target`` ``(1, H', W')`` float32 (the local
      fraction error, 0 where masked) and ``pixel_mask`` ``(1, H', W')`` bool (the scoring
      mask ∧ a finite target ∧ ``valid``);
    - with ``scores``: ``score`` ``()`` float32 (0 where undefined) and ``score_mask``
      ``()`` bool (the score is defined).

    Attributes:
        times: The maps' times, in item order.
        n_undefined: Maps whose score is undefined (NaN; 0 without ``scores``).
    """

    def __init__(
        self,
        cube_path: str | os.PathLike,
        times: pd.DatetimeIndex,
        norm: NormStats,
        multiple: int,
        local_error_path: str | os.PathLike | None = None,
        scores: pd.Series | None = None,
    ) -> None:
        """Index the maps; nothing is read but the stores' time coordinates.

        Args:
            cube_path: Folder of the IMERG cube store.
            times: The maps to serve, in item order.
            norm: Channel statistics (of the training split).
            multiple: Pad maps to a multiple of this (the network's stride multiple).
            local_error_path: Folder of the local error store (``local_error_maps``), for
                ``pixel_target`` and ``pixel_mask``.
            scores: The target score indexed by time (a column of ``map_scores``), for
                ``score`` and ``score_mask``.

        Raises:
            KeyError: A time absent from a store or from ``scores`` (the first few named).
            ValueError: ``norm`` is not for :data:`INPUT_CHANNELS`, or ``multiple`` < 1.
        """
        if tuple(norm.channels) != INPUT_CHANNELS:
            raise ValueError(
                f"MapDataset: norm is for channels {list(norm.channels)}, "
                f"expected {list(INPUT_CHANNELS)}"
            )
        if multiple < 1:
            raise ValueError(f"MapDataset: multiple must be >= 1, got {multiple}")
        self.cube_path = Path(cube_path)
        self.times = pd.DatetimeIndex(times)
        self.norm = norm
        self.multiple = int(multiple)
        self._cube_index = _positions(self.cube_path, self.times, "IMERG cube")
        self.local_error_path = None if local_error_path is None else Path(local_error_path)
        self._error_index = (
            None
            if self.local_error_path is None
            else _positions(self.local_error_path, self.times, "local error")
        )
        self._scores: np.ndarray | None = None
        self.n_undefined = 0
        if scores is not None:
            index = pd.DatetimeIndex(scores.index)
            absent = self.times.difference(index)
            if len(absent):
                raise KeyError(
                    f"MapDataset: {len(absent)} times have no score {scores.name!r}, "
                    f"e.g. {absent[:3].tolist()}"
                )
            values = scores.set_axis(index).reindex(self.times).to_numpy(dtype=np.float64)
            self._scores = values
            self.n_undefined = int((~np.isfinite(values)).sum())
        self._readers: dict[str, MapReader] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.times)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_readers"] = {}
        return state

    def _reader(self, name: str) -> MapReader:
        """The process's reader of a store, opened on first use (again after a fork)."""
        if self._pid != os.getpid():
            self._readers, self._pid = {}, os.getpid()
        reader = self._readers.get(name)
        if reader is None:
            if name == "cube":
                reader = MapReader(self.cube_path, CUBE_VARIABLES)
            else:
                reader = MapReader(self.local_error_path, ("local_fraction_error", "mask"))
            self._readers[name] = reader
        return reader

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        maps = self._reader("cube").read(int(self._cube_index[index]))
        x, valid = pad_to_multiple(self.norm.apply(input_channels(maps)), self.multiple)
        item = {
            "x": torch.from_numpy(x),
            "valid": torch.from_numpy(valid[None]),
            "index": torch.tensor(index, dtype=torch.int64),
        }
        if self._error_index is not None:
            errors = self._reader("local_error").read(int(self._error_index[index]))
            target = np.asarray(errors["local_fraction_error"], dtype=np.float32)
            mask = np.asarray(errors["mask"]).astype(bool) & np.isfinite(target)
            target, _ = pad_to_multiple(
                np.where(mask, target, 0.0).astype(np.float32), self.multiple
            )
            mask, _ = pad_to_multiple(mask, self.multiple)
            item["pixel_target"] = torch.from_numpy(target[None])
            item["pixel_mask"] = torch.from_numpy((mask & valid)[None])
        if self._scores is not None:
            score = self._scores[index]
            defined = bool(np.isfinite(score))
            item["score"] = torch.tensor(score if defined else 0.0, dtype=torch.float32)
            item["score_mask"] = torch.tensor(defined)
        return item
