"""Colocated pairs: IMERG and radar on identical coordinates, with the scoring mask."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from rainscore.grids.imerg import IMERG_CRS
from rainscore.params import dataclass_from_params

#: IMERG quality fields carried into the pairs when present (normalised names).
QUALITY_FIELDS = (
    "quality_index",
    "ir_influence",
    "mw_source",
    "mw_observation_time",
    "mw_precipitation",
    "ir_precipitation",
    "random_error",
    "pmw_age_forward",
    "pmw_age_backward",
)


@dataclass(frozen=True)
class MaskConfig:
    """When a cell is scored.

    Attributes:
        min_valid_fraction: Smallest radar valid fraction of the cell over the half hour.
        min_frame_fraction: Fewest radar frames of the half hour valid at the cell (the
            frames its radar rain is the mean of), as a fraction of the frames a complete
            half hour holds (the radar's ``frames_per_half_hour``, set by its frame model:
            :mod:`rainscore.colocate.frames`); with the default 1, every frame (six
            5-minute accumulations, or three 15-minute rate snapshots).
    """

    min_valid_fraction: float = 0.5
    min_frame_fraction: float = 1.0

    def __post_init__(self) -> None:
        for name in ("min_valid_fraction", "min_frame_fraction"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"colocation.mask.{name} must be between 0 and 1, got {value!r}")

    def min_frames(self, frames_per_half_hour: int) -> int:
        """Fewest frames valid at a cell, of ``frames_per_half_hour`` (at least 1)."""
        return max(1, math.ceil(self.min_frame_fraction * frames_per_half_hour - 1e-9))

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> MaskConfig:
        """Build from parameters (unknown keys are an error)."""
        return dataclass_from_params(cls, d, section="colocation.mask")


def pair_imerg_radar(
    imerg_cube: xr.Dataset, radar_on_imerg: xr.Dataset, *, mask: MaskConfig
) -> xr.Dataset:
    """Put IMERG and radar side by side on their common half hours.

    The two must already be aligned on the box's cells (checked before: identical lat/lon);
    times are the intersection of both axes. ``mask`` is True where the cell is scored:
    IMERG and radar finite, ``valid_fraction >= min_valid_fraction`` and ``n_valid_frames >=
    min_frames`` (per cell: the radar mean covers at least that many frames, so a half hour
    with a radar out for a frame is not scored where that radar was needed; ``min_frames``
    is :meth:`MaskConfig.min_frames` of the radar's ``frames_per_half_hour`` attribute).

    Args:
        imerg_cube: The IMERG cube (``precipitation`` and quality fields).
        radar_on_imerg: Radar on the IMERG grid (``rain``, ``valid_fraction``, ``n_frames``,
            ``n_valid_frames``).
        mask: Scoring-mask parameters.

    Returns:
        Pairs with ``imerg``, ``radar`` (mm/h), ``valid_fraction``, ``n_frames``,
        ``n_valid_frames``, ``mask`` and the IMERG quality fields.

    Raises:
        ValueError: If the grids differ, or ``radar_on_imerg`` lacks a variable or its
            ``frames_per_half_hour`` attribute.
    """
    missing = [
        name
        for name in ("rain", "valid_fraction", "n_frames", "n_valid_frames")
        if name not in radar_on_imerg
    ]
    if "frames_per_half_hour" not in radar_on_imerg.attrs:
        missing.append("the frames_per_half_hour attribute")
    if missing:
        raise ValueError(
            f"radar_on_imerg lacks {missing}: it was written by another version of the "
            "colocation; rerun `kedro run --pipelines=colocation`"
        )
    imerg, radar = xr.align(imerg_cube, radar_on_imerg, join="inner", exclude=())
    if (
        imerg.sizes["lat"] != imerg_cube.sizes["lat"]
        or imerg.sizes["lon"] != imerg_cube.sizes["lon"]
    ):
        raise ValueError("IMERG and radar grids differ: run the colocation validation first")
    min_frames = mask.min_frames(int(radar_on_imerg.attrs["frames_per_half_hour"]))
    scored = (
        imerg["precipitation"].notnull()
        & radar["rain"].notnull()
        & (radar["valid_fraction"] >= mask.min_valid_fraction)
        & (radar["n_valid_frames"] >= min_frames)
    )
    pairs = xr.Dataset(
        {
            "imerg": imerg["precipitation"].assign_attrs(
                long_name="IMERG precipitation", units="mm/h"
            ),
            "radar": radar["rain"].assign_attrs(long_name="radar rain rate", units="mm/h"),
            "valid_fraction": radar["valid_fraction"],
            "n_frames": radar["n_frames"],
            "n_valid_frames": radar["n_valid_frames"],
            "mask": scored.transpose("time", "lat", "lon").assign_attrs(
                long_name="cell is scored",
                min_valid_fraction=mask.min_valid_fraction,
                min_frame_fraction=mask.min_frame_fraction,
                min_frames=min_frames,
            ),
        }
    )
    for name in QUALITY_FIELDS:
        if name in imerg:
            pairs[name] = imerg[name]
    pairs.attrs.update(
        {
            "title": "IMERG and radar on the IMERG grid, paired by half hour",
            "imerg_product": imerg_cube.attrs.get("product", ""),
            "imerg_version": imerg_cube.attrs.get("version", ""),
            "imerg_source_root": imerg_cube.attrs.get("source_root", ""),
            "crs": IMERG_CRS,
            "n_scored_cells": int(np.asarray(scored.sum())),
        }
    )
    return pairs
