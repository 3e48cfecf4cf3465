"""Model artefacts on disk: safetensors weights plus a JSON description, never pickle.

An artefact is a folder of two files:

- ``weights.safetensors``: the tensors of the model's ``state_dict`` (safetensors is a
  header of JSON and raw tensor bytes: reading it runs no code);
- ``model.json``: the model's kind (``"unet"``…), its configuration, the metadata
  (normalisation statistics, input channels, conformal quantile, training information),
  the tensors' names, dtypes and shapes and the SHA-256 of the weights file.

:func:`load_artefact` reads the JSON with :mod:`json` and the weights with
:func:`safetensors.torch.load_file`; it never calls :func:`torch.load` or :mod:`pickle`, so
a tampered artefact cannot run code. A weights file that is not safetensors is an error
naming it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from rainscore.atomic import atomic_path

__all__ = [
    "FORMAT_VERSION",
    "JSON_NAME",
    "WEIGHTS_NAME",
    "ModelArtefact",
    "load_artefact",
    "save_artefact",
]

WEIGHTS_NAME = "weights.safetensors"
JSON_NAME = "model.json"
FORMAT_VERSION = 1
"""Version of the artefact layout written in ``model.json`` (``format_version``)."""

_KEYS = {"format_version", "kind", "config", "metadata", "tensors", "weights_sha256"}


@dataclass(frozen=True)
class ModelArtefact:
    """A trained model as data: what to build and the weights to load into it.

    Attributes:
        kind: Model family (``"unet"``, ``"autoencoder"``…), which class to build.
        config: The model's configuration (``UNetConfig.to_dict()``), JSON-safe.
        state: The ``state_dict`` tensors.
        metadata: JSON-safe extras: normalisation statistics, input channels, conformal
            quantile, training information.
    """

    kind: str
    config: dict[str, Any]
    state: dict[str, torch.Tensor] = field(repr=False)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or not self.kind:
            raise ValueError(f"ModelArtefact.kind must be a non-empty string, got {self.kind!r}")
        bad = sorted(k for k, v in self.state.items() if not isinstance(v, torch.Tensor))
        if bad:
            raise ValueError(f"ModelArtefact.state values must be tensors; not for {bad}")


def _json_text(artefact: ModelArtefact, tensors: Mapping[str, torch.Tensor], digest: str) -> str:
    document = {
        "format_version": FORMAT_VERSION,
        "kind": artefact.kind,
        "config": artefact.config,
        "metadata": artefact.metadata,
        "tensors": {
            name: {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape)}
            for name, t in tensors.items()
        },
        "weights_sha256": digest,
    }
    try:
        return json.dumps(document, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"model artefact {artefact.kind!r}: config and metadata must be JSON-safe "
            f"(plain str, int, finite float, bool, None, lists and dicts): {err}"
        ) from None


def save_artefact(artefact: ModelArtefact, folder: str | Path) -> None:
    """Write ``weights.safetensors`` and ``model.json`` into ``folder`` (created).

    Each file is written under a temporary name and renamed, the JSON last.

    Args:
        artefact: The artefact.
        folder: Destination folder.

    Raises:
        ValueError: If the config or metadata is not JSON-safe (NaN and infinities
            included), before anything is written.
    """
    folder = Path(folder)
    tensors = {name: t.detach().to("cpu").contiguous() for name, t in artefact.state.items()}
    _json_text(artefact, tensors, "")  # fail before writing anything
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / WEIGHTS_NAME) as tmp:
        save_file(tensors, str(tmp), metadata={"format": "pt"})
        digest = _sha256(tmp)
    with atomic_path(folder / JSON_NAME) as tmp:
        tmp.write_text(_json_text(artefact, tensors, digest) + "\n", encoding="utf-8")


def load_artefact(folder: str | Path) -> ModelArtefact:
    """Read an artefact written by :func:`save_artefact`, never unpickling anything.

    Args:
        folder: The artefact's folder.

    Returns:
        The artefact (tensors on the CPU).

    Raises:
        FileNotFoundError: If ``model.json`` or ``weights.safetensors`` is missing (named).
        ValueError: If ``model.json`` is not valid JSON of this layout, the weights file is
            not a safetensors file, its checksum differs or its tensors differ from those
            the JSON lists (each message names the file).
    """
    folder = Path(folder)
    json_path, weights_path = folder / JSON_NAME, folder / WEIGHTS_NAME
    for path in (json_path, weights_path):
        if not path.is_file():
            raise FileNotFoundError(f"model artefact file {path} is missing")
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"model artefact file {json_path} is not valid JSON: {err}") from None
    if not isinstance(document, dict) or set(document) != _KEYS:
        keys = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise ValueError(
            f"model artefact file {json_path} must have keys {sorted(_KEYS)}, got {keys}"
        )
    if document["format_version"] != FORMAT_VERSION:
        raise ValueError(
            f"model artefact file {json_path} has format_version "
            f"{document['format_version']!r}; this version of rainscore reads {FORMAT_VERSION}"
        )
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(
            f"model artefact file {weights_path} is not a safetensors file ({err}); "
            "weights are never read with pickle"
        ) from None
    digest = _sha256(weights_path)
    if digest != document["weights_sha256"]:
        raise ValueError(
            f"model artefact file {weights_path} has SHA-256 {digest}, but {json_path} "
            f"records {document['weights_sha256']}: the two files do not belong together"
        )
    listed = {name: (spec["dtype"], spec["shape"]) for name, spec in document["tensors"].items()}
    found = {
        name: (str(t.dtype).removeprefix("torch."), list(t.shape)) for name, t in state.items()
    }
    if listed != found:
        differ = sorted(
            set(listed) ^ set(found) | {k for k in listed if listed.get(k) != found.get(k)}
        )
        raise ValueError(
            f"model artefact file {weights_path} does not hold the tensors {json_path} lists; "
            f"they differ for {differ}"
        )
    return ModelArtefact(
        kind=document["kind"],
        config=document["config"],
        state=state,
        metadata=document["metadata"],
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
