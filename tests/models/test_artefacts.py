"""Model artefacts: safetensors + JSON round trip; loading never unpickles."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
import torch

from rainscore.models.artefacts import (
    JSON_NAME,
    WEIGHTS_NAME,
    ModelArtefact,
    load_artefact,
    save_artefact,
)
from rainscore.models.training import seed_everything
from rainscore.models.unet import UNet, UNetConfig

torch.set_num_threads(1)

METADATA = {
    "input_channels": ["precipitation", "quality_index"],
    "norm": {"mean": [0.1, 0.2], "std": [1.0, 2.0]},
    "conformal": {"quantile": 0.12, "coverage": 0.8, "n_calibration": 40},
    "training": {"best_epoch": 3, "seed": 0},
}


@pytest.fixture
def artefact() -> ModelArtefact:
    seed_everything(0)
    config = UNetConfig(in_channels=2, depth=1, width=4)
    model = UNet(config)
    return ModelArtefact(
        kind="unet", config=config.to_dict(), state=model.state_dict(), metadata=METADATA
    )


def test_round_trip(tmp_path: Path, artefact: ModelArtefact) -> None:
    save_artefact(artefact, tmp_path / "unet")
    assert sorted(p.name for p in (tmp_path / "unet").iterdir()) == [JSON_NAME, WEIGHTS_NAME]
    loaded = load_artefact(tmp_path / "unet")
    assert (loaded.kind, loaded.config, loaded.metadata) == ("unet", artefact.config, METADATA)
    assert loaded.state.keys() == artefact.state.keys()
    for name, tensor in artefact.state.items():
        assert torch.equal(loaded.state[name], tensor), name
        assert loaded.state[name].dtype == tensor.dtype
    model = UNet(UNetConfig.from_dict(loaded.config))
    model.load_state_dict(loaded.state)
    document = json.loads((tmp_path / "unet" / JSON_NAME).read_text())
    assert document["tensors"]["local_head.weight"] == {"dtype": "float32", "shape": [1, 4, 1, 1]}
    assert document["tensors"]["encoder.0.1.num_batches_tracked"]["dtype"] == "int64"


def test_loading_never_unpickles(
    tmp_path: Path, artefact: ModelArtefact, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_artefact(artefact, tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was called")

    for module, name in [
        (torch, "load"),
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    loaded = load_artefact(tmp_path)
    assert torch.equal(loaded.state["local_head.bias"], artefact.state["local_head.bias"])


class _Payload:
    """Unpickling this creates a file: a pickled weights file can run any code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickled_weights_file_is_refused_without_running_it(
    tmp_path: Path, artefact: ModelArtefact
) -> None:
    save_artefact(artefact, tmp_path)
    weights = tmp_path / WEIGHTS_NAME
    marker = tmp_path / "created_by_unpickling.txt"
    torch.save({"state": dict(artefact.state), "payload": _Payload(marker)}, weights)
    with pytest.raises(ValueError, match=rf"{re.escape(str(weights))} is not a safetensors file"):
        load_artefact(tmp_path)
    assert not marker.exists()


def test_mismatched_or_broken_files_are_errors_naming_them(
    tmp_path: Path, artefact: ModelArtefact
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    save_artefact(artefact, first)
    other = dict(artefact.state, **{"local_head.bias": torch.ones(1)})
    save_artefact(ModelArtefact("unet", artefact.config, other, METADATA), second)
    (second / WEIGHTS_NAME).replace(first / WEIGHTS_NAME)
    with pytest.raises(
        ValueError, match=rf"{re.escape(str(first / WEIGHTS_NAME))} has SHA-256 .* do not belong"
    ):
        load_artefact(first)
    (first / JSON_NAME).write_text("{not json")
    with pytest.raises(ValueError, match=rf"{re.escape(str(first / JSON_NAME))} is not valid JSON"):
        load_artefact(first)
    (second / JSON_NAME).unlink()
    with pytest.raises(
        FileNotFoundError, match=rf"{re.escape(str(second / JSON_NAME))} is missing"
    ):
        load_artefact(second)


def test_metadata_must_be_json_safe(tmp_path: Path, artefact: ModelArtefact) -> None:
    bad = ModelArtefact("unet", artefact.config, artefact.state, {"best_val_loss": float("nan")})
    with pytest.raises(ValueError, match="config and metadata must be JSON-safe"):
        save_artefact(bad, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ValueError, match="state values must be tensors"):
        ModelArtefact("unet", {}, {"w": [1.0]}, {})
