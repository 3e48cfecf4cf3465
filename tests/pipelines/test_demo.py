"""The ``demo`` pipeline: its node simulates and writes the world; the catalog stores the
manifest and checks that the raw datasets list the files written; the area-weights cache is
the catalog's ``area_weights``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io import DatasetError

#: The tiny world's configuration (tests/conftest.py), as ``params:demo``.
TINY_DEMO = {"start": "2024-06-10T12:00", "days": 0.25, "seed": 7, "margin_km": 10}


@pytest.fixture
def demo_project(project):
    """The project with its raw datasets in the demo's folder, as in ``conf/base``."""
    root = project.root / "data" / "01_raw" / "demo"
    project.config["imerg_raw"]["path"] = str(root / "imerg")
    project.config["radar_raw"]["path"] = str(root / "radar")
    project.config["demo_truth_optional"]["dataset"]["filepath"] = str(root / "truth" / "truth.nc")
    project.params["demo"] = dict(TINY_DEMO)
    return project


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.csv"
    }


def test_the_node_writes_the_world_and_returns_its_manifest(demo_project, tiny_world) -> None:
    project = demo_project
    project.config["demo_world"] = {"type": "kedro.io.MemoryDataset"}  # no saving dataset
    catalog = project.run("demo")
    manifest = catalog.load("demo_world")
    assert isinstance(manifest, pd.DataFrame)
    assert manifest["kind"].value_counts().to_dict() == {
        "radar": 72,
        "imerg": 12,
        "truth": 1,
        "world": 1,
    }
    root = Path(catalog.load("demo_world_root"))
    assert root == project.root / "data" / "01_raw" / "demo"
    # the files are the library's, byte for byte (same configuration as the tiny world)
    assert _files(root) == _files(tiny_world)
    assert sorted(_files(root)) == sorted(manifest["path"])


def test_the_catalog_stores_the_manifest_and_the_weights(demo_project) -> None:
    project = demo_project
    catalog = project.run("demo")
    root = project.root / "data" / "01_raw" / "demo"
    stored = pd.read_csv(root / "manifest.csv")
    pd.testing.assert_frame_equal(catalog.load("demo_world"), stored)
    assert len(stored) == 86
    assert not list(root.glob(".manifest.csv.*"))  # saved atomically, no temporary left
    weights = project.root / "data" / "02_intermediate" / "area_weights"
    assert catalog.load("area_weights") == str(weights)
    assert len(list(weights.glob("area-weights-*.npz"))) == 1


def test_the_raw_datasets_list_what_the_demo_wrote(demo_project) -> None:
    catalog = demo_project.run("demo")
    manifest = catalog.load("demo_world")
    root = demo_project.root / "data" / "01_raw" / "demo"
    for name, kind in (("imerg_raw", "imerg"), ("radar_raw", "radar")):
        assert catalog.load(name) == sorted(
            str(root / p) for p in manifest.path[manifest.kind == kind]
        )
    assert catalog.load("demo_truth_optional").sizes["time"] > 0


def test_a_raw_dataset_elsewhere_stops_the_demo(demo_project, tmp_path) -> None:
    elsewhere = tmp_path / "real" / "imerg"
    elsewhere.mkdir(parents=True)
    demo_project.config["imerg_raw"]["path"] = str(elsewhere)
    with pytest.raises(DatasetError, match=r"12 of the 12 files written are not in this archive"):
        demo_project.run("demo")
