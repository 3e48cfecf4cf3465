"""File fingerprints: what tells an incremental run that a raw file is new or changed."""

from __future__ import annotations

import os


def fingerprint(path: str) -> tuple[int, int]:
    """``(size in bytes, modification time in ns)`` of a file; (−1, −1) if it vanished."""
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)
