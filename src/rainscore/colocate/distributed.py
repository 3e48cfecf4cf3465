"""Colocation written into a store by the workers that compute its time blocks.

On a Dask cluster the blocks should not travel back to the driver to be written there:
:class:`WorkerColocation` creates the store over the period's half hours on the driver
(metadata and coordinates, :func:`rainscore.stores.create_store`), then each worker
colocates its block and writes it into its own time region of the store
(:func:`rainscore.stores.write_region`); the driver gathers only a small summary per block
(bad frames, short half hours, impossible values). Blocks are made of whole shards of the
store, so no two workers write the same file. The store folder must be visible to the
workers (a shared file system), as the area-weights cache is.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from pathlib import Path

from tqdm.auto import tqdm

from rainscore.colocate.block import BadFrame, BlockTask, run_block
from rainscore.colocate.engine import (
    BlockSummary,
    ColocationPlan,
    ColocationResult,
    ColocationStream,
    PeriodSummary,
    block_dataset,
)
from rainscore.execution import ExecutorConfig, open_executor
from rainscore.stores import StoreLayout, create_store, time_unit, write_region

logger = logging.getLogger(__name__)


class WorkerColocation:
    """A colocation that the executor's workers write into a new store, block by block.

    A :class:`rainscore.stores.StoreWriter`: ``XarrayZarrDataset.save`` (or a script)
    calls :meth:`write_store` with the folder to write. The stored period is the one
    :func:`rainscore.colocate.iter_colocation` gives for the same plan, value for value.

    Example:
        >>> plan = plan_colocation(inventory, box, cache_dir=cache)  # doctest: +SKIP
        >>> colocation = WorkerColocation(plan, ExecutorConfig(executor="dask"))  # doctest: +SKIP
        >>> colocation.write_store(path, layout=StoreLayout(), previous=None)  # doctest: +SKIP
        >>> colocation.bad_frames  # complete once the store is written  # doctest: +SKIP

    Attributes:
        bad_frames: The bad frames of the blocks written so far, in time order.
    """

    def __init__(self, plan: ColocationPlan, execution: ExecutorConfig) -> None:
        """Write ``plan``'s blocks with the workers of ``execution``.

        Args:
            plan: The colocation (:func:`rainscore.colocate.plan_colocation`).
            execution: What runs the blocks (a Dask cluster; any executor works).
        """
        self.plan = plan
        self.execution = execution
        self._summary = PeriodSummary()
        self.bad_frames: list[BadFrame] = self._summary.bad_frames

    def write_store(self, path: Path, *, layout: StoreLayout, previous: Path | None) -> int:
        """Create the store at ``path`` and have the workers write every block into it.

        Args:
            path: The store folder to create (must not exist).
            layout: The store's chunking; the blocks are rounded up to whole time units
                (``time_shard`` half hours) so that each worker writes its own files.
            previous: Must be ``None``: the workers write a new store.

        Returns:
            The number of half hours written.

        Raises:
            ValueError: An empty period, or a previous version to append to.
        """
        if previous is not None:
            raise ValueError(
                f"WorkerColocation writes a new store, not an append to {previous}: "
                "use a dataset without append_from_previous"
            )
        plan = self.plan
        if not len(plan.times):
            raise ValueError(f"WorkerColocation: no half hours to write to {path}")
        unit = time_unit(layout)
        size = -(-plan.config.block_half_hours // unit) * unit
        plan = dataclasses.replace(
            plan, config=dataclasses.replace(plan.config, block_half_hours=size)
        )
        attrs = plan.empty().attrs
        create_store(path, plan.empty(), plan.times, layout=layout)
        plan.prepare_weights()
        write = functools.partial(write_block, path=str(path))
        with (
            tqdm(
                total=plan.n_files,
                desc="radar files",
                unit="file",
                disable=not self.execution.progress,
            ) as bar,
            open_executor(self.execution) as workers,
        ):
            for summary in workers.map(write, plan.tasks()):
                self._summary.add(summary)
                bar.update(summary.n_files)
        self._summary.log(attrs)
        logger.info("Colocation: %d half hours written by the workers to %s", len(plan.times), path)
        return len(plan.times)


def write_block(task: BlockTask, path: str) -> BlockSummary:
    """Colocate one time block and write it into its region of the store at ``path``
    (run on a worker); return its summary.

    Args:
        task: The block.
        path: The store, created over the period (:func:`rainscore.stores.create_store`).

    Returns:
        The block's summary for the period's warnings and the bad-inputs report.
    """
    result = run_block(task)
    ds = block_dataset(result, task.box, task.config, task.frames)
    write_region(path, ds)
    return BlockSummary.of(ColocationResult(ds, result.bad_frames), n_files=result.n_files)


def colocation_writer(
    plan: ColocationPlan, execution: ExecutorConfig
) -> ColocationStream | WorkerColocation:
    """What a store writes the colocation of ``plan`` from: on Dask, the workers write their
    blocks themselves (:class:`WorkerColocation`); otherwise the blocks come back in time
    order and the store writes them (:class:`rainscore.colocate.ColocationStream`). Both
    fill ``bad_frames`` as the store is written and log the period's warnings at its end.
    """
    if execution.executor == "dask":
        return WorkerColocation(plan, execution)
    return ColocationStream(plan.run(execution))
