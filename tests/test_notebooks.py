"""Every notebook in ``notebooks/`` runs, top to bottom, against a project whose pipelines ran.

The project is a temporary folder holding a copy of ``conf/``, ``pyproject.toml`` and the
notebooks, whose ``data/`` the scoring, training, representation and clustering pipelines
have filled (tiny budgets, the factories' IMERG cube and colocated pairs over the tiny box,
as in ``tests/pipelines``). Each notebook runs in a kernel of this environment from
``notebooks/``, where ``%load_ext kedro.ipython`` finds the project as it does in a clone;
a failing cell fails the test with its error.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest
import torch
from kedro.framework.project import configure_project
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from rainscore.grids import Box
from rainscore.testing import fake_imerg_cube, fake_pairs

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
N_TIMES = 96  # 48 h of half hours: 16 blocks of 3 h, every split of the models present
CELL_TIMEOUT_S = 300


def _pipeline_helpers() -> ModuleType:
    """``tests/pipelines/conftest.py`` (its ``Project`` and ``load_parameters``), by path."""
    path = REPO / "tests" / "pipelines" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_pipelines_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_budgets(params: dict) -> None:
    """The model pipelines' budgets of ``tests/pipelines`` (seconds on the tiny box)."""
    params["training"]["split"] = {"block": "3h", "gap": "30min"}
    params["training"]["loop"].update({"epochs": 2, "batch_size": 4, "device": "cpu"})
    params["training"]["tuning"].update(
        {"n_trials": 1, "space": {"width": {"type": "categorical", "choices": [4]}}}
    )
    params["training"]["unet"].update({"depth": 2, "width": 4})
    representation = params["representation"]
    representation["autoencoder"].update({"depth": 1, "width": 4})
    representation["loop"].update({"epochs": 2, "batch_size": 8, "device": "cpu"})
    representation["tuning"].update(
        {"n_trials": 1, "space": {"latent_dim": {"type": "categorical", "choices": [4]}}}
    )
    clustering = params["clustering"]
    clustering["kmeans"].update({"n_clusters": 3, "n_init": 2})
    clustering["dec"].update({"n_clusters": 3, "n_init": 2, "tol": 0.0})
    clustering["desom"].update({"rows": 1, "cols": 3})
    clustering["loop"].update({"epochs": 1, "batch_size": 8, "device": "cpu"})
    clustering["labelling"].update({"min_count": 2})
    clustering["selection"] = [2, 3]


@pytest.fixture(scope="module")
def project_root(tmp_path_factory, tiny_box) -> Path:
    """A project folder whose ``data/`` holds every output the notebooks read."""
    configure_project("rainscore")
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("notebook_project")
    shutil.copytree(REPO / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy2(REPO / name, root / name)
    (root / "src").mkdir()  # Kedro's bootstrap wants one; rainscore is installed
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    helpers = _pipeline_helpers()
    params = helpers.load_parameters(tiny_box)
    _tiny_budgets(params)
    # Paths under data/ land in root/data/: where the copied catalog looks for them.
    project = helpers.Project(root, root / "no_raw_world", params)
    catalog = project.catalog()
    box = Box.from_dict(tiny_box)
    catalog.save("imerg_cube", fake_imerg_cube(N_TIMES, box=box, seed=1))
    catalog.save("colocated_pairs", fake_pairs(N_TIMES, box=box, seed=1))
    for pipeline in ("scoring", "training", "representation", "clustering"):
        project.run(pipeline)
    return root


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(project_root: Path, path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(project_root / "notebooks")}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        # Kedro's IPython extension draws tracebacks with rich, outside the error's text:
        # the exception's name and value say what went wrong.
        pytest.fail(f"{path.relative_to(REPO)}: {err.ename}: {err.evalue}\n{err}", pytrace=False)


def test_notebooks_are_committed_without_outputs() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    with_outputs = {}
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        code = [c for c in cells if c.cell_type == "code"]
        dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
        if dirty:
            with_outputs[path.name] = dirty
    assert with_outputs == {}, "clear the outputs of these code cells (indexes) before committing"


def test_the_kernel_is_this_environment() -> None:
    """The ``python3`` kernel runs this interpreter (jupyter_client swaps ``python`` for it)."""
    from jupyter_client.manager import KernelManager

    assert KernelManager(kernel_name="python3").format_kernel_cmd()[0] == sys.executable
