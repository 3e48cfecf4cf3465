"""Atomic file writes: write under a hidden temporary name, then rename in place.

A reader (or a crash) never sees a half-written file under its final name: the temporary
file lives in the same folder (so ``os.replace`` is an atomic rename on POSIX), starts with
a dot (so globs for real file names skip it) and is removed if writing fails.

A writer killed outright (``kill -9``, out of memory, power loss) cannot remove its
temporary. Its name says who wrote it, ``.<name>.<host>-<pid>.tmp``, so that
:func:`remove_stale_temporaries` (called by the catalog datasets before each save) removes
exactly the temporaries whose writer is gone: written on this host by a process that no
longer exists. Those of a live process (a concurrent writer), of this process and of
another host (a shared file system) are left alone. A temporary may be a file or a folder
(a Zarr store being written).
"""

from __future__ import annotations

import glob
import logging
import os
import re
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

logger = logging.getLogger(__name__)

_HOST = re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "localhost"


def temporary_path(path: str | os.PathLike) -> Path:
    """The hidden temporary path of this process for the final path ``path``."""
    path = Path(path)
    return path.with_name(f".{path.name}.{_HOST}-{os.getpid()}.tmp")


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
    tmp = temporary_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def replace_folder(tmp: str | os.PathLike, path: str | os.PathLike) -> None:
    """Rename the complete folder ``tmp`` to ``path``, replacing an existing ``path``.

    An existing ``path`` is first renamed aside (a hidden ``….old`` name) and removed once
    ``tmp`` has taken its place, so ``path`` is never a half-written folder.

    Args:
        tmp: The folder written under its temporary name (:func:`temporary_path`).
        path: Its final name.
    """
    tmp, path = Path(tmp), Path(path)
    if not path.exists():
        os.rename(tmp, path)
        return
    old = path.with_name(f"{temporary_path(path).name}.old")
    os.rename(path, old)
    os.rename(tmp, path)
    shutil.rmtree(old)


def stale_temporaries(path: str | os.PathLike, *, versioned: bool = False) -> list[Path]:
    """The temporaries of ``path`` left by writers of this host that no longer run.

    Args:
        path: Final path of the file; for a Kedro versioned dataset, its ``filepath``
            (the versions are ``<filepath>/<version>/<name>``).
        versioned: Look in every version folder of ``path`` instead of beside it.

    Returns:
        The stale temporaries, sorted.
    """
    path = Path(path)
    pattern = re.compile(
        rf"^\.{re.escape(path.name)}\.(?:(?P<host>.+)-)?(?P<pid>\d+)\.tmp$", re.DOTALL
    )
    candidates = (
        path.glob(f"*/.{glob.escape(path.name)}.*.tmp")
        if versioned
        else path.parent.glob(f".{glob.escape(path.name)}.*.tmp")
    )
    stale = []
    for candidate in candidates:
        m = pattern.match(candidate.name)
        if m is None or not (candidate.is_file() or candidate.is_dir()):
            continue
        # A name without host is from before hosts were written: a writer of this host.
        if m["host"] not in (None, _HOST):
            continue
        if not _process_is_gone(int(m["pid"])):
            continue
        stale.append(candidate)
    return sorted(stale)


def remove_stale_temporaries(path: str | os.PathLike, *, versioned: bool = False) -> list[Path]:
    """Remove :func:`stale_temporaries` of ``path`` (and version folders left empty).

    Args:
        path: As for :func:`stale_temporaries`.
        versioned: As for :func:`stale_temporaries`.

    Returns:
        The temporaries removed.
    """
    removed = []
    for tmp in stale_temporaries(path, versioned=versioned):
        try:
            size = _size(tmp)
            if tmp.is_dir():
                shutil.rmtree(tmp)
            else:
                tmp.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile by another cleaner
        removed.append(tmp)
        logger.warning(
            "Removed %s (%.1f MB), left by an interrupted save of %s", tmp, size / 1e6, path
        )
        if versioned:
            with suppress(OSError):  # the version folder, if the temporary was all it held
                tmp.parent.rmdir()
    return removed


def _size(path: Path) -> int:
    """Bytes of the file ``path``, or of every file under the folder ``path``."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _process_is_gone(pid: int) -> bool:
    """Whether no process ``pid`` exists on this host (never true for this process).

    A pid reused by an unrelated process keeps the temporary until that process ends:
    a temporary is never removed while a process of its pid might still write it.
    """
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, owned by another user
    except OverflowError:
        return True  # not a pid this system can have
    return False
