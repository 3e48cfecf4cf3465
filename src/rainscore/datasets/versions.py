"""What a versioned dataset shows of itself: the path of one version, not its folder.

A versioned dataset's ``filepath`` in the catalog is the folder of its versions
(``data/04_feature/map_scores.parquet/<version>/map_scores.parquet``). kedro-viz shows
whatever path a dataset describes and sizes whatever ``filepath`` it has: given the folder,
its panel showed that folder and its statistics the folder's own size (4.1 kB for a 219 kB
table), and nothing said the dataset was versioned. :class:`VersionedPath` gives a
versioned dataset a ``filepath`` that is the file (or store folder) of the version a load
reads: the pinned load version, else the latest saved, else the version pattern with
``<version>`` in it while none exists. The catalog's versioned JSON, text and figure
entries use kedro-datasets' datasets with the same mixin (``VersionedJSONDataset``, …).
"""

from __future__ import annotations

import glob
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import Version
from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.text import TextDataset

#: Stands for the version folder in the path of a versioned dataset that has no version yet.
VERSION_PLACEHOLDER = "<version>"


def latest_version(filepath: PurePosixPath) -> str | None:
    """The newest version folder under ``filepath`` that holds ``filepath.name``, or None.

    Kedro's version names are timestamps, so the newest is the largest name.
    """
    found = glob.glob(glob.escape(str(filepath)) + f"/*/{glob.escape(filepath.name)}")
    versions = [Path(p).parent.name for p in found if Path(p).exists()]
    return max(versions, default=None)


def version_path(filepath: PurePosixPath, version: Version | None) -> PurePosixPath:
    """The path a load of ``filepath`` reads under ``version`` (see the module docstring).

    Args:
        filepath: The dataset's catalog path (the folder of its versions when versioned).
        version: The dataset's Kedro version, None when it is not versioned.

    Returns:
        ``filepath`` itself when not versioned, else ``filepath/<version>/<name>`` for the
        pinned load version, the latest saved one or :data:`VERSION_PLACEHOLDER`.
    """
    if version is None:
        return filepath
    chosen = version.load or latest_version(filepath) or VERSION_PLACEHOLDER
    return filepath / chosen / filepath.name


class VersionedPath:
    """Mixin of the project's versioned datasets: ``filepath`` is the version's path.

    Mixed into subclasses of :class:`kedro.io.AbstractVersionedDataset`, which set
    ``_filepath`` and ``_version``.
    """

    _filepath: PurePosixPath
    _version: Version | None

    @property
    def filepath(self) -> str:
        """The file (or store folder) of the version a load reads (:func:`version_path`).

        kedro-viz's dataset statistics size this path, and its panel shows it.
        """
        return str(version_path(self._filepath, self._version))

    def _describe_path(self) -> dict[str, Any]:
        """The path entries of ``_describe``: the version's path, whether versioned, the
        Kedro version (pinned load and save versions, if any)."""
        return {
            "filepath": self.filepath,
            "versioned": self._version is not None,
            "version": self._version,
        }


class VersionedJSONDataset(VersionedPath, JSONDataset):
    """kedro-datasets' ``json.JSONDataset`` whose ``filepath`` and description name the
    version (:class:`VersionedPath`); for the catalog's versioned JSON reports."""

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), **self._describe_path()}


class VersionedTextDataset(VersionedPath, TextDataset):
    """kedro-datasets' ``text.TextDataset`` whose ``filepath`` and description name the
    version (:class:`VersionedPath`); for the catalog's versioned text reports."""

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), **self._describe_path()}


class VersionedMatplotlibDataset(VersionedPath, MatplotlibDataset):
    """kedro-datasets' ``matplotlib.MatplotlibDataset`` whose ``filepath`` and description
    name the version (:class:`VersionedPath`); for the catalog's versioned figures."""

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), **self._describe_path()}
