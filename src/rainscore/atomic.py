"""Atomic file writes: write under a hidden temporary name, then rename in place.

A reader (or a crash) never sees a half-written file under its final name: the temporary
file lives in the same folder (so ``os.replace`` is an atomic rename on POSIX), starts with
a dot (so globs for real file names skip it) and is removed if writing fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it to ``path`` when the block succeeds.

    Args:
        path: Final path of the file (its folder is created).

    Yields:
        The temporary path to write to.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
