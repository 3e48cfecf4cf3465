"""Apply a reader to many files in parallel, with a progress bar and per-file errors."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from rainscore.io import ReaderError
from rainscore.processes import process_pool

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


def map_files(
    func: Callable[[str], Any],
    paths: Iterable[str],
    *,
    executor: str = "processes",
    workers: int = 2,
    strict: bool = False,
    progress: bool = True,
    desc: str = "files",
) -> list[FileResult]:
    """Read ``paths`` with ``func``, in parallel, keeping the input order.

    Args:
        func: A picklable (module-level) function of one path.
        paths: Files to read.
        executor: ``sequential``, ``threads`` or ``processes``.
        workers: Number of workers.
        strict: Raise :class:`ReaderError` at the first file that fails.
        progress: Show a progress bar.
        desc: Label of the progress bar.

    Returns:
        One :class:`FileResult` per path, in the order of ``paths``.

    Raises:
        ReaderError: In strict mode, for the first bad file.
    """
    paths = list(paths)
    results: list[FileResult] = []
    bar = tqdm(total=len(paths), desc=desc, unit="file", disable=not progress or not paths)

    def check(result: FileResult) -> FileResult:
        bar.update()
        if strict and not result.ok:
            detail = (result.problem or "").removeprefix(f"{result.path}: ")
            raise ReaderError(result.path, result.reason or "unreadable", detail)
        return result

    try:
        if executor == "sequential" or workers == 1 or len(paths) < 2:
            for path in paths:
                results.append(check(_call(func, path)))
        else:
            pool: Executor = (
                process_pool(workers)
                if executor == "processes"
                else ThreadPoolExecutor(max_workers=workers)
            )
            with pool:
                chunksize = (
                    max(1, min(32, len(paths) // (4 * workers))) if executor == "processes" else 1
                )
                for result in pool.map(_call, [func] * len(paths), paths, chunksize=chunksize):
                    results.append(check(result))
    finally:
        bar.close()
    return results
