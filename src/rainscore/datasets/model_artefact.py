"""A trained model in the catalog: a versioned folder of safetensors weights and JSON.

Each version is a folder ``<filepath>/<version>/<name>/`` holding the two files of
:func:`rainscore.models.artefacts.save_artefact` (``weights.safetensors``, ``model.json``).
Loading reads them with :func:`rainscore.models.artefacts.load_artefact`, which never
unpickles. A save writes the folder under a hidden temporary name beside its final one and
renames it once both files are complete (as :class:`~rainscore.datasets.XarrayZarrDataset`
does for stores): a crash mid-save leaves no version, the latest one stays the previous
complete model, and the next save removes temporaries whose writer is gone
(:mod:`rainscore.atomic`).
"""

from __future__ import annotations

import shutil
from contextlib import suppress
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

from rainscore.atomic import remove_stale_temporaries, replace_folder, temporary_path
from rainscore.datasets.versions import VersionedPath
from rainscore.models.artefacts import JSON_NAME, ModelArtefact, load_artefact, save_artefact


class ModelArtefactDataset(VersionedPath, AbstractVersionedDataset[ModelArtefact, ModelArtefact]):
    """A :class:`~rainscore.models.artefacts.ModelArtefact`; versioned, atomic saves.

    Example catalog entry::

        unet_model:
          type: rainscore.datasets.ModelArtefactDataset
          filepath: data/06_models/unet_model
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: Local path of the artefact folder (of the version folders, when
                versioned).
            version: Kedro version (set by the catalog when ``versioned: true``).
            metadata: Free-form metadata, ignored by Kedro (used by kedro-viz).
        """
        super().__init__(filepath=PurePosixPath(filepath), version=version)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return self._describe_path()

    def load(self) -> ModelArtefact:
        """Read the (latest or pinned) version; no pickle is ever read.

        Raises:
            DatasetError: If the folder or one of its files is missing or invalid (the
                message names the file).
        """
        path = Path(str(self._get_load_path()))
        try:
            return load_artefact(path)
        except (FileNotFoundError, ValueError) as err:
            raise DatasetError(f"{self}: {err}") from err

    def save(self, data: ModelArtefact) -> None:
        """Write a new version (or replace the plain folder) through a temporary folder.

        Raises:
            DatasetError: If ``data`` is not a ``ModelArtefact`` or cannot be written as
                JSON (nothing is left behind).
        """
        if not isinstance(data, ModelArtefact):
            raise DatasetError(f"{self}: expected a ModelArtefact, got {type(data).__name__}")
        remove_stale_temporaries(Path(str(self._filepath)), versioned=self._version is not None)
        path = Path(str(self._get_save_path()))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = temporary_path(path)
        try:
            save_artefact(data, tmp)
            replace_folder(tmp, path)
        except BaseException as err:
            shutil.rmtree(tmp, ignore_errors=True)
            if self._version is not None:
                with suppress(OSError):  # the version folder, if this save was all it held
                    path.parent.rmdir()
            if isinstance(err, ValueError):
                raise DatasetError(f"{self}: {err}") from err
            raise

    def _exists(self) -> bool:
        try:
            return (Path(str(self._get_load_path())) / JSON_NAME).is_file()
        except DatasetError:
            return False
