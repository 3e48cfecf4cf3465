"""Start the workers an :class:`ExecutorConfig` names, and map work over them in order."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from rainscore.execution.config import ExecutorConfig
from rainscore.execution.lifeline import exit_with_parent, lifeline
from rainscore.execution.main_guard import check_main_guard, explain_broken_pool

__all__ = ["PRELOAD", "InlineExecutor", "Workers", "open_executor", "process_pool"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

#: Imported once by the fork server, so its children start with them already loaded.
PRELOAD = ("numpy", "scipy.ndimage", "pandas", "xarray", "h5py", "rainscore.scores")


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from a clean fork server.

    Plain ``fork`` copies the parent with whatever locks its threads hold at that instant
    (HDF5's global lock, dask's, a logging handler's), and a child that needs one of them
    waits forever. A fork server is a fresh single-threaded process, so its children start
    with no lock held. The server imports :data:`PRELOAD` once when it starts (no file is
    opened), so each worker starts in milliseconds instead of re-importing the stack. Each
    worker exits as soon as this process dies (:mod:`rainscore.execution.lifeline`).

    Args:
        workers: Number of processes.

    Returns:
        The executor (use it as a context manager).

    Raises:
        RuntimeError: When called from a script's top-level code outside a ``__main__``
            guard (:func:`~rainscore.execution.main_guard.check_main_guard`).
    """
    check_main_guard("processes")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=exit_with_parent,
        initargs=(lifeline(),),
    )


class InlineExecutor(Executor):
    """Runs each task in this thread when it is submitted (the ``sequential`` executor)."""

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Run ``fn(*args, **kwargs)`` now; its result or error is in the returned future."""
        future: Future[R] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as err:  # handed over through the future, as by any executor
            future.set_exception(err)
        return future


@dataclass(frozen=True)
class Workers:
    """Started workers: an executor and how many tasks it runs at once."""

    executor: Executor
    slots: int

    def map(
        self, func: Callable[[T], R], items: Iterable[T], *, window: int | None = None
    ) -> Iterator[R]:
        """``func(item)`` for each item, at most ``window`` in flight, results in order.

        Results come in the order of ``items`` whatever the order in which they finish;
        keeping ``window`` (default ``2 × slots``) tasks in flight bounds the memory of a
        long period. Tasks not started when the caller stops are cancelled.

        Args:
            func: A picklable (module-level) function for processes and Dask.
            items: Its arguments.
            window: Tasks in flight.

        Yields:
            ``func(item)``, in order.
        """
        todo = iter(items)
        window = window or 2 * self.slots
        pending = deque(self.executor.submit(func, item) for item in itertools.islice(todo, window))
        try:
            while pending:
                result = pending.popleft().result()
                pending.extend(self.executor.submit(func, i) for i in itertools.islice(todo, 1))
                yield result
        finally:
            for future in pending:
                future.cancel()


@contextmanager
def open_executor(config: ExecutorConfig, *, workers: int | None = None) -> Iterator[Workers]:
    """Start the workers ``config`` names; stop them on exit.

    Args:
        config: The executor.
        workers: Number of local workers, instead of ``config.workers`` (a caller that
            works too asks for one less).

    Yields:
        The workers. A dead worker process raises :class:`BrokenProcessPool` saying why it
        usually happens and what to do.
    """
    n = config.workers if workers is None else workers
    if config.executor == "dask":
        with _dask_workers(config, n) as dask:
            yield dask
        return
    if config.executor == "sequential":
        yield Workers(InlineExecutor(), 1)
        return
    pool = ThreadPoolExecutor(n) if config.executor == "threads" else process_pool(n)
    with pool:
        try:
            yield Workers(pool, n)
        except BrokenProcessPool as err:
            raise explain_broken_pool(err) from err


@contextmanager
def _dask_workers(config: ExecutorConfig, n: int) -> Iterator[Workers]:
    from dask.distributed import Client, LocalCluster

    if config.dask_scheduler != "local":
        client = Client(config.dask_scheduler)
        cluster = None
    else:
        if config.dask_processes:
            check_main_guard("dask")
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=config.dask_processes,
            dashboard_address=None,
        )
        client = Client(cluster)
    logger.info("Running on Dask scheduler %s", client.scheduler.address)
    try:
        slots = max(1, sum(client.nthreads().values()))
        yield Workers(client.get_executor(pure=False), slots)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
