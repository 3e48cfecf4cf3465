"""Reading files gives the same results, in the same order, whatever the executor."""

from __future__ import annotations

import pytest

from rainscore.execution import ExecutorConfig
from rainscore.ingest import map_files
from rainscore.io import ReaderError

PATHS = [f"f{i:02d}.h5" for i in range(40)]


def _read(path: str) -> int:
    number = int(path[1:3])
    if number % 7 == 3:
        raise ReaderError(path, "truncated", "ends early")
    return number * number


@pytest.mark.parametrize(
    "execution",
    [
        ExecutorConfig(executor="sequential", progress=False),
        ExecutorConfig(executor="threads", workers=3, progress=False),
        ExecutorConfig(executor="processes", workers=2, progress=False),
        ExecutorConfig(executor="dask", workers=2, dask_processes=False, progress=False),
    ],
    ids=lambda e: e.executor,
)
def test_every_executor_reads_the_same(execution: ExecutorConfig) -> None:
    results = map_files(_read, PATHS, execution=execution)
    assert [r.path for r in results] == PATHS
    assert [r.value for r in results if r.ok] == [i * i for i in range(40) if i % 7 != 3]
    assert [r.path for r in results if not r.ok] == [
        "f03.h5",
        "f10.h5",
        "f17.h5",
        "f24.h5",
        "f31.h5",
        "f38.h5",
    ]
    assert {r.reason for r in results if not r.ok} == {"truncated"}


def test_strict_mode_stops_at_the_first_bad_file() -> None:
    execution = ExecutorConfig(executor="threads", workers=2, progress=False)
    with pytest.raises(ReaderError, match=r"f03\.h5"):
        map_files(_read, PATHS, execution=execution, strict=True)
