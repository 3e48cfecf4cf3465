"""The documentation names what exists: links, parameters, pipelines, scores and settings.

Each test reads the Markdown pages (``README.md``, ``conf/README.md`` and ``docs/*.md``) and
checks one kind of reference against the code or ``conf/base``, so that a renamed parameter,
a removed page or a new score fails here instead of misleading a reader.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.framework.project import configure_project
from kedro.io import DataCatalog

from rainscore.param_sections import validate_parameters
from rainscore.scores import SCORES

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf" / "base"
PACKAGE = REPO / "src" / "rainscore"
DOCS = sorted((REPO / "docs").glob("*.md"))
PAGES = [REPO / "README.md", REPO / "conf" / "README.md", *DOCS]

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
_PARAM_PATH = re.compile(r"^(?:params:)?([a-z_]+(?:\.[a-z0-9_]+)+)(?=$|\s*[=:])")
_FILE_SUFFIX = re.compile(r"\.(py|ya?ml|md|json|parquet|zarr|png|html|nc4?|csv|log|h5|npz)$")
_PARAMS_OPTION = re.compile(r"--params[= ]+\"?([^\"\n]+?)\"?(?:\s|$)")
_PIPELINES_OPTION = re.compile(r"--pipelines?[= ]([a-z_,]+)")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


def base_parameters() -> dict[str, Any]:
    """Every ``parameters*.yml`` of ``conf/base``, merged as Kedro merges them."""
    params: dict[str, Any] = {}
    for path in sorted(CONF.glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    return params


def resolves(params: Mapping[str, Any], dotted: str) -> bool:
    """Whether ``a.b.c`` names a key of the nested parameters.

    A per-stage override of the executor (``execution.<stage>.<key>``) resolves when the
    key is one of ``execution``'s own: ``conf/base`` sets only the colocation's.
    """
    parts = dotted.split(".")
    stages = ("ingestion", "colocation", "scoring", "inference")
    if len(parts) == 3 and parts[0] == "execution" and parts[1] in stages:
        return parts[2] in params["execution"]
    node: Any = params
    for part in parts:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _is_module(dotted: str) -> bool:
    """Whether ``a.b`` names a module of the package (``reporting.maps``), not a parameter."""
    path = PACKAGE.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def cited_parameters(text: str, sections: set[str]) -> Iterator[str]:
    """Parameter paths in code spans (``training.split.block=7D``) and ``--params`` lists."""
    for span in _CODE_SPAN.findall(text):
        found = _PARAM_PATH.match(span.strip())
        if (
            found
            and found.group(1).split(".")[0] in sections
            and not _FILE_SUFFIX.search(found.group(1))
            and not _is_module(found.group(1))
        ):
            yield found.group(1)
    for listing in _PARAMS_OPTION.findall(text.replace("\\\n", "")):
        for item in listing.split(","):
            key = item.split("=", 1)[0].strip()
            if "=" in item and key.split(".")[0] in sections:
                yield key


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", _text(path))
    return {_anchor(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def test_readme_indexes_every_page() -> None:
    readme = _text(REPO / "README.md")
    index = readme.split("## Documentation", 1)[1].split("\n## ", 1)[0]
    linked = {target for target in _LINK.findall(index)}
    missing = [f"docs/{p.name}" for p in DOCS if f"docs/{p.name}" not in linked]
    assert not missing, f"README.md's Documentation section does not link {missing}"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in _LINK.findall(_FENCE.sub("", _text(page))):
        if re.match(r"[a-z]+:", target) or target == "#":
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.exists():
            broken.append(f"{target}: no file {destination.relative_to(REPO)}")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target}: no heading #{anchor} in {_name(destination)}")
    assert not broken, f"{_name(page)} has broken links: {broken}"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_cited_parameters_exist_in_conf_base(page: Path) -> None:
    params = base_parameters()
    cited = sorted(set(cited_parameters(_text(page), set(params))))
    unknown = [p for p in cited if not resolves(params, p)]
    assert not unknown, f"{_name(page)} cites parameters that conf/base does not have: {unknown}"


@functools.cache
def registered_pipelines() -> frozenset[str]:
    """The names of the registered pipelines (found once per test session)."""
    configure_project("rainscore")
    from rainscore.pipeline_registry import register_pipelines

    return frozenset(register_pipelines())


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_cited_pipelines_are_registered(page: Path) -> None:
    registered = registered_pipelines()
    named = {n for group in _PIPELINES_OPTION.findall(_text(page)) for n in group.split(",")}
    unknown = sorted(named - registered)
    assert not unknown, f"{_name(page)} runs pipelines that do not exist: {unknown}"


def known_data_paths() -> set[str]:
    """Every ``data/…`` path that ``conf/base`` names (catalog entries, the MLflow store)."""
    text = "".join(path.read_text() for path in sorted(CONF.glob("*.yml")))
    return set(re.findall(r"(data/[\w./-]+)", text))


def unknown_data_paths(text: str, known: set[str]) -> list[str]:
    """``data/…`` paths in code spans that are neither a configured path, inside one, nor a
    folder holding one (templates such as ``data/<layer>/…`` are skipped)."""
    unknown = []
    for span in _CODE_SPAN.findall(text):
        for path in re.findall(r"(?<![\w/])(data/[\w.<>/-]+)", span):
            path = path.rstrip("/.")
            if path.startswith("data/<"):
                continue
            if not any(
                path == k or path.startswith(f"{k}/") or k.startswith(f"{path}/") for k in known
            ):
                unknown.append(path)
    return unknown


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_cited_data_paths_are_configured(page: Path) -> None:
    unknown = unknown_data_paths(_text(page), known_data_paths())
    assert not unknown, f"{_name(page)} cites data/ paths that conf/base does not use: {unknown}"


def test_data_paths_are_matched_by_prefix() -> None:
    known = {"data/04_feature/map_scores.parquet", "data/06_models/unet_study"}
    text = (
        "`data/04_feature/map_scores.parquet/<version>/map_scores.parquet`, `data/06_models/`,"
        " `data/06_models/unet_study/journal.log`, `data/<layer>/<name>`, `data/04_feature/x.csv`"
    )
    assert unknown_data_paths(text, known) == ["data/04_feature/x.csv"]


def _blocks(text: str, header: str) -> list[str]:
    return [block for block in _FENCE.findall(text) if block.startswith(f"# {header}")]


def _merged(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def test_local_parameter_files_shown_in_the_docs_are_valid() -> None:
    """Every ``# conf/local/parameters…yml`` block passes the run's parameter check."""
    blocks = [b for page in DOCS for b in _blocks(_text(page), "conf/local/parameters")]
    assert blocks, "no conf/local parameter example in docs/"
    for block in blocks:
        validate_parameters(_merged(base_parameters(), yaml.safe_load(block)))


