"""The "Adding a node" recipe of ``docs/architecture.md``, followed in a copy of the project.

Each step writes what the recipe says (library function and config, export, registered
parameter section, node, pipeline, catalog entry), then ``kedro run --pipelines=wet_area``
runs the new pipeline on colocated pairs from ``rainscore.testing``. If the recipe or the
project's conventions change so that it no longer works, this fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from kedro.io import DataCatalog

from rainscore.testing import fake_pairs

REPO = Path(__file__).resolve().parents[2]

LIBRARY = '''"""Wet area of the radar maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import xarray as xr

from rainscore.params import dataclass_from_params


@dataclass(frozen=True)
class WetAreaConfig:
    """Options of :func:`wet_area_fraction`."""

    threshold: float = 0.1

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> WetAreaConfig:
        """Build from ``params:wet_area`` (unknown keys are an error)."""
        return dataclass_from_params(cls, params, section="wet_area")


def wet_area_fraction(pairs: xr.Dataset, *, threshold: float) -> pd.DataFrame:
    """Fraction of the scored cells where the radar rate is at least ``threshold``."""
    wet = (pairs["radar"] >= threshold) & pairs["mask"]
    fraction = wet.sum(dim=("lat", "lon")) / pairs["mask"].sum(dim=("lat", "lon"))
    return fraction.to_series().rename("wet_area_fraction").to_frame()
'''

NODES = '''"""Nodes of the ``wet_area`` pipeline."""

from typing import Any

import pandas as pd
import xarray as xr

from rainscore.analysis import WetAreaConfig, wet_area_fraction


def compute_wet_area(colocated_pairs: xr.Dataset, wet_area: dict[str, Any]) -> pd.DataFrame:
    """Wet area fraction of every radar map."""
    config = WetAreaConfig.from_dict(wet_area)
    return wet_area_fraction(colocated_pairs, threshold=config.threshold)
'''

PIPELINE = '''"""The ``wet_area`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.wet_area.nodes import compute_wet_area


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``wet_area`` pipeline."""
    return Pipeline(
        [
            Node(
                func=compute_wet_area,
                inputs=["colocated_pairs", "params:wet_area"],
                outputs="wet_area",
                name="compute_wet_area",
            )
        ],
        tags=["wet_area"],
        namespace="wet_area",
        prefix_datasets_with_namespace=False,
    )
'''


def _copy_project(dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "local")
    shutil.copytree(REPO / "src", dest / "src", ignore=ignore)
    shutil.copytree(REPO / "conf", dest / "conf", ignore=ignore)
    (dest / "conf" / "local").mkdir()
    shutil.copy(REPO / "pyproject.toml", dest / "pyproject.toml")


def _catalog(project: Path, name: str) -> DataCatalog:
    """A catalog of the project's entry ``name``, its path made absolute."""
    entry = yaml.safe_load((project / "conf" / "base" / "catalog.yml").read_text())[name]
    return DataCatalog.from_config({name: {**entry, "filepath": str(project / entry["filepath"])}})


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_the_recipe_adds_a_pipeline_that_kedro_runs(tmp_path) -> None:
    project = tmp_path / "project"
    _copy_project(project)
    package = project / "src" / "rainscore"
    # 1-2. the library function and its config, exported from the package's __init__
    (package / "analysis" / "wet_area.py").write_text(LIBRARY)
    _append(
        package / "analysis" / "__init__.py",
        "\nfrom rainscore.analysis.wet_area import WetAreaConfig, wet_area_fraction\n"
        '__all__ += ["WetAreaConfig", "wet_area_fraction"]\n',
    )
    # 3. the parameter section, registered and in its YAML file
    _append(
        package / "param_sections.py",
        "\nfrom rainscore.analysis import WetAreaConfig\n\n"
        'SECTIONS["wet_area"] = ParameterSection(WetAreaConfig.from_dict)\n',
    )
    (project / "conf" / "base" / "parameters_wet_area.yml").write_text(
        "wet_area:\n  threshold: 0.5\n"
    )
    # 4-5. the node and its pipeline (found by find_pipelines)
    folder = package / "pipelines" / "wet_area"
    folder.mkdir()
    (folder / "__init__.py").write_text(
        "from rainscore.pipelines.wet_area.pipeline import create_pipeline\n\n"
        '__all__ = ["create_pipeline"]\n'
    )
    (folder / "nodes.py").write_text(NODES)
    (folder / "pipeline.py").write_text(PIPELINE)
    # 6. its output in the catalog
    _append(
        project / "conf" / "base" / "catalog.yml",
        "\nwet_area:\n  type: rainscore.datasets.ParquetTableDataset\n"
        "  filepath: data/04_feature/wet_area.parquet\n  versioned: true\n"
        "  metadata:\n    kedro-viz:\n      layer: feature\n",
    )
    entries = yaml.safe_load((project / "conf" / "base" / "catalog.yml").read_text())
    assert entries["wet_area"]["metadata"]["kedro-viz"]["layer"] == "feature"
    # the input, saved by the project's own catalog entry as the colocation would
    pairs = fake_pairs(n_times=3, seed=11)
    _catalog(project, "colocated_pairs").save("colocated_pairs", pairs)

    env = {**os.environ, "PYTHONPATH": str(project / "src"), "KEDRO_DISABLE_TELEMETRY": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=wet_area"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "wet_area.compute_wet_area" in run.stdout + run.stderr  # in its namespace
    table = _catalog(project, "wet_area").load("wet_area")
    mask = pairs["mask"].values
    expected = ((pairs["radar"].values >= 0.5) & mask).sum(axis=(1, 2)) / mask.sum(axis=(1, 2))
    assert table.index.name == "time"
    assert list(table.index) == list(pd.DatetimeIndex(pairs["time"].values))
    np.testing.assert_allclose(table["wet_area_fraction"].to_numpy(), expected)
