"""Lineage: the graph ``kedro viz build`` draws is readable (docs/lineage.md).

The build runs once per module in a copy of the project's ``conf/base`` (offline, no
``build/`` written into the repository) and its JSON is checked: every node sits in the
namespace of its pipeline, every dataset has a layer and the layers are drawn in order,
the nodes that use torch's device are tagged ``gpu``, versioned datasets and the
``*_previous`` views show what they are, the demo writes the raw datasets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.framework.project import configure_project

from rainscore.datasets.versions import VERSION_PLACEHOLDER
from rainscore.pipeline_registry import register_pipelines
from rainscore.pipelines import EVALUATION

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "conf" / "base" / "catalog.yml"
KEDRO = Path(sys.executable).parent / "kedro"

#: The data layers in the order the graph draws them, top to bottom.
LAYERS = [
    "raw",
    "intermediate",
    "primary",
    "feature",
    "model_input",
    "models",
    "model_output",
    "reporting",
]

#: The nodes that compare the models, in one box of their own (their inputs come from the
#: training, representation and clustering boxes; inside those, the layers would loop).
EVALUATION_NODES = {"evaluate_models", "plot_predictions", "evaluate_clustering"}

#: Nodes whose functions put a torch model on ``loop.device`` (training, representation,
#: clustering's deep methods, inference); k-means and the evaluations run on NumPy.
GPU_NODES = {
    "training.tune_unet",
    "training.train_unet",
    "training.calibrate_unet",
    "training.predict_unet",
    "representation.tune_autoencoder",
    "representation.train_autoencoder",
    "representation.embed_maps",
    "clustering.cluster_dec",
    "clustering.cluster_desom",
    "inference.score_imerg_maps",
}


@pytest.fixture(scope="module", autouse=True)
def _configured_project() -> None:
    """``find_pipelines`` needs the package configured, as ``kedro run`` does."""
    configure_project("rainscore")


@pytest.fixture(scope="module")
def viz(tmp_path_factory) -> Path:
    """The ``build/api`` folder of ``kedro viz build`` run in a copy of the project's config."""
    project = tmp_path_factory.mktemp("viz")
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copytree(REPO / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()  # the package comes from the installed (editable) project
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    done = subprocess.run(
        [str(KEDRO), "viz", "build"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return project / "build" / "api"


def _graph(viz: Path, pipeline: str = "__default__") -> dict[str, Any]:
    return json.loads(
        (viz / ("main" if pipeline == "__default__" else f"pipelines/{pipeline}")).read_text()
    )


def _by_name(graph: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """Nodes of one type by name (a task's full name: ``<namespace>.<name>``)."""
    return {n.get("full_name") or n["name"]: n for n in graph["nodes"] if n["type"] == kind}


def _panel(viz: Path, node: dict[str, Any]) -> dict[str, Any]:
    """The metadata panel of a node (what kedro-viz shows when it is clicked)."""
    return json.loads((viz / "nodes" / node["id"]).read_text())


def test_every_node_is_in_the_namespace_of_its_pipeline() -> None:
    for name, pipeline in register_pipelines().items():
        if name != "__default__":
            for node in pipeline.nodes:
                expected = EVALUATION if node.short_name in EVALUATION_NODES else name
                assert node.namespace == expected, node.name


def test_the_default_graph_has_no_interrupted_namespace() -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=r"Namespace .* is interrupted")
        pipelines = register_pipelines()
        sum(pipelines.values(), start=pipelines["__default__"])


def test_the_graph_collapses_into_one_box_per_pipeline(viz) -> None:
    graph = _graph(viz)
    pipelines = {p for p in register_pipelines() if p not in ("__default__", "demo")}
    assert set(graph["modular_pipelines"]) - {"__root__"} == pipelines | {EVALUATION}
    for name, node in _by_name(graph, "task").items():
        assert node["modular_pipelines"] == [name.split(".")[0]], name


def test_every_dataset_has_a_layer_and_the_layers_are_drawn_in_order(viz) -> None:
    for pipeline in ("__default__", "demo"):
        graph = _graph(viz, pipeline)
        unlayered = [n for n, d in _by_name(graph, "data").items() if d["layer"] not in LAYERS]
        assert unlayered == [], pipeline
        assert graph["layers"], pipeline  # kedro-viz drops them all if their order has a cycle
    assert _graph(viz)["layers"] == LAYERS


def test_nodes_that_use_torch_are_tagged_gpu(viz) -> None:
    tasks = _by_name(_graph(viz), "task")
    assert {name for name, node in tasks.items() if "gpu" in node["tags"]} == GPU_NODES


def test_every_node_keeps_the_tag_of_its_pipeline() -> None:
    """``kedro run --tags=training`` still selects the training pipeline's nodes."""
    for name, pipeline in register_pipelines().items():
        if name != "__default__":
            assert pipeline.only_nodes_with_tags(name).nodes == pipeline.nodes, name


def _catalog() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in yaml.safe_load(CATALOG.read_text()).items() if not k.startswith("_")}


def test_every_catalog_entry_has_a_known_layer() -> None:
    """Also the entries no registered pipeline uses, which the build does not draw."""
    layers = {
        name: ((entry.get("metadata") or {}).get("kedro-viz") or {}).get("layer")
        for name, entry in _catalog().items()
    }
    assert {name: layer for name, layer in layers.items() if layer not in LAYERS} == {}


def test_every_versioned_dataset_shows_the_path_of_its_version(viz) -> None:
    datasets = _by_name(_graph(viz), "data")
    versioned = sorted(name for name, entry in _catalog().items() if entry.get("versioned"))
    shown = {name: _panel(viz, datasets[name])["filepath"] for name in versioned}
    # no version saved in the build's copy: the panel shows where the versions go
    unmarked = {n: path for n, path in shown.items() if f"/{VERSION_PLACEHOLDER}/" not in path}
    assert unmarked == {}


def test_every_previous_view_shows_its_path_and_what_it_is(viz) -> None:
    datasets = _by_name(_graph(viz), "data")
    views = [n for n, entry in _catalog().items() if entry["type"].endswith("OptionalDataset")]
    assert len(views) == 4  # the three *_previous and the demo's truth
    for name in views:
        assert _panel(viz, datasets[name])["filepath"], name


def test_the_demo_writes_the_raw_datasets_the_analysis_reads(viz) -> None:
    graph = _graph(viz, "demo")
    ids = {n.get("full_name") or n["name"]: n["id"] for n in graph["nodes"]}
    written = {e["target"] for e in graph["edges"] if e["source"] == ids["demo.write_world"]}
    raw = ("demo_world", "imerg_raw", "radar_raw", "demo_truth_optional")
    assert written == {ids[name] for name in raw}
    default = _by_name(_graph(viz), "data")
    assert all(default[name]["layer"] == "raw" for name in raw[1:])
