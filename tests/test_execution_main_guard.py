"""A script that starts worker processes without a ``__main__`` guard is told so, before
any worker starts (defect 11); other dead workers are explained too."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rainscore.execution import ExecutorConfig, open_executor
from rainscore.execution.main_guard import is_guarded

UNGUARDED = """
from rainscore.ingest import IngestionConfig, build_radar_inventory

print(build_radar_inventory(["a.h5", "b.h5"], config=IngestionConfig()))
"""

# Top-level code before the guard starts the workers: still unguarded.
BEFORE_THE_GUARD = """
from rainscore.ingest import IngestionConfig, build_radar_inventory


def main():
    return build_radar_inventory(["a.h5", "b.h5"], config=IngestionConfig())


inventory = main()

if __name__ == "__main__":
    print(inventory)
"""


def _run(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    script = tmp_path / "inventory.py"
    script.write_text(textwrap.dedent(source))
    for name in ("a.h5", "b.h5"):
        (tmp_path / name).write_bytes(b"not HDF5")
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )


@pytest.mark.parametrize(("source", "line"), [(UNGUARDED, 4), (BEFORE_THE_GUARD, 9)])
def test_a_script_without_a_main_guard_is_told_why_and_what_to_do(
    tmp_path: Path, source: str, line: int
) -> None:
    run = _run(tmp_path, source)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"RuntimeError: {tmp_path / 'inventory.py'}, line {line}, starts")
    assert 'outside an `if __name__ == "__main__":` guard' in last
    assert "execution.executor: sequential" in last
    assert "BrokenProcessPool:" not in run.stderr


def test_a_guarded_script_runs(tmp_path: Path) -> None:
    run = _run(
        tmp_path,
        """
        from rainscore.ingest import IngestionConfig, build_radar_inventory

        if __name__ == "__main__":
            inventory = build_radar_inventory(["a.h5", "b.h5"], config=IngestionConfig())
            print(sorted(inventory["status"]))
        """,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['bad', 'bad']"


@pytest.mark.parametrize(
    ("source", "line", "guarded"),
    [
        ('x = 1\nif __name__ == "__main__":\n    run()\n', 3, True),
        ('x = 1\nif __name__ == "__main__":\n    run()\n', 1, False),
        ("if '__main__' == __name__ and True:\n    run()\n", 2, True),
        ("if DEBUG:\n    run()\n", 2, False),
        ("def main():\n    run()\n\n\nmain()\n", 5, False),
        ("def broken(:\n", 1, True),
    ],
)
def test_is_guarded(tmp_path: Path, source: str, line: int, guarded: bool) -> None:
    path = tmp_path / "script.py"
    path.write_text(source)
    assert is_guarded(str(path), line) is guarded


def test_a_worker_that_dies_is_explained() -> None:
    with (
        pytest.raises(Exception, match=r"killed by the system \(out of memory\?\)") as info,
        open_executor(ExecutorConfig(executor="processes", workers=1)) as workers,
    ):
        workers.executor.submit(os._exit, 3).result()
    assert type(info.value).__name__ == "BrokenProcessPool"
    assert "execution.executor: sequential" in str(info.value)
