"""What kedro-viz shows of the project's datasets: the version's path and size, whether the
dataset is versioned, what a ``*_previous`` view is, and the raw datasets a node writes
itself (the demo's world) as that node's outputs (docs/lineage.md)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from kedro.io import DataCatalog, DatasetError
from kedro.io.core import Version
from kedro_viz.integrations.kedro.hooks import DatasetStatsHook
from kedro_viz.models.flowchart.model_utils import _parse_filepath

from rainscore.datasets import (
    OptionalDataset,
    ParquetTableDataset,
    RawFilesDataset,
    VersionedJSONDataset,
    VersionedMatplotlibDataset,
    VersionedTextDataset,
    XarrayNetCDFDataset,
)
from rainscore.datasets.versions import VERSION_PLACEHOLDER

TABLE = pd.DataFrame({"score": [0.25 * i for i in range(2000)]})


def _versioned(path: Path, version: str | None = None) -> ParquetTableDataset:
    return ParquetTableDataset(filepath=str(path), version=Version(version, None))


def _version_file(path: Path) -> Path:
    (found,) = path.glob(f"*/{path.name}")
    return found


def test_the_statistics_give_the_size_of_the_saved_version_not_of_its_folder(tmp_path) -> None:
    path = tmp_path / "map_scores.parquet"
    dataset = _versioned(path)
    hook = DatasetStatsHook()
    hook.after_catalog_created(DataCatalog({"map_scores": dataset}))
    dataset.save(TABLE)
    hook.after_dataset_saved("map_scores", TABLE)
    size = _version_file(path).stat().st_size
    assert size > 10_000  # a folder's own size is 4 096
    assert hook._stats["map_scores"] == {"rows": 2000, "columns": 1, "file_size": size}


def test_the_panel_shows_the_version_read_and_that_the_dataset_is_versioned(tmp_path) -> None:
    path = tmp_path / "map_scores.parquet"
    assert _parse_filepath(_versioned(path)._describe()) == str(
        path / VERSION_PLACEHOLDER / path.name
    )
    _versioned(path).save(TABLE)
    described = _versioned(path)._describe()
    assert _parse_filepath(described) == str(_version_file(path))
    assert described["versioned"] is True
    pinned = _versioned(path, "2026-01-01T00.00.00.000Z")._describe()
    assert _parse_filepath(pinned) == str(path / "2026-01-01T00.00.00.000Z" / path.name)
    plain = ParquetTableDataset(filepath=str(tmp_path / "plain.parquet"))._describe()
    assert (_parse_filepath(plain), plain["versioned"]) == (str(tmp_path / "plain.parquet"), False)


def test_a_dataset_without_versions_still_names_itself(tmp_path) -> None:
    dataset = _versioned(tmp_path / "missing.parquet")
    assert f"missing.parquet/{VERSION_PLACEHOLDER}/missing.parquet" in str(dataset)
    assert not dataset.exists()


@pytest.fixture
def previous(tmp_path) -> tuple[OptionalDataset, Path]:
    path = tmp_path / "radar_inventory.parquet"
    config = {"type": "rainscore.datasets.ParquetTableDataset", "filepath": str(path)}
    return OptionalDataset(dataset={**config, "versioned": True}), path


def test_a_previous_view_shows_the_version_it_reads_and_what_it_is(previous) -> None:
    view, path = previous
    first = view._describe()
    assert _parse_filepath(first) == str(path / VERSION_PLACEHOLDER / path.name)
    assert "None" in first["description"] and "first run" in first["description"]
    _versioned(path).save(TABLE)
    assert _parse_filepath(view._describe()) == str(_version_file(path))
    assert view._describe()["versioned"] is True


def test_a_previous_view_previews_its_explanation(previous) -> None:
    view, path = previous
    shown = json.loads(view.preview())
    assert shown["reads"] == str(path / VERSION_PLACEHOLDER / path.name)
    assert shown["latest_version"] is None
    _versioned(path).save(TABLE)
    shown = json.loads(view.preview())
    assert shown["latest_version"] == _version_file(path).parent.name
    assert shown["what"] == view._describe()["description"]


def test_an_optional_input_that_is_not_versioned_says_so(tmp_path) -> None:
    truth = tmp_path / "truth.nc"
    view = OptionalDataset(
        dataset={"type": "rainscore.datasets.XarrayNetCDFDataset", "filepath": str(truth)}
    )
    described = view._describe()
    assert (_parse_filepath(described), described["versioned"]) == (str(truth), False)
    assert "None where it does not exist" in described["description"]
    assert XarrayNetCDFDataset(filepath=str(truth))._describe()["versioned"] is False


def _archive(root: Path) -> RawFilesDataset:
    return RawFilesDataset(path=str(root / "imerg"), patterns=["**/3B-HHR*.HDF5"])


def test_a_raw_archive_accepts_the_files_a_node_wrote_into_it(tmp_path) -> None:
    written = tmp_path / "imerg" / "2024" / "3B-HHR-L.MS.MRG.3IMERG.20240610-S120000.HDF5"
    written.parent.mkdir(parents=True)
    written.write_bytes(b"granule")
    archive = _archive(tmp_path)
    archive.save([str(written)])  # checks only: nothing is written
    assert archive.load() == [str(written)]
    assert written.read_bytes() == b"granule"


@pytest.mark.parametrize(
    "name", ["elsewhere/3B-HHR-L.MS.MRG.3IMERG.HDF5", "imerg/radar.h5", "imerg/3B-HHR-never.HDF5"]
)
def test_a_raw_archive_refuses_files_its_readers_would_not_see(tmp_path, name) -> None:
    path = tmp_path / name
    if "never" not in name:  # written outside the archive, or under a name no pattern matches
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
    (tmp_path / "imerg").mkdir(exist_ok=True)
    with pytest.raises(DatasetError, match=rf"not in this archive \(e\.g\. {path}\)"):
        _archive(tmp_path).save([str(path)])


def test_an_optional_input_accepts_the_file_a_node_wrote_for_it(tmp_path) -> None:
    truth = tmp_path / "truth" / "truth.nc"
    view = OptionalDataset(
        dataset={"type": "rainscore.datasets.XarrayNetCDFDataset", "filepath": str(truth)}
    )
    with pytest.raises(DatasetError, match=r"truth\.nc.*was not written"):
        view.save([str(truth)])
    truth.parent.mkdir()
    xr.Dataset({"rain": ("time", np.zeros(3))}).to_netcdf(truth)
    view.save([str(truth)])
    with pytest.raises(DatasetError, match=r"truth\.nc.*not among the 1 files"):
        view.save([str(tmp_path / "other.nc")])


@pytest.mark.parametrize(
    ("cls", "data", "name"),
    [
        (VersionedJSONDataset, {"success": True}, "validation.json"),
        (VersionedTextDataset, "# report", "report.md"),
    ],
)
def test_the_versioned_reports_round_trip_and_show_their_version(tmp_path, cls, data, name) -> None:
    path = tmp_path / name
    dataset = cls(filepath=str(path), version=Version(None, None))
    assert _parse_filepath(dataset._describe()) == str(path / VERSION_PLACEHOLDER / name)
    dataset.save(data)
    reread = cls(filepath=str(path), version=Version(None, None))
    assert reread.load() == data
    assert (_parse_filepath(reread._describe()), reread._describe()["versioned"]) == (
        str(_version_file(path)),
        True,
    )


def test_a_versioned_figure_shows_its_version(tmp_path) -> None:
    path = tmp_path / "figure.png"
    dataset = VersionedMatplotlibDataset(filepath=str(path), version=Version(None, None))
    figure, _ = plt.subplots()
    dataset.save(figure)
    plt.close(figure)
    assert _parse_filepath(dataset._describe()) == str(_version_file(path))
