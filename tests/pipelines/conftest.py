"""Pipeline tests run the project's own catalog and parameters on a tiny synthetic world.

The catalog is ``conf/base/catalog.yml`` with every ``data/`` path moved into a temporary
folder and the raw archives pointed at the tiny world, so the tests exercise the real
datasets (versioning, validators, optional inputs) and the real parameters.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.io import DataCatalog
from kedro.runner import SequentialRunner

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


@pytest.fixture(scope="session", autouse=True)
def _configured_project() -> None:
    """``find_pipelines`` needs the package configured, as ``kedro run`` does."""
    configure_project("rainscore")


def _relocate(entry: Any, data_root: Path) -> Any:
    if isinstance(entry, dict):
        out = {}
        for key, value in entry.items():
            if key in ("filepath", "path") and isinstance(value, str) and value.startswith("data/"):
                out[key] = str(data_root / value)
            else:
                out[key] = _relocate(value, data_root)
        return out
    return entry


def load_parameters(box: dict[str, float]) -> dict[str, Any]:
    """All ``parameters*.yml`` of ``conf/base`` merged; every stage runs in this process,
    with quiet progress bars."""
    params: dict[str, Any] = {}
    for path in sorted(CONF.glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    params = copy.deepcopy(params)
    params["box"] = dict(box)
    params["execution"] = {"executor": "sequential", "progress": False}
    return params


class Project:
    """The project's catalog in a temporary folder, and helpers to run pipelines on it."""

    def __init__(self, root: Path, world: Path, params: dict[str, Any]) -> None:
        self.root = root
        self.world = world
        self.params = params
        raw = yaml.safe_load((CONF / "catalog.yml").read_text())
        config = {k: _relocate(v, root) for k, v in raw.items() if not k.startswith("_")}
        config["imerg_raw"]["path"] = str(world / "imerg")
        config["radar_raw"]["path"] = str(world / "radar")
        config["demo_truth_optional"]["dataset"]["filepath"] = str(world / "truth" / "truth.nc")
        self.config = config

    def catalog(self) -> DataCatalog:
        catalog = DataCatalog.from_config(copy.deepcopy(self.config))
        for name, value in self.params.items():
            catalog[f"params:{name}"] = copy.deepcopy(value)
            if isinstance(value, dict):
                for key, sub in value.items():
                    catalog[f"params:{name}.{key}"] = copy.deepcopy(sub)
        return catalog

    def run(self, pipeline_name: str) -> DataCatalog:
        from rainscore.pipeline_registry import register_pipelines

        catalog = self.catalog()
        SequentialRunner().run(register_pipelines()[pipeline_name], catalog)
        return catalog


@pytest.fixture
def project(tmp_path, tiny_world, tiny_box) -> Project:
    """A fresh project data folder over the shared tiny world."""
    return Project(tmp_path / "project", tiny_world, load_parameters(tiny_box))


@pytest.fixture(scope="module")
def module_project(tmp_path_factory, tiny_world, tiny_box) -> Project:
    """A project data folder shared by the tests of one module (run a pipeline once)."""
    return Project(tmp_path_factory.mktemp("project"), tiny_world, load_parameters(tiny_box))


@pytest.fixture
def world_copy(tmp_path, tiny_world) -> Path:
    """A private copy of the tiny world that a test may damage."""
    dest = tmp_path / "world"
    shutil.copytree(tiny_world, dest)
    return dest
