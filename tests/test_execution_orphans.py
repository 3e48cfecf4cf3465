"""Worker processes die with their parent, even when it is killed with SIGKILL (defect 7)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil

# Reads two "files" in parallel (the default executor: 2 processes), each for a minute.
SCRIPT = textwrap.dedent(
    """
    import time

    from rainscore.ingest import map_files


    def read_slowly(path):
        time.sleep(60)
        return path


    if __name__ == "__main__":
        map_files(read_slowly, ["a.h5", "b.h5"])
    """
)


def _descendants(parent: psutil.Process, at_least: int, timeout: float) -> list[psutil.Process]:
    """The parent's descendants once there are ``at_least`` of them."""
    deadline = time.monotonic() + timeout
    while True:
        found = parent.children(recursive=True)
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_killing_the_parent_of_a_process_pool_leaves_no_process(tmp_path: Path) -> None:
    script = tmp_path / "ingest.py"
    script.write_text(SCRIPT)
    parent = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        # The resource tracker, the fork server and two workers.
        children = _descendants(psutil.Process(parent.pid), at_least=4, timeout=60)
        assert len(children) == 4, [c.cmdline() for c in children]
        time.sleep(0.5)  # the workers have picked their tasks
    finally:
        parent.kill()
        parent.wait()
    gone, alive = psutil.wait_procs(children, timeout=10)
    orphans = [" ".join(p.cmdline())[:100] for p in alive]
    for process in alive:
        process.kill()
    assert orphans == []
    assert len(gone) == 4
