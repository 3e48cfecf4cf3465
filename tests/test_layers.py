"""The layering of the package, derived from the source tree (nothing listed by hand).

The domain library is every module of ``rainscore`` except the Kedro layer (pipelines,
catalog datasets, settings, the pipeline registry, hooks, ``__main__``). The domain never
imports Kedro, never imports the Kedro layer ("back up"), and its top-level packages import
each other without cycles.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import rainscore

KEDRO_LAYER = {"pipelines", "datasets", "settings", "pipeline_registry", "hooks", "__main__"}
PACKAGE_ROOT = Path(rainscore.__file__).parent


def _top(module: str) -> str:
    """``rainscore.colocate.pairs`` → ``colocate``; ``rainscore`` → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def domain_modules() -> list[str]:
    """Every module of the domain library, found by walking the package."""
    found = ["rainscore"]
    for info in pkgutil.walk_packages([str(PACKAGE_ROOT)], prefix="rainscore."):
        if _top(info.name) not in KEDRO_LAYER:
            found.append(info.name)
    return sorted(found)


def _source(module: str) -> Path:
    relative = Path(*module.split(".")[1:])
    package = PACKAGE_ROOT / relative / "__init__.py"
    return package if package.is_file() else PACKAGE_ROOT / relative.with_suffix(".py")


def imported_modules(module: str) -> set[str]:
    """The ``rainscore`` modules that ``module``'s source imports (anywhere in the file)."""
    path = _source(module)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.add(name)
    return {name for name in found if name == "rainscore" or name.startswith("rainscore.")}


def package_graph() -> dict[str, set[str]]:
    """Top-level domain package → the other top-level packages it imports."""
    graph: dict[str, set[str]] = {}
    for module in domain_modules():
        top = _top(module)
        if not top:
            continue
        targets = {_top(name) for name in imported_modules(module)} - {top, ""}
        graph.setdefault(top, set()).update(targets)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path ``[a, b, …, a]``, or ``[]`` when it is acyclic."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_domain_is_found_by_walking_the_package() -> None:
    modules = domain_modules()
    tops = {_top(m) for m in modules}
    assert {"grids", "io", "synthetic", "ingest", "colocate", "validation", "scores"} <= tops
    assert "rainscore.colocate.pairs" in modules
    assert not tops & KEDRO_LAYER


def test_find_cycle_reports_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []


_PROBE = """
import importlib, json, sys
found = {}
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
    found[name] = sorted(m for m in sys.modules if m == "kedro" or m.startswith("kedro."))
print(json.dumps(found))
"""


def test_domain_modules_do_not_import_kedro() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(domain_modules())],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = json.loads(out)
    offenders = [name for name, mods in found.items() if mods]
    assert offenders == [], f"first domain module that pulled Kedro in: {offenders[:1]}"


def test_no_domain_module_imports_the_kedro_layer() -> None:
    upward = {
        module: sorted(name for name in imported_modules(module) if _top(name) in KEDRO_LAYER)
        for module in domain_modules()
    }
    assert {m: names for m, names in upward.items() if names} == {}


def test_domain_packages_import_each_other_without_cycles() -> None:
    assert find_cycle(package_graph()) == []
