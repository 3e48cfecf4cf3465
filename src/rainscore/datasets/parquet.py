"""A versioned pandas table as parquet on local disk, saved atomically.

``kedro_datasets.pandas.ParquetDataset`` writes in place: an interrupted save leaves a
corrupt newest version, which the next incremental run (``radar_inventory_previous``) would
then load. This dataset writes to a hidden temporary file and renames it into place, and
removes the temporaries of saves that were killed (see :mod:`rainscore.atomic`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io.core import AbstractVersionedDataset, DatasetError, Version
from kedro_datasets._typing import TablePreview

from rainscore.atomic import atomic_path, remove_stale_temporaries
from rainscore.datasets.versions import VersionedPath


class ParquetTableDataset(VersionedPath, AbstractVersionedDataset[pd.DataFrame, pd.DataFrame]):
    """A DataFrame in a parquet file; versioned, atomic saves, index kept."""

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Local path of the parquet file.
            load_args: Extra arguments of ``pd.read_parquet``.
            save_args: Extra arguments of ``DataFrame.to_parquet``.
            version: Kedro version (set by the catalog when ``versioned: true``).
            metadata: Free-form metadata, ignored by Kedro.
        """
        super().__init__(filepath=PurePosixPath(filepath), version=version)
        self._load_args = dict(load_args or {})
        self._save_args = dict(save_args or {})
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return self._describe_path()

    def load(self) -> pd.DataFrame:
        """Read the (latest or pinned) version."""
        path = Path(str(self._get_load_path()))
        if not path.is_file():
            raise DatasetError(f"{self}: no file at {path}")
        return pd.read_parquet(path, **self._load_args)

    def save(self, data: pd.DataFrame) -> None:
        """Write a new version (or the plain path) through a temporary file.

        Temporaries that a killed save of this dataset left behind are removed first.
        """
        if not isinstance(data, pd.DataFrame):
            raise DatasetError(f"{self}: expected a DataFrame, got {type(data).__name__}")
        remove_stale_temporaries(Path(str(self._filepath)), versioned=self._version is not None)
        with atomic_path(Path(str(self._get_save_path()))) as tmp:
            data.to_parquet(tmp, **self._save_args)

    def _exists(self) -> bool:
        try:
            return Path(str(self._get_load_path())).is_file()
        except DatasetError:
            return False

    def preview(self, nrows: int = 20) -> TablePreview:
        """The first rows, for kedro-viz."""
        head = self.load().head(nrows).reset_index()
        return TablePreview(
            {
                "index": list(range(len(head))),
                "columns": [str(c) for c in head.columns],
                "data": head.astype(str).values.tolist(),
            }
        )
