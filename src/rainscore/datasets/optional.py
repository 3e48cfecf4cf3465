"""A view of another dataset that loads as ``None`` when it does not exist.

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

Saving writes nothing: a node that writes the wrapped dataset's file itself (the demo writes
the synthetic world's truth as it simulates it) hands over the paths it wrote, and the save
checks that the wrapped dataset is among them and exists, so the lineage shows that node.

kedro-viz shows the view's ``filepath`` (the wrapped dataset's: the latest version's path)
and, as its preview, what the view is and which version it reads now.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro_datasets._typing import JSONPreview

from rainscore.datasets.versions import VERSION_PLACEHOLDER


class OptionalDataset(AbstractDataset[None, Any]):
    """Another dataset's (latest) data, or ``None`` if it has none; saving only checks."""

    def __init__(self, *, dataset: dict[str, Any], metadata: dict[str, Any] | None = None):
        """Create the wrapper.

        Args:
            dataset: Catalog configuration of the wrapped dataset (versioned or not).
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._config = dict(dataset)
        self._dataset = AbstractDataset.from_config("optional", dict(dataset))
        self.metadata = metadata

    @property
    def filepath(self) -> str | None:
        """The wrapped dataset's path: for a versioned one, the latest version's (what a load
        reads), with ``<version>`` in it while there is none."""
        path = getattr(self._dataset, "filepath", None)
        if path is None:
            described = self._dataset._describe()
            path = described.get("filepath") or described.get("path")
        return None if path is None else str(path)

    @property
    def wraps_versioned(self) -> bool:
        """Whether the wrapped dataset is versioned (the view then reads its latest version).

        Not named ``versioned``: Kedro would take a class attribute of that name for a
        versioned dataset and pass it a ``version``.
        """
        return bool(self._config.get("versioned"))

    @property
    def description(self) -> str:
        """What the view is, in a sentence (kedro-viz's panel and the preview)."""
        if self.wraps_versioned:
            return (
                "The latest version that an earlier run saved of a versioned dataset (the "
                "previous run's output, which this run continues), or None on a first run, "
                "when there is none. Read-only: the run writes its new version under the "
                "dataset's own catalog name."
            )
        return (
            "The data of another dataset, or None where it does not exist (an input only "
            "some worlds have, e.g. the synthetic world's truth, which the demo writes)."
        )

    def _latest_version(self) -> str | None:
        path = self.filepath
        if not self.wraps_versioned or path is None:
            return None
        version = PurePosixPath(path).parent.name
        return None if version == VERSION_PLACEHOLDER else version

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self.filepath,
            "versioned": self.wraps_versioned,
            "description": self.description,
            "dataset": self._config,
        }

    def preview(self) -> JSONPreview:
        """What the view is and what it reads now, for kedro-viz."""
        shown = {
            "what": self.description,
            "reads": self.filepath,
            "latest_version": self._latest_version(),
        }
        return JSONPreview(json.dumps(shown, indent=2))

    def load(self) -> Any:
        """The wrapped dataset's (latest) data, or ``None`` when it does not exist."""
        if not self._dataset.exists():
            return None
        return self._dataset.load()

    def save(self, data: list[str]) -> None:
        """Check that a node wrote the wrapped dataset's file itself; nothing is written.

        Args:
            data: The paths the node wrote.

        Raises:
            DatasetError: If the wrapped dataset's file is not among them or does not exist
                (the wrapped dataset itself is written under its own catalog name).
        """
        path = self.filepath
        written = {Path(p).resolve() for p in data}
        if path is None or Path(path).resolve() not in written:
            raise DatasetError(
                f"{self}: its file {path} is not among the {len(data)} files written "
                f"(e.g. {next(iter(data), None)}); a node writes the wrapped dataset under its "
                "own catalog name"
            )
        if not self._dataset.exists():
            raise DatasetError(f"{self}: {path} was not written (the dataset does not exist)")

    def _exists(self) -> bool:
        return True
