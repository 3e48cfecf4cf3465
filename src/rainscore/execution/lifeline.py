"""Worker processes that exit when the process that started them dies, even by ``kill -9``.

A pool's workers are forked by the fork server and wait for work on a queue whose write end
they hold themselves, and the fork server and the resource tracker wait for pipes the
workers hold: when the parent is killed, none of them ever sees an end of file, and they
stay alive as orphans (hundreds of MB). Each worker therefore watches a *lifeline*: the read
end of a pipe whose only write end the parent holds. The kernel closes that end when the
parent dies, however it dies; the worker then exits at once, and the fork server and the
resource tracker, no longer needed by anyone, exit after it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from multiprocessing.connection import Connection

__all__ = ["exit_with_parent", "lifeline"]

#: Exit status of a worker whose parent died.
PARENT_DIED = 70

_LOCK = threading.Lock()
_LIFELINES: dict[int, tuple[Connection, Connection]] = {}


def lifeline() -> Connection:
    """The read end of this process's lifeline, to hand to :func:`exit_with_parent`.

    The write end stays open in this process until it exits (it is not inherited by
    programs this process starts, nor by the fork server's children).

    Returns:
        A connection that reaches end of file when this process dies.
    """
    with _LOCK:
        # Keyed by pid: a forked copy of this process needs its own lifeline.
        if os.getpid() not in _LIFELINES:
            _LIFELINES[os.getpid()] = multiprocessing.Pipe(duplex=False)
        return _LIFELINES[os.getpid()][0]


def exit_with_parent(line: Connection) -> None:
    """Worker initializer: exit this process as soon as ``line`` reaches end of file.

    A daemon thread blocks on the pipe (no polling) and calls :func:`os._exit` when the
    parent's end closes: a worker whose parent is gone has nobody to return results to.

    Args:
        line: The read end from :func:`lifeline`, in the parent.
    """
    threading.Thread(
        target=_exit_at_eof, args=(line,), name="exit-with-parent", daemon=True
    ).start()


def _exit_at_eof(line: Connection) -> None:
    try:
        while True:
            line.recv_bytes()
    except (EOFError, OSError):
        os._exit(PARENT_DIED)
