"""Every artefact goes through the catalog: no parameter holds a path under ``data/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CONF = Path(__file__).resolve().parents[1] / "conf"


def _strings(value: Any, where: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [s for key, sub in value.items() for s in _strings(sub, f"{where}.{key}")]
    if isinstance(value, list):
        return [s for i, sub in enumerate(value) for s in _strings(sub, f"{where}[{i}]")]
    return [(where, value)] if isinstance(value, str) else []


def test_no_parameter_is_a_data_path() -> None:
    paths = []
    for path in sorted(CONF.glob("*/parameters*.yml")):
        params = yaml.safe_load(path.read_text()) or {}
        found = _strings(params, path.relative_to(CONF).as_posix())
        paths += [(where, value) for where, value in found if value.startswith("data/")]
    assert paths == [], "declare these folders in the catalog (e.g. a FolderDataset)"


def test_the_area_weights_cache_is_a_catalog_folder() -> None:
    catalog = yaml.safe_load((CONF / "base" / "catalog.yml").read_text())
    assert catalog["area_weights"] == {
        "type": "rainscore.datasets.FolderDataset",
        "path": "data/02_intermediate/area_weights",
        "metadata": {"kedro-viz": {"layer": "intermediate"}},
    }
