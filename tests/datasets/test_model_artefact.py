"""The versioned model artefact dataset: round trip, versions, atomic saves, no pickle."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from kedro.io.core import DatasetError, Version

from rainscore.atomic import temporary_path
from rainscore.datasets import ModelArtefactDataset
from rainscore.models.artefacts import ModelArtefact


def _artefact(value: float = 1.5) -> ModelArtefact:
    return ModelArtefact(
        kind="unet",
        config={"in_channels": 6, "depth": 2},
        state={"w": torch.full((2, 3), value), "b": torch.arange(3, dtype=torch.int64)},
        metadata={"conformal": {"quantile": 0.25}, "channels": ["precipitation"]},
    )


def _versioned(tmp_path, load: str | None = None) -> ModelArtefactDataset:
    return ModelArtefactDataset(filepath=str(tmp_path / "unet_model"), version=Version(load, None))


def test_round_trip_of_a_versioned_artefact(tmp_path) -> None:
    _versioned(tmp_path).save(_artefact())
    folders = sorted((tmp_path / "unet_model").glob("*/unet_model"))
    assert len(folders) == 1
    assert sorted(p.name for p in folders[0].iterdir()) == ["model.json", "weights.safetensors"]
    loaded = _versioned(tmp_path).load()
    assert loaded.kind == "unet" and loaded.config == {"in_channels": 6, "depth": 2}
    assert loaded.metadata["conformal"] == {"quantile": 0.25}
    torch.testing.assert_close(loaded.state["w"], torch.full((2, 3), 1.5))
    torch.testing.assert_close(loaded.state["b"], torch.arange(3))
    assert _versioned(tmp_path).exists()


def test_each_save_is_a_new_version_and_the_latest_is_loaded(tmp_path) -> None:
    _versioned(tmp_path).save(_artefact(1.0))
    _versioned(tmp_path).save(_artefact(2.0))
    versions = sorted(p.name for p in (tmp_path / "unet_model").iterdir())
    assert len(versions) == 2
    assert float(_versioned(tmp_path).load().state["w"][0, 0]) == 2.0
    assert float(_versioned(tmp_path, load=versions[0]).load().state["w"][0, 0]) == 1.0


def test_an_unversioned_save_replaces_the_folder(tmp_path) -> None:
    dataset = ModelArtefactDataset(filepath=str(tmp_path / "model"))
    dataset.save(_artefact(1.0))
    dataset.save(_artefact(3.0))
    assert float(dataset.load().state["w"][0, 0]) == 3.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_failed_save_leaves_no_version(tmp_path) -> None:
    bad = ModelArtefact(kind="unet", config={"x": float("nan")}, state={}, metadata={})
    with pytest.raises(DatasetError, match="JSON-safe"):
        _versioned(tmp_path).save(bad)
    assert list((tmp_path / "unet_model").iterdir()) == []
    assert not _versioned(tmp_path).exists()


def test_the_temporary_of_a_killed_save_is_removed(tmp_path) -> None:
    version = tmp_path / "unet_model" / "2026-01-01T00.00.00.000Z"
    mine = temporary_path(version / "unet_model")  # this host's name, a pid that is gone
    stale = mine.with_name(mine.name.replace(f"-{os.getpid()}.", "-999999999."))
    stale.mkdir(parents=True)
    (stale / "weights.safetensors").write_bytes(b"half")
    _versioned(tmp_path).save(_artefact())
    assert not stale.exists() and not version.exists()


def test_loading_never_unpickles(tmp_path) -> None:
    _versioned(tmp_path).save(_artefact())
    folder = next((tmp_path / "unet_model").glob("*/unet_model"))
    (folder / "weights.safetensors").write_bytes(pickle.dumps({"w": [1.0]}))
    with pytest.raises(DatasetError, match=r"weights\.safetensors is not a safetensors file"):
        _versioned(tmp_path).load()


def test_a_missing_file_is_named(tmp_path) -> None:
    _versioned(tmp_path).save(_artefact())
    folder = next((tmp_path / "unet_model").glob("*/unet_model"))
    json.loads((folder / "model.json").read_text())
    (folder / "model.json").unlink()
    with pytest.raises(DatasetError, match=r"model\.json is missing"):
        _versioned(tmp_path).load()


def test_only_artefacts_are_saved(tmp_path) -> None:
    with pytest.raises(DatasetError, match="expected a ModelArtefact, got dict"):
        _versioned(tmp_path).save({"w": torch.zeros(1)})
