"""A folder that a library function manages itself, handed to a node through the catalog.

Some artefacts are many files that a library function reads and writes as it goes: the
area-weights cache of the radar grids (:meth:`rainscore.grids.regrid.AreaWeights.cached`),
the files of the synthetic world (:meth:`rainscore.synthetic.SyntheticWorld.write`). Their
folder is declared once, in the catalog, as a ``FolderDataset``: a node takes it as an
input and receives the folder's path, so no path is written in the parameters and
``kedro viz`` shows the artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError


class FolderDataset(AbstractDataset[None, str]):
    """The path of a folder whose files a library function writes and reads.

    Loading returns the path (the folder need not exist yet: the function creates it);
    saving is not supported, since nodes never hand the folder's content to the catalog.

    Example catalog entry::

        area_weights:
          type: rainscore.datasets.FolderDataset
          path: data/02_intermediate/area_weights
    """

    def __init__(self, *, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset.

        Args:
            path: The folder.
            metadata: Free-form metadata, ignored by Kedro.
        """
        self._path = Path(path)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}

    def load(self) -> str:
        """The folder's path.

        Raises:
            DatasetError: If the path exists and is not a folder.
        """
        if self._path.exists() and not self._path.is_dir():
            raise DatasetError(f"{self._path} is not a folder")
        return str(self._path)

    def save(self, data: None) -> None:
        """Nodes write into the folder through the library, not through the catalog."""
        raise DatasetError(
            f"{self}: the folder's files are written by the library function that uses it; "
            "take the folder as a node input instead of saving to it"
        )

    def _exists(self) -> bool:
        return self._path.is_dir()
