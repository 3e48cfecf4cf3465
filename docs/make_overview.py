"""Draw the diagrams of ``docs/overview.md`` from the code, so that they cannot go stale.

Run from the project root after changing a pipeline, the catalog's layers or an import::

    .venv/bin/python docs/make_overview.py            # rewrite the diagrams in place
    .venv/bin/python docs/make_overview.py --check    # exit 1 if the page is stale

Two Mermaid diagrams, between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` markers:

- ``pipelines``: the registered pipelines in run order (a topological order of the datasets
  they exchange), each edge labelled with the datasets one pipeline writes and a later one
  reads, and the raw datasets (catalog layer ``raw``) that pipelines read, drawn as nodes
  between the pipeline that writes them (the demo) and those that read them;
- ``packages``: the domain library's top-level packages (and ``stores``), the pipelines
  that import each directly, and the imports between the packages (the layering that
  ``tests/test_layers.py`` keeps acyclic).

``tests/test_docs_overview.py`` fails when the page differs from what this script draws.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "overview.md"
CATALOG = ROOT / "conf" / "base" / "catalog.yml"
PACKAGE = ROOT / "src" / "rainscore"

#: The domain packages drawn (the library's top-level folders, and the stores module).
#: Small shared modules (units, params, the half hour, atomic saves) are left out.
KEDRO_LAYER = {"pipelines", "datasets"}
DRAWN_MODULES = ("stores",)


def _produced(pipeline) -> set[str]:
    return {name for node in pipeline.nodes for name in node.outputs}


def _consumed(pipeline) -> set[str]:
    return {name for name in pipeline.inputs() if not name.startswith("params:")}


def pipeline_order(pipelines: dict) -> list[str]:
    """Pipeline names so that a pipeline comes after those whose outputs it reads.

    Ties (no dataset between them) are broken alphabetically, so the order is stable.
    """
    needs = {
        name: {
            other
            for other, upstream in pipelines.items()
            if other != name and _produced(upstream) & _consumed(pipeline)
        }
        for name, pipeline in pipelines.items()
    }
    order: list[str] = []
    while len(order) < len(needs):
        ready = sorted(n for n, deps in needs.items() if n not in order and deps <= set(order))
        if not ready:
            raise ValueError(f"pipelines read each other's outputs in a cycle: {needs}")
        order.append(ready[0])
    return order


def _raw_datasets() -> set[str]:
    entries = yaml.safe_load(CATALOG.read_text())
    return {
        name
        for name, entry in entries.items()
        if not name.startswith("_")
        and isinstance(entry, dict)
        and entry.get("metadata", {}).get("kedro-viz", {}).get("layer") == "raw"
    }


def pipelines_diagram(pipelines: dict) -> str:
    """The Mermaid flowchart of the pipelines, the datasets between them and the raw inputs."""
    order = pipeline_order(pipelines)
    raw = _raw_datasets()
    lines = ["flowchart TD"]
    for index, name in enumerate(order, start=1):
        lines.append(f'    {name}["{index}. {name}"]')
    read_raw = sorted({name for p in pipelines.values() for name in _consumed(p)} & raw)
    for name in read_raw:
        lines.append(f'    {name}[("{name}")]')
        lines += [f"    {w} --> {name}" for w in order if name in _produced(pipelines[w])]
        lines += [f"    {name} --> {r}" for r in order if name in _consumed(pipelines[r])]
    for i, upstream in enumerate(order):
        for downstream in order[i + 1 :]:
            shared = sorted(
                (_produced(pipelines[upstream]) & _consumed(pipelines[downstream])) - raw
            )
            if shared:
                label = "<br/>".join(shared)
                lines.append(f'    {upstream} -->|"{label}"| {downstream}')
    return "\n".join(lines)


def _imports(path: Path) -> set[str]:
    """Top-level ``rainscore`` packages or modules imported by a source file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "rainscore" and len(parts) > 1:
                found.add(parts[1])
    return found


def domain_packages() -> list[str]:
    """The drawn domain packages: every top-level folder but the Kedro layer, and stores."""
    folders = [
        p.name
        for p in PACKAGE.iterdir()
        if p.is_dir() and (p / "__init__.py").is_file() and p.name not in KEDRO_LAYER
    ]
    return sorted(folders + [m for m in DRAWN_MODULES if (PACKAGE / f"{m}.py").is_file()])


def _package_files(package: str) -> list[Path]:
    folder = PACKAGE / package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else [PACKAGE / f"{package}.py"]


def packages_diagram(pipelines: dict) -> str:
    """The Mermaid flowchart of the pipelines' direct imports and the packages' layering."""
    packages = domain_packages()
    drawn = set(packages)
    lines = ["flowchart LR"]
    lines.append('    subgraph kedro["pipelines (Kedro)"]')
    order = pipeline_order(pipelines)
    lines += [f"        p_{name}[{name}]" for name in order]
    lines.append("    end")
    lines.append('    subgraph domain["domain library (no Kedro)"]')
    lines += [f"        {name}([{name}])" for name in packages]
    lines.append("    end")
    for name in order:
        used: set[str] = set()
        for path in sorted((PACKAGE / "pipelines" / name).glob("*.py")):
            used |= _imports(path)
        lines += [f"    p_{name} --> {target}" for target in sorted(used & drawn)]
    for package in packages:
        used = set().union(*(_imports(path) for path in _package_files(package)))
        lines += [f"    {package} -.-> {target}" for target in sorted((used & drawn) - {package})]
    return "\n".join(lines)


def diagrams() -> dict[str, str]:
    """Each diagram's name and its Mermaid source, drawn from the registered pipelines."""
    from kedro.framework.project import configure_project

    configure_project("rainscore")
    from rainscore.pipeline_registry import register_pipelines

    pipelines = {k: v for k, v in register_pipelines().items() if k != "__default__"}
    return {"pipelines": pipelines_diagram(pipelines), "packages": packages_diagram(pipelines)}


def render(text: str, drawn: dict[str, str]) -> str:
    """``text`` with each marked block replaced by its diagram in a Mermaid code block."""
    for name, source in drawn.items():
        pattern = re.compile(
            rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", flags=re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"{PAGE}: no <!-- BEGIN {name} --> … <!-- END {name} --> block")
        block = f"```mermaid\n{source}\n```\n"
        text = pattern.sub(lambda m, b=block: m.group(1) + b + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite the page's diagrams, or with ``--check`` say whether they are current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    current = PAGE.read_text()
    updated = render(current, diagrams())
    if args.check:
        if updated != current:
            print(f"{PAGE} is stale: run python docs/make_overview.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
