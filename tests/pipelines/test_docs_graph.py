"""The pipeline graph drawn in ``docs/architecture.md`` names what the registry holds.

The graph is drawn by hand; this test makes it fail loudly instead of going stale: every
registered pipeline has its paragraph, which names each of its nodes, datasets and
``params:`` inputs, and nothing else that looks like a node or dataset name.
"""

from __future__ import annotations

import re
from pathlib import Path

from rainscore.pipeline_registry import register_pipelines

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
_LABEL = re.compile(r"^([a-z_]+):\s", re.MULTILINE)
_NAME = re.compile(r"(?<![\w/.:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/.-])")
_PARAMS = re.compile(r"params:[a-z_.]+")


def drawn_graph(text: str) -> dict[str, str]:
    """Pipeline name → its paragraph, from the first code block after the graph heading."""
    section = text.split("## Pipelines and datasets", 1)[1]
    block = section.split("```", 2)[1]
    labels = list(_LABEL.finditer(block))
    return {
        m.group(1): block[m.end() : labels[i + 1].start() if i + 1 < len(labels) else None]
        for i, m in enumerate(labels)
    }


def _mentions(paragraph: str, name: str) -> bool:
    return re.search(rf"(?<![\w/.:-]){re.escape(name)}(?![\w/.-])", paragraph) is not None


def _registered() -> dict[str, tuple[set[str], set[str]]]:
    """Pipeline name → (node and dataset names, ``params:`` inputs).

    Node names are drawn without their namespace (the pipeline's, the label, or
    ``evaluation`` for the nodes that compare the models).
    """
    out = {}
    for name, pipeline in register_pipelines().items():
        if name == "__default__":
            continue
        datasets = pipeline.datasets()
        names = {n.name.rpartition(".")[2] for n in pipeline.nodes} | {
            d for d in datasets if ":" not in d
        }
        out[name] = (names, {d for d in datasets if d.startswith("params:")})
    return out


def test_every_pipeline_is_drawn() -> None:
    assert sorted(drawn_graph(DOC.read_text())) == sorted(_registered())


def test_drawn_names_are_the_registered_ones() -> None:
    graph = drawn_graph(DOC.read_text())
    problems = {}
    for pipeline, (names, params) in _registered().items():
        paragraph = graph.get(pipeline, "")
        drawn = set(_NAME.findall(paragraph))
        problems[pipeline] = {
            "not drawn": sorted(n for n in names if not _mentions(paragraph, n)),
            "drawn but not in the pipeline": sorted(drawn - names),
            "params not drawn": sorted(params - set(_PARAMS.findall(paragraph))),
            "params drawn but not read": sorted(set(_PARAMS.findall(paragraph)) - params),
        }
    stale = {p: {k: v for k, v in found.items() if v} for p, found in problems.items()}
    assert {p: found for p, found in stale.items() if found} == {}, f"{DOC} is stale"


def test_the_parser_sees_labels_names_and_params() -> None:
    text = (
        "## Pipelines and datasets\n\n```\n"
        "a:   x_in, params:a ─► do_it ─► y_out (v)\n"
        "     data/01_raw/z\n"
        "b:   other_one\n```\n"
    )
    graph = drawn_graph(text)
    assert sorted(graph) == ["a", "b"]
    assert set(_NAME.findall(graph["a"])) == {"x_in", "do_it", "y_out"}
    assert _PARAMS.findall(graph["a"]) == ["params:a"]
