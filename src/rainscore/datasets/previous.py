"""Read the latest saved version of a pipeline output as an input of the next run.

Incremental nodes (ingestion reads only new raw files) need what the previous run wrote.
Kedro forbids a node that reads and writes the same dataset, so the catalog declares a
second entry on the same files; this wrapper returns ``None`` when nothing was saved yet,
instead of failing the first run::

    imerg_cube_previous:
      type: rainscore.datasets.PreviousVersionDataset
      dataset: {type: rainscore.datasets.XarrayNetCDFDataset, filepath: ..., versioned: true}
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError


class PreviousVersionDataset(AbstractDataset[None, Any]):
    """The latest version of another dataset, or ``None`` if it has none (read-only)."""

    def __init__(self, *, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        """Create the wrapper.

        Args:
            dataset: Catalog configuration of the wrapped dataset (usually versioned).
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._config = dict(dataset)
        self._dataset = AbstractDataset.from_config("previous_version", dict(dataset))
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._config}

    def load(self) -> Any:
        """The wrapped dataset's latest version, or ``None`` when nothing was saved yet."""
        if not self._dataset.exists():
            return None
        return self._dataset.load()

    def save(self, data: Any) -> None:
        """Read-only: the wrapped dataset is written under its own catalog name."""
        raise DatasetError(f"{self}: read-only view of a previous run's output")

    def _exists(self) -> bool:
        return True
