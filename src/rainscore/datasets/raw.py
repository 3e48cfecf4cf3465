"""Catalog datasets for raw archives: folders of files the project reads but never writes.

``RawFilesDataset`` lists the files of an archive (IMERG granules, radar mosaics) that match
glob patterns; nodes receive the sorted list of paths and open the files themselves, so a
folder of two years of files costs nothing to "load". It cannot be saved: raw folders are
never written by the pipelines.

``SyntheticWorldDataset`` is the one place where files appear in a raw folder: saving a
:class:`rainscore.synthetic.SyntheticWorld` writes its radar, IMERG and truth files there
(streaming, each file atomically) and loading returns the manifest of what was written.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

logger = logging.getLogger(__name__)


class RawFilesDataset(AbstractDataset[None, list[str]]):
    """The sorted list of files under ``path`` matching ``patterns`` (read-only).

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

    def save(self, data: None) -> None:
        """Raw folders are read-only for the pipelines."""
        raise DatasetError(f"{self}: raw file folders are read-only; nothing is written there")

    def _exists(self) -> bool:
        return self._path.is_dir()


class SyntheticWorldDataset(AbstractDataset[Any, pd.DataFrame]):
    """A synthetic world written in the real file formats under ``path``.

    Saving a ``SyntheticWorld`` writes ``radar/``, ``imerg/``, ``truth/`` and
    ``world.json`` under ``path``; loading returns the manifest (one row per file).
    """

    def __init__(
        self,
        *,
        path: str,
        progress: bool = True,
        weights_cache_dir: str | None = None,
        metadata: dict | None = None,
    ):
        """Create the dataset.

        Args:
            path: Root folder of the world.
            progress: Show progress bars while writing.
            weights_cache_dir: Folder of the radar → IMERG area-weights cache (the colocation
                pipeline uses the same one, so the weights are computed once).
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(path)
        self._progress = progress
        self._cache_dir = weights_cache_dir
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "weights_cache_dir": self._cache_dir}

    def save(self, data: Any) -> None:
        """Write the world's files (each atomically) and its manifest."""
        manifest = data.write(self._path, progress=self._progress, cache_dir=self._cache_dir)
        manifest.to_csv(self._path / "manifest.csv", index=False)

    def load(self) -> pd.DataFrame:
        """The manifest of the world's files."""
        manifest = self._path / "manifest.csv"
        if not manifest.is_file():
            raise DatasetError(f"No synthetic world at {self._path} (no manifest.csv)")
        return pd.read_csv(manifest)

    def _exists(self) -> bool:
        return (self._path / "manifest.csv").is_file()
