"""Run time blocks sequentially, in local processes or on a Dask cluster, in time order.

Every executor yields the blocks' results in the order of the tasks, whatever the order in
which they finish, and keeps at most ``2 × workers`` blocks in flight, so memory does not
grow with the period.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from rainscore.colocate.block import BlockResult, BlockTask, run_block
from rainscore.colocate.config import ColocationConfig
from rainscore.processes import process_pool

logger = logging.getLogger(__name__)


def _in_order(
    submit: Callable[[BlockTask], Any], tasks: Iterable[BlockTask], window: int
) -> Iterator[BlockResult]:
    """Submit tasks ``window`` ahead and yield their results in task order."""
    todo = iter(tasks)
    pending = deque(submit(task) for task in itertools.islice(todo, window))
    try:
        while pending:
            result = pending.popleft().result()
            pending.extend(submit(task) for task in itertools.islice(todo, 1))
            yield result
    finally:
        for future in pending:
            future.cancel()


def run_blocks(
    tasks: Iterable[BlockTask],
    config: ColocationConfig,
    on_file: Callable[[], object] | None = None,
) -> Iterator[BlockResult]:
    """Run ``tasks`` with the executor named in ``config``; results in task order.

    Args:
        tasks: The time blocks.
        config: Parameters (executor, workers, Dask scheduler).
        on_file: Called after each file in sequential runs (progress); parallel runs
            report whole blocks through :attr:`BlockResult.n_files`.

    Yields:
        One result per task, in order.
    """
    if config.executor == "sequential":
        for task in tasks:
            yield run_block(task, on_file)
    elif config.executor == "processes":
        # Not forked from this process, which may hold threads (progress bar, Dask, Kedro).
        with process_pool(config.workers) as pool:
            yield from _in_order(lambda t: pool.submit(run_block, t), tasks, 2 * config.workers)
    else:
        yield from _run_dask(tasks, config)


def _run_dask(tasks: Iterable[BlockTask], config: ColocationConfig) -> Iterator[BlockResult]:
    from dask.distributed import Client, LocalCluster

    cluster = None
    if config.dask_scheduler == "local":
        cluster = LocalCluster(
            n_workers=config.workers,
            threads_per_worker=1,
            processes=config.dask_processes,
            dashboard_address=None,
        )
        client = Client(cluster)
    else:
        client = Client(config.dask_scheduler)
    logger.info("Colocating on Dask scheduler %s", client.scheduler.address)
    try:
        slots = max(1, sum(client.nthreads().values()))
        yield from _in_order(lambda t: client.submit(run_block, t, pure=False), tasks, 2 * slots)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
