"""Run time blocks with the executor of :mod:`rainscore.execution`, in time order.

Every executor yields the blocks' results in the order of the tasks, whatever the order in
which they finish, and keeps at most ``2 × workers`` blocks in flight, so memory does not
grow with the period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from rainscore.colocate.block import BlockResult, BlockTask, run_block
from rainscore.execution import ExecutorConfig, open_executor


def run_blocks(
    tasks: Iterable[BlockTask],
    execution: ExecutorConfig,
    on_file: Callable[[], object] | None = None,
) -> Iterator[BlockResult]:
    """Run ``tasks`` with the executor of ``execution``; results in task order.

    Args:
        tasks: The time blocks.
        execution: What runs them: this process, threads, local processes or Dask.
        on_file: Called after each file in sequential runs (progress); parallel runs
            report whole blocks through :attr:`BlockResult.n_files`.

    Yields:
        One result per task, in order.
    """
    if not execution.parallel:
        for task in tasks:
            yield run_block(task, on_file)
        return
    with open_executor(execution) as workers:
        yield from workers.map(run_block, tasks)
