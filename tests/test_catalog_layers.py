"""Lineage: every catalog entry has a kedro-viz layer, so the graph groups every dataset."""

from __future__ import annotations

from pathlib import Path

import yaml

CATALOG = Path(__file__).resolve().parents[1] / "conf" / "base" / "catalog.yml"
LAYERS = {
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
}


def test_every_catalog_entry_has_a_known_layer() -> None:
    catalog = yaml.safe_load(CATALOG.read_text())
    layers = {
        name: ((entry.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
        for name, entry in catalog.items()
        if not name.startswith("_")  # YAML anchors, not datasets
    }
    assert {name: layer for name, layer in layers.items() if layer not in LAYERS} == {}
