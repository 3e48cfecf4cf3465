"""Score long periods in time blocks on several processes: :func:`score_maps_parallel`."""

from __future__ import annotations

from itertools import repeat

import pandas as pd
import xarray as xr

from rainscore.processes import process_pool
from rainscore.scores.config import ScoreConfig
from rainscore.scores.table import score_maps

__all__ = ["score_maps_parallel"]


def _score_block(block: xr.Dataset, config: ScoreConfig) -> pd.DataFrame:
    mask = block.get("mask")
    return score_maps(block["forecast"], block["obs"], mask=mask, config=config)


def score_maps_parallel(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    config: ScoreConfig | None = None,
    workers: int = 2,
    block_size: int = 480,
) -> pd.DataFrame:
    """:func:`score_maps` over time blocks on ``workers`` processes; identical results.

    Blocks of ``block_size`` maps are sent to the workers; a lazily loaded (dask-backed)
    input is read by each worker for its own block only, so memory stays flat.

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(time, lat, lon)``.
        obs: Observed rain rates (mm/h), same dims and coordinates.
        mask: Optional boolean mask, dims ``(time, lat, lon)`` or ``(lat, lon)``.
        config: What to compute; defaults to ``ScoreConfig()``.
        workers: Processes (1 scores in this process).
        block_size: Maps per block.

    Returns:
        The table of :func:`score_maps`.
    """
    config = config or ScoreConfig()
    if workers < 1 or block_size < 1:
        raise ValueError(f"workers and block_size must be >= 1, got {workers}, {block_size}")
    data = {"forecast": forecast, "obs": obs}
    if mask is not None:
        data["mask"] = mask
    ds = xr.Dataset(data)
    n = ds.sizes["time"]
    blocks = [ds.isel(time=slice(i, i + block_size)) for i in range(0, n, block_size)]
    if workers == 1 or len(blocks) == 1:
        tables = [_score_block(b, config) for b in blocks]
    else:
        with process_pool(workers) as pool:
            tables = list(pool.map(_score_block, blocks, repeat(config)))
    return pd.concat(tables)
