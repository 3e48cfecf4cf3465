"""The folder datasets: a folder handed to a node, and a synthetic world's manifest."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io import DatasetError

from rainscore.datasets import FolderDataset, SyntheticWorldDataset


def test_folder_dataset_loads_its_path_and_is_never_saved(tmp_path) -> None:
    dataset = FolderDataset(path=str(tmp_path / "cache"))
    assert dataset.load() == str(tmp_path / "cache")
    assert not dataset.exists()
    (tmp_path / "cache").mkdir()
    assert dataset.exists()
    with pytest.raises(DatasetError, match="take the folder as a node input"):
        dataset.save("data")


def test_folder_dataset_refuses_a_file(tmp_path) -> None:
    (tmp_path / "cache").write_text("")
    with pytest.raises(DatasetError, match="is not a folder"):
        FolderDataset(path=str(tmp_path / "cache")).load()


def test_world_dataset_stores_the_manifest_only(tmp_path) -> None:
    manifest = pd.DataFrame(
        {
            "kind": ["radar", "world"],
            "path": ["radar/a.h5", "world.json"],
            "time": pd.to_datetime(["2024-06-10T00:05", None]),
            "bytes": [10, 20],
        }
    )
    dataset = SyntheticWorldDataset(path=str(tmp_path / "world"))
    assert not dataset.exists()
    dataset.save(manifest)
    assert sorted(p.name for p in (tmp_path / "world").iterdir()) == ["manifest.csv"]
    loaded = dataset.load()
    assert loaded["path"].tolist() == ["radar/a.h5", "world.json"]
    assert loaded["bytes"].tolist() == [10, 20]


def test_world_dataset_does_not_write_a_world(tmp_path) -> None:
    dataset = SyntheticWorldDataset(path=str(tmp_path / "world"))
    with pytest.raises(DatasetError, match=r"expected the world's manifest .* lacking"):
        dataset.save(object())
    assert not (tmp_path / "world").exists()
