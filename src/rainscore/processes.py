"""Worker processes that are safe beside HDF5 and dask threads."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from a clean fork server.

    Plain ``fork`` copies the parent with whatever locks its threads hold at that instant
    (HDF5's global lock, dask's, a logging handler's), and a child that needs one of them
    waits forever. A fork server is a fresh single-threaded process, so its children start
    with no lock held; they pay the imports once per worker, not once per task.

    Args:
        workers: Number of processes.

    Returns:
        The executor (use it as a context manager).
    """
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )
