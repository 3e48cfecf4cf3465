"""``docs/overview.md``'s diagrams are the ones ``docs/make_overview.py`` draws from the code."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
from kedro.pipeline import Node, Pipeline

REPO = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    path = REPO / "docs" / "make_overview.py"
    spec = importlib.util.spec_from_file_location("make_overview", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_overview = _script()


@functools.cache
def drawn() -> dict[str, str]:
    """The diagrams drawn from the current code (once per test session)."""
    return make_overview.diagrams()


def test_the_page_is_current() -> None:
    page = make_overview.PAGE.read_text()
    assert make_overview.render(page, drawn()) == page, (
        "docs/overview.md is stale: run .venv/bin/python docs/make_overview.py"
    )


def test_every_pipeline_is_drawn_in_run_order() -> None:
    pipelines = drawn()["pipelines"]
    for name in ("ingestion", "colocation", "scoring", "training", "clustering", "inference"):
        assert f'{name}["' in pipelines
    order = [line.split('"')[1].split(". ")[1] for line in pipelines.splitlines() if '["' in line]
    assert order.index("ingestion") < order.index("colocation") < order.index("scoring")
    assert order.index("training") < order.index("representation") < order.index("clustering")
    assert order.index("clustering") < order.index("inference")


def test_the_domain_packages_are_drawn() -> None:
    packages = drawn()["packages"]
    for name in ("io", "grids", "colocate", "scores", "analysis", "models", "reporting"):
        assert f"{name}([{name}])" in packages
    assert "stores([stores])" in packages and "validation([validation])" in packages
    assert "pipelines" not in make_overview.domain_packages()


def _node(inputs: list[str], outputs: list[str], name: str) -> Node:
    return Node(lambda *args: [None] * len(outputs), inputs, outputs, name=name)


def test_order_follows_the_datasets_then_the_names() -> None:
    pipelines = {
        "b_last": Pipeline([_node(["x"], ["y"], "use_x")]),
        "a_first": Pipeline([_node(["y"], ["z"], "use_y")]),
        "c_source": Pipeline([_node(["raw"], ["x"], "make_x")]),
        "aa_alone": Pipeline([_node(["raw"], ["w"], "make_w")]),
    }
    assert make_overview.pipeline_order(pipelines) == ["aa_alone", "c_source", "b_last", "a_first"]


def test_a_cycle_between_pipelines_is_an_error() -> None:
    pipelines = {
        "a": Pipeline([_node(["y"], ["x"], "make_x")]),
        "b": Pipeline([_node(["x"], ["y"], "make_y")]),
    }
    with pytest.raises(ValueError, match="cycle"):
        make_overview.pipeline_order(pipelines)


def test_render_needs_the_markers() -> None:
    with pytest.raises(ValueError, match="BEGIN pipelines"):
        make_overview.render("# no markers\n", {"pipelines": "flowchart TD"})
    text = "a\n<!-- BEGIN pipelines -->\nold\n<!-- END pipelines -->\nb\n"
    assert make_overview.render(text, {"pipelines": "flowchart TD"}) == (
        "a\n<!-- BEGIN pipelines -->\n```mermaid\nflowchart TD\n```\n<!-- END pipelines -->\nb\n"
    )
