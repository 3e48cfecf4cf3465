"""Score long periods in time blocks on several workers: :func:`score_maps_parallel`."""

from __future__ import annotations

import threading
from collections import deque
from concurrent.futures import Future

import pandas as pd
import xarray as xr

from rainscore.execution import ExecutorConfig, Workers, open_executor
from rainscore.scores.config import ScoreConfig
from rainscore.scores.table import score_maps

__all__ = ["score_maps_parallel"]


def _score_block(block: xr.Dataset, config: ScoreConfig) -> pd.DataFrame:
    mask = block.get("mask")
    return score_maps(block["forecast"], block["obs"], mask=mask, config=config)


class _BothEnds:
    """Block numbers ``0 .. n - 1`` handed out from the front and from the back, once each."""

    def __init__(self, n: int) -> None:
        self._front, self._back = 0, n
        self._lock = threading.Lock()

    def front(self) -> int | None:
        with self._lock:
            if self._front >= self._back:
                return None
            self._front += 1
            return self._front - 1

    def back(self) -> int | None:
        with self._lock:
            if self._front >= self._back:
                return None
            self._back -= 1
            return self._back

    def close(self) -> None:
        with self._lock:
            self._back = self._front


def _feed_pool(
    workers: Workers,
    blocks: list[xr.Dataset],
    config: ScoreConfig,
    ends: _BothEnds,
    tables: list[pd.DataFrame | None],
    errors: list[BaseException],
) -> None:
    """Keep each worker busy with blocks from the front, one more queued (already sent)."""
    pending: deque[tuple[int, Future]] = deque()
    try:
        while True:
            while len(pending) <= workers.slots and (i := ends.front()) is not None:
                pending.append((i, workers.executor.submit(_score_block, blocks[i], config)))
            if not pending:
                return
            i, future = pending.popleft()
            tables[i] = future.result()
    except BaseException as err:  # handed to the calling thread
        errors.append(err)


def score_maps_parallel(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    config: ScoreConfig | None = None,
    execution: ExecutorConfig | None = None,
    block_size: int = 48,
) -> pd.DataFrame:
    """:func:`score_maps` over time blocks on ``execution.workers`` workers; identical
    results.

    This process and ``workers - 1`` workers (processes by default; threads, or the workers
    of a Dask cluster) share the blocks of ``block_size`` maps: the workers take them from
    the start of the period, this process from the end, until they meet. This process is
    therefore busy while the workers start (a few seconds to import the numeric stack), and
    the last to finish waits for at most about one block. A lazily loaded (dask-backed)
    input is read by each process for its own blocks only, so memory stays flat.

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(time, lat, lon)``.
        obs: Observed rain rates (mm/h), same dims and coordinates.
        mask: Optional boolean mask, dims ``(time, lat, lon)`` or ``(lat, lon)``.
        config: What to compute; defaults to ``ScoreConfig()``.
        execution: What scores the blocks (default: 2 processes, this one included;
            ``sequential`` or 1 worker: this process only).
        block_size: Maps per block.

    Returns:
        The table of :func:`score_maps`.

    Raises:
        ValueError: ``block_size`` is below 1.
    """
    config = config or ScoreConfig()
    execution = execution or ExecutorConfig()
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    data = {"forecast": forecast, "obs": obs}
    if mask is not None:
        data["mask"] = mask
    ds = xr.Dataset(data)
    n = ds.sizes["time"]
    blocks = [ds.isel(time=slice(i, i + block_size)) for i in range(0, n, block_size)]
    if not execution.parallel or execution.workers == 1 or len(blocks) == 1:
        return pd.concat([_score_block(b, config) for b in blocks])
    tables: list[pd.DataFrame | None] = [None] * len(blocks)
    errors: list[BaseException] = []
    ends = _BothEnds(len(blocks))
    with open_executor(execution, workers=execution.workers - 1) as workers:
        feeder = threading.Thread(
            target=_feed_pool,
            args=(workers, blocks, config, ends, tables, errors),
            name="score_maps_parallel-feeder",
        )
        feeder.start()
        try:
            while (i := ends.back()) is not None:
                tables[i] = _score_block(blocks[i], config)
        finally:
            ends.close()
            feeder.join()
        if errors:
            raise errors[0]
    return pd.concat(tables)
