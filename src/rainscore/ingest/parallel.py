"""Apply a reader to many files in parallel, with a progress bar and per-file errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from tqdm.auto import tqdm

from rainscore.execution import ExecutorConfig, Workers, open_executor
from rainscore.io import ReaderError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileResult:
    """What reading one file gave: a value, or the reason it could not be read."""

    path: str
    value: Any = None
    reason: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was read."""
        return self.reason is None


def _call(func: Callable[[str], Any], path: str) -> FileResult:
    try:
        return FileResult(path, func(path))
    except ReaderError as err:
        return FileResult(path, reason=err.reason, problem=str(err))
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        # Readers raise ReaderError for every problem they know; anything else on a raw file
        # is still that file's problem, reported with its type so it can be fixed.
        return FileResult(path, reason="unreadable", problem=f"{path}: {type(err).__name__}: {err}")


def _call_each(func: Callable[[str], Any], paths: list[str]) -> list[FileResult]:
    return [_call(func, path) for path in paths]


def map_files(
    func: Callable[[str], Any],
    paths: Iterable[str],
    *,
    execution: ExecutorConfig | None = None,
    strict: bool = False,
    desc: str = "files",
    workers: Workers | None = None,
) -> list[FileResult]:
    """Read ``paths`` with ``func``, in parallel, keeping the input order.

    Args:
        func: A picklable (module-level) function of one path.
        paths: Files to read.
        execution: What reads them (default: 2 processes) and whether a progress bar shows.
            Threads read in turn, as HDF5 decoding holds a global lock; processes and Dask
            get the files in batches of up to 32.
        strict: Raise :class:`ReaderError` at the first file that fails.
        desc: Label of the progress bar.
        workers: Workers already started for ``execution`` (:func:`file_workers`), for a
            caller that maps files many times (a block at a time); default: start them here.

    Returns:
        One :class:`FileResult` per path, in the order of ``paths``.

    Raises:
        ReaderError: In strict mode, for the first bad file.
    """
    execution = execution or ExecutorConfig()
    paths = list(paths)
    if len(paths) < 2 or (execution.workers == 1 and execution.executor != "dask"):
        execution = replace(execution, executor="sequential")
        workers = None
    size = 1
    if execution.executor in ("processes", "dask"):
        size = max(1, min(32, len(paths) // (4 * execution.workers)))
    batches = [paths[i : i + size] for i in range(0, len(paths), size)]
    results: list[FileResult] = []
    with (
        tqdm(
            total=len(paths), desc=desc, unit="file", disable=not execution.progress or not paths
        ) as bar,
        open_executor(execution) if workers is None else nullcontext(workers) as pool,
    ):
        for batch in pool.map(partial(_call_each, func), batches):
            for result in batch:
                bar.update()
                if strict and not result.ok:
                    detail = (result.problem or "").removeprefix(f"{result.path}: ")
                    raise ReaderError(result.path, result.reason or "unreadable", detail)
                results.append(result)
    return results


@contextmanager
def file_workers(execution: ExecutorConfig | None = None) -> Iterator[Workers | None]:
    """The workers :func:`map_files` would start, started once for many calls (``None``
    when it would read in this process); stopped on exit."""
    execution = execution or ExecutorConfig()
    if execution.executor == "sequential" or (
        execution.workers == 1 and execution.executor != "dask"
    ):
        yield None
        return
    with open_executor(execution) as workers:
        yield workers