def test_local_catalog_files_shown_in_the_docs_override_base_entries() -> None:
    """Every ``# conf/local/catalog.yml`` block replaces entries of ``conf/base`` and loads."""
    base = yaml.safe_load((CONF / "catalog.yml").read_text())
    blocks = [b for page in PAGES for b in _blocks(_text(page), "conf/local/catalog.yml")]
    blocks.append((REPO / "conf" / "local" / "catalog.yml.example").read_text())
    for block in blocks:
        entries = yaml.safe_load(block)
        assert set(entries) <= set(base), f"not entries of conf/base/catalog.yml: {entries}"
        DataCatalog.from_config(entries)


def test_every_score_of_the_catalogue_has_its_reference_row() -> None:
    """docs/scores.md's score reference names every catalogue entry with its metadata."""
    text = _text(REPO / "docs" / "scores.md")
    section = text.split("## Score reference", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert sorted(rows) == sorted(SCORES), "rows differ from rainscore.scores.SCORES"
    for name, (_, family, direction, _range, units, reference, *_) in rows.items():
        info = SCORES[name]
        assert (family, direction.strip("`"), units) == (info.family, info.direction, info.units)
        assert reference, f"{name}: no reference"


def test_parameter_paths_are_found_in_text() -> None:
    sections = {"training", "box", "execution"}
    text = (
        "set `training.split.block=7D` and `box.lat_min`, not `training.py` or `rainscore.x`;\n"
        'kedro run --params "training.loop.epochs=2,execution.workers=4"\n'
        "`params:training.split` and `execution.scoring.executor`, `execution.config`"
    )
    assert sorted(set(cited_parameters(text, sections))) == [
        "box.lat_min",
        "execution.scoring.executor",
        "execution.workers",
        "training.loop.epochs",
        "training.split",
        "training.split.block",
    ]
    params = {"execution": {"executor": "dask"}, "training": {"split": {"block": "1D"}}}
    assert resolves(params, "training.split.block")
    assert resolves(params, "execution.scoring.executor")
    assert not resolves(params, "training.split.gap")
    assert not resolves(params, "execution.scoring.colour")


def test_anchors_follow_github() -> None:
    assert _anchor("Stores: chunked, appendable time series on disk") == (
        "stores-chunked-appendable-time-series-on-disk"
    )
    assert _anchor("Scoring new IMERG maps") == "scoring-new-imerg-maps"
    assert _anchor("Execution: workers, processes, Dask") == "execution-workers-processes-dask"
