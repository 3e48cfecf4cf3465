"""Catalog datasets for raw archives: folders of files the project reads but never writes.

``RawFilesDataset`` lists the files of an archive (IMERG granules, radar mosaics) that match
glob patterns; nodes receive the sorted list of paths and open the files themselves, so a
folder of two years of files costs nothing to "load". Saving writes nothing: a node that
writes an archive's files itself (the ``demo`` pipeline's, which simulates them) hands over
the paths it wrote, and the save checks that the archive lists them, so the lineage shows
which node makes the archive and a world written where the readers do not look fails.

``SyntheticWorldDataset`` is the manifest of a synthetic world: the ``demo`` pipeline's
node writes the world's radar, IMERG and truth files into the raw folder (through
:meth:`rainscore.synthetic.SyntheticWorld.write`, streaming, each file atomically) and
returns the manifest; saving the dataset stores that table as ``manifest.csv`` beside the
files, loading reads it back.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from rainscore.atomic import atomic_path, remove_stale_temporaries

#: Columns of a synthetic world's manifest (:meth:`rainscore.synthetic.SyntheticWorld.write`).
MANIFEST_COLUMNS = ("kind", "path", "time", "bytes")


class RawFilesDataset(AbstractDataset[list[str], list[str]]):
    """The sorted list of files under ``path`` matching ``patterns``.

    Example catalog entry::

        imerg_raw:
          type: rainscore.datasets.RawFilesDataset
          path: data/01_raw/demo/imerg
          patterns: ["**/3B-HHR*.HDF5", "**/3B-HHR*.RT-H5", "**/3B-HHR*.nc4"]
    """

    def __init__(
        self,
        *,
        path: str,
        patterns: list[str] | str = "**/*",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            path: The archive's root folder.
            patterns: Glob patterns relative to ``path`` (``**`` recurses).
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(path)
        self._patterns = [patterns] if isinstance(patterns, str) else list(patterns)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "patterns": self._patterns}

    def load(self) -> list[str]:
        """Return the matching regular files, sorted, as strings; hidden files are skipped."""
        if not self._path.is_dir():
            raise DatasetError(f"Raw folder {self._path} does not exist")
        found: set[str] = set()
        for pattern in self._patterns:
            for name in glob.iglob(str(self._path / pattern), recursive=True):
                p = Path(name)
                if p.is_file() and not p.name.startswith("."):
                    found.add(str(p))
        return sorted(found)

    def save(self, data: list[str]) -> None:
        """Check the files that a node wrote into the archive itself; nothing is written.

        Args:
            data: The paths the node wrote.

        Raises:
            DatasetError: If a path is not among the files :meth:`load` lists (written
                outside the folder, under a name no pattern matches, or not written).
        """
        listed = {Path(p).resolve() for p in self.load()} if self._path.is_dir() else set()
        missing = [str(p) for p in data if Path(p).resolve() not in listed]
        if missing:
            raise DatasetError(
                f"{self}: {len(missing)} of the {len(data)} files written are not in this "
                f"archive (e.g. {missing[0]}): written outside {self._path}, under a name "
                f"that matches none of {self._patterns}, or not written; the pipelines that "
                "read the archive would not see them"
            )

    def _exists(self) -> bool:
        return self._path.is_dir()


class SyntheticWorldDataset(AbstractDataset[pd.DataFrame, pd.DataFrame]):
    """The manifest of a synthetic world written under ``path`` (``path/manifest.csv``).

    The files themselves are written by the node that simulates the world; saving stores
    only the manifest (atomically), one row per file with ``kind``, ``path``, ``time`` and
    ``bytes``.

    Example catalog entry::

        demo_world:
          type: rainscore.datasets.SyntheticWorldDataset
          path: data/01_raw/demo
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            path: Root folder of the world.
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(path)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def save(self, data: pd.DataFrame) -> None:
        """Store the manifest as ``manifest.csv`` (atomically).

        Raises:
            DatasetError: If ``data`` is not a manifest table.
        """
        missing = [
            c for c in MANIFEST_COLUMNS if not isinstance(data, pd.DataFrame) or c not in data
        ]
        if missing:
            raise DatasetError(
                f"{self}: expected the world's manifest (a table with columns "
                f"{list(MANIFEST_COLUMNS)}), got {type(data).__name__} lacking {missing}"
            )
        manifest = self._path / "manifest.csv"
        remove_stale_temporaries(manifest)
        with atomic_path(manifest) as tmp:
            data.to_csv(tmp, index=False)

    def load(self) -> pd.DataFrame:
        """The manifest of the world's files."""
        manifest = self._path / "manifest.csv"
        if not manifest.is_file():
            raise DatasetError(f"No synthetic world at {self._path} (no manifest.csv)")
        return pd.read_csv(manifest)

    def _exists(self) -> bool:
        return (self._path / "manifest.csv").is_file()
