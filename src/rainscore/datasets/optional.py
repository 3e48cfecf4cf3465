"""A read-only view of another dataset that loads as ``None`` when it does not exist.

Two uses:

- incremental nodes (ingestion reads only new raw files) need what the previous run wrote.
  Kedro forbids a node that reads and writes the same dataset, so the catalog declares a
  second entry on the same files; on the first run there is nothing yet, and the node gets
  ``None`` instead of a failure::

      imerg_cube_previous:
        type: rainscore.datasets.OptionalDataset
        dataset: {type: rainscore.datasets.XarrayNetCDFDataset, filepath: ..., versioned: true}

- inputs that only some worlds have, such as the synthetic world's truth (real data has
  none): nodes receive ``None`` and skip what depends on it.
"""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError


class OptionalDataset(AbstractDataset[None, Any]):
    """Another dataset's (latest) data, or ``None`` if it has none; read-only."""

    def __init__(self, *, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        """Create the wrapper.

        Args:
            dataset: Catalog configuration of the wrapped dataset (versioned or not).
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._config = dict(dataset)
        self._dataset = AbstractDataset.from_config("optional", dict(dataset))
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._config}

    def load(self) -> Any:
        """The wrapped dataset's (latest) data, or ``None`` when it does not exist."""
        if not self._dataset.exists():
            return None
        return self._dataset.load()

    def save(self, data: Any) -> None:
        """Read-only: the wrapped dataset is written under its own catalog name."""
        raise DatasetError(f"{self}: read-only view of another dataset")

    def _exists(self) -> bool:
        return True
