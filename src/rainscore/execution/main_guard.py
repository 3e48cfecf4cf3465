"""Say why worker processes die at once when a script starts them without a ``__main__``
guard.

Worker processes start from a fork server (or are spawned, for a local Dask cluster): each
imports the main script again before it runs anything. A script whose top-level code starts
workers (``build_radar_inventory(paths)`` at module level, outside ``if __name__ ==
"__main__":``) would start them again in every worker, which Python forbids: the workers
die at once and the caller only sees ``BrokenProcessPool``. :func:`check_main_guard` finds
such a start before any worker exists; :func:`explain_broken_pool` words the other cases.
"""

from __future__ import annotations

import ast
import sys
from concurrent.futures.process import BrokenProcessPool
from types import FrameType

__all__ = ["check_main_guard", "explain_broken_pool", "is_guarded", "unguarded_start"]

_FIX = (
    'put the script\'s code under `if __name__ == "__main__":` (workers import the script '
    "again, and must not run it), or run in this process with "
    '`ExecutorConfig(executor="sequential")` (parameter `execution.executor: sequential`); '
    "see docs/architecture.md, 'Running the library from a script'"
)


def is_guarded(path: str, line: int) -> bool:
    """Whether ``line`` of the script at ``path`` is inside a top-level ``if`` that reads
    ``__name__`` (``if __name__ == "__main__":``).

    Args:
        path: A Python source file.
        line: A line number (1-based) of top-level code.

    Returns:
        ``True`` when guarded, or when the file cannot be read or parsed (nothing to tell).
    """
    try:
        with open(path, encoding="utf-8") as file:
            tree = ast.parse(file.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return True
    for node in tree.body:
        if node.lineno <= line <= (node.end_lineno or node.lineno):
            return isinstance(node, ast.If) and any(
                isinstance(n, ast.Name) and n.id == "__name__" for n in ast.walk(node.test)
            )
    return True


def _main_frame() -> FrameType | None:
    """The frame running the top-level code of the main script, if it is on this stack."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return None  # interactive session, notebook, python -c
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals is vars(main):
            return frame
        frame = frame.f_back
    return None


def unguarded_start() -> tuple[str, int] | None:
    """Where the main script's unguarded top-level code is calling from, if it is.

    Returns:
        The script's path and the line of its top-level code that led here, when that line
        is outside a ``__main__`` guard; ``None`` otherwise.
    """
    frame = _main_frame()
    if frame is None:
        return None
    path, line = frame.f_code.co_filename, frame.f_lineno
    return None if is_guarded(path, line) else (path, line)


def check_main_guard(executor: str) -> None:
    """Raise before starting workers from a script's top level without a ``__main__`` guard.

    Args:
        executor: What starts the workers (``"processes"``), for the message.

    Raises:
        RuntimeError: Naming the script, its line, the cause and the two fixes.
    """
    found = unguarded_start()
    if found is not None:
        path, line = found
        raise RuntimeError(
            f"{path}, line {line}, starts worker processes (execution.executor: {executor}) "
            f'from the script\'s top level, outside an `if __name__ == "__main__":` guard: '
            f"each worker would run the script again and die at once (BrokenProcessPool). "
            f"To fix it, {_FIX}."
        )


def explain_broken_pool(err: BrokenProcessPool) -> BrokenProcessPool:
    """The same error, saying what usually kills a worker and what to do.

    Args:
        err: The error from the pool.

    Returns:
        A :class:`BrokenProcessPool` with the explanation (raise it ``from err``).
    """
    return BrokenProcessPool(
        f"{err} A worker process died without returning its result: killed by the system "
        "(out of memory?) or by a signal, or it could not start. From a script whose "
        f"top-level code starts the workers: {_FIX}. Running with `execution.executor: "
        "sequential` shows any error of the work itself in this process."
    )
