"""Worker processes that are safe beside HDF5 and dask threads."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

#: Imported once by the fork server, so its children start with them already loaded.
PRELOAD = ("numpy", "scipy.ndimage", "pandas", "xarray", "h5py", "rainscore.scores")


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes forked from a clean fork server.

    Plain ``fork`` copies the parent with whatever locks its threads hold at that instant
    (HDF5's global lock, dask's, a logging handler's), and a child that needs one of them
    waits forever. A fork server is a fresh single-threaded process, so its children start
    with no lock held. The server imports :data:`PRELOAD` once when it starts (no file is
    opened), so each worker starts in milliseconds instead of re-importing the stack.

    Args:
        workers: Number of processes.

    Returns:
        The executor (use it as a context manager).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)
