"""A save killed outright leaves its hidden temporary; the dataset's next save removes it.

Only temporaries whose writer is gone are removed: those of a live process (a concurrent
writer), of this process and of another host are kept.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.atomic import stale_temporaries, temporary_path
from rainscore.datasets import ParquetTableDataset, XarrayNetCDFDataset

KILLED_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from rainscore.atomic import atomic_path

    with atomic_path(sys.argv[1]) as tmp:
        tmp.write_bytes(b"half a file")
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _killed_save(final: Path) -> Path:
    """Run a writer that is killed (SIGKILL) inside ``atomic_path``; its temporary."""
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(final)], check=False)
    assert done.returncode == -signal.SIGKILL
    (left,) = final.parent.glob(f".{final.name}.*.tmp")
    assert left.read_bytes() == b"half a file"
    return left


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def _table() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index([3, 4], name="i"))


def _cube() -> xr.Dataset:
    return xr.Dataset({"rain": (("time",), np.arange(3.0))})


@pytest.mark.parametrize(
    ("factory", "data", "name"),
    [
        (ParquetTableDataset, _table, "table.parquet"),
        (XarrayNetCDFDataset, _cube, "cube.nc"),
    ],
)
def test_unversioned_save_removes_the_temporary_of_a_killed_save(tmp_path, factory, data, name):
    final = tmp_path / "out" / name
    left = _killed_save(final)
    dataset = factory(filepath=str(final))
    dataset.save(data())
    assert not left.exists()
    assert sorted(p.name for p in final.parent.iterdir()) == [name]


@pytest.mark.parametrize(
    ("factory", "data", "name"),
    [
        (ParquetTableDataset, _table, "table.parquet"),
        (XarrayNetCDFDataset, _cube, "cube.nc"),
    ],
)
def test_versioned_save_removes_a_killed_version(tmp_path, factory, data, name):
    from kedro.io.core import Version

    base = tmp_path / "out" / name
    left = _killed_save(base / "2024-01-01T00.00.00.000Z" / name)
    dataset = factory(filepath=str(base), version=Version(None, None))
    dataset.save(data())
    assert not left.exists()
    assert not left.parent.exists()  # the killed version held nothing else
    (version,) = base.iterdir()
    assert [p.name for p in version.iterdir()] == [name]


def test_temporaries_of_live_or_other_writers_are_kept(tmp_path):
    final = tmp_path / "table.parquet"
    host = temporary_path(final).name.split(".")[-2].rsplit("-", 1)[0]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = _dead_pid()
        mine = final.with_name(f".table.parquet.{host}-{os.getpid()}.tmp")
        kept = [
            final.with_name(f".table.parquet.{host}-{sleeper.pid}.tmp"),  # concurrent writer
            final.with_name(f".table.parquet.otherhost-{dead}.tmp"),  # another host's writer
            final.with_name(f".other.parquet.{host}-{dead}.tmp"),  # another target
        ]
        stale = [
            final.with_name(f".table.parquet.{host}-{dead}.tmp"),
            final.with_name(f".table.parquet.{dead}.tmp"),  # the name before hosts
        ]
        for p in [mine, *kept, *stale]:
            p.write_bytes(b"x")
        assert mine == temporary_path(final)
        assert stale_temporaries(final) == sorted(stale)
        mine.unlink()  # the save below writes it
        ParquetTableDataset(filepath=str(final)).save(_table())
        assert all(p.exists() for p in kept)
        assert not any(p.exists() for p in stale)
    finally:
        sleeper.kill()
        sleeper.wait()
