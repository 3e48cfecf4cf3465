"""Every parameter section validated at once, before any work."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

from rainscore.param_sections import SECTIONS, ParameterError, validate_parameters
from rainscore.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parameters() -> dict[str, Any]:
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    return OmegaConfigLoader(conf_source=str(ROOT / "conf"), env="local", **args)["parameters"]


def _with(params: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(params)
    *parents, key = path.split(".")
    node = out
    for name in parents:
        node = node.setdefault(name, {})
    node[key] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("scoring.scores.thresholds", [-1.0, 0.5], r"scoring.scores.thresholds .*> 0.*-1.0"),
        ("scoring.scores.thresholds", [0.0, 0.5], r"scoring.scores.thresholds .*> 0.*0.0"),
        ("scoring.scores.windows", [1, 4], r"scoring.scores.windows .*odd.*4"),
        ("scoring.scores.windows", [-1, 3], r"scoring.scores.windows .*-1"),
        ("scoring.features.convective_threshold", -5, r"convective_threshold must be > 0.*-5"),
        ("scoring.features.wet_threshold", 0.0, r"scoring.features.wet_threshold .*> 0.*0.0"),
        ("execution.workers", 0, r"execution.workers must be an integer >= 1, got 0"),
        ("scoring.validation.min_target_defined", 1.5, r"min_target_defined .*\[0, 1\].*1.5"),
        ("scoring.analysis.min_coverage", 2.0, r"scoring.analysis.min_coverage .*2.0"),
        ("scoring.analysis.n_bins", 0, r"scoring.analysis.n_bins .*0"),
        ("scoring.analysis.n_bootstrap", -1, r"scoring.analysis.n_bootstrap .*-1"),
        ("scoring.analysis.signal_tolerance", -0.1, r"scoring.analysis.signal_tolerance .*-0.1"),
        ("ingestion.strict", "yes", r"ingestion.strict must be a bool, got 'yes'"),
        ("execution.colocation.executor", "mpi", r"execution.colocation.executor .*'mpi'"),
        ("colocation.mask.min_valid_fraction", 1.5, r"colocation.mask.min_valid_fraction .*1.5"),
        ("colocation.validation.max_missing_fraction", -0.1, r"max_missing_fraction .*-0.1"),
        ("colocation.validation.step_minutes", 0, r"colocation.validation.step_minutes .*0"),
        ("colocation.validation.ranges", {"rain": [10, 0]}, r"ranges.rain .*\[10, 0\]"),
        ("target.score", "fss_t0.5_w4", r"target.window must be a positive odd integer, got 4"),
        ("target.score", "fss_t0.7_w9", r"'fss_t0.7_w9' is not computed: 0.7 is not in scoring"),
        ("target.score", "fss_t0.5_w7", r"is not computed: 7 is not in scoring.scores.windows"),
        ("box.lat_min", 60.0, r"box: .*lat_min=60.0"),
        ("box.lat_mn", 43.0, r"Unknown box parameters \['lat_mn'\]"),
        ("box.lon_max", "east", r"box.lon_max must be a number \(degrees\), got 'east'"),
        ("demo.days", -1, r"demo: .*days must be > 0, got -1"),
        ("demo.seed", -1, r"demo: .*seed must be a non-negative integer, got -1"),
        ("colocation.engine.max_rate", 0, r"colocation.engine.max_rate must be > 0, got 0"),
        ("colocation.engine.block_half_hours", 0, r"colocation.engine.block_half_hours must be"),
    ],
)
def test_bad_values_are_named_with_their_section(
    parameters: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(ParameterError, match=message) as caught:
        validate_parameters(_with(parameters, path, value))
    assert len(caught.value.problems) == 1, caught.value.problems


def test_unknown_sections_and_keys_suggest_the_close_match(parameters: dict[str, Any]) -> None:
    params = _with(parameters, "ingestoin.strict", True)
    params = _with(params, "scoring.featurs", {})
    with pytest.raises(ParameterError) as caught:
        validate_parameters(params)
    assert caught.value.problems[0].startswith(
        "unknown parameter section 'ingestoin'; did you mean 'ingestion'?"
    )
    assert caught.value.problems[1].startswith(
        "unknown parameter 'scoring.featurs'; did you mean 'features'?"
    )


def test_every_problem_is_listed_in_one_error(parameters: dict[str, Any]) -> None:
    params = _with(parameters, "scoring.scores.thresholds", [-1.0])
    params = _with(params, "scoring.features.convective_threshold", -5)
    params = _with(params, "colocation.mask.min_valid_fraction", 1.5)
    params = _with(params, "extra", 1)
    with pytest.raises(ParameterError) as caught:
        validate_parameters(params)
    assert len(caught.value.problems) == 4
    assert "4 invalid parameter(s)" in str(caught.value)


def test_a_section_is_skipped_when_one_it_requires_failed(parameters: dict[str, Any]) -> None:
    """A bad box is reported once, not again by the demo and colocation that need it."""
    with pytest.raises(ParameterError) as caught:
        validate_parameters(_with(parameters, "box.lat_max", 95.0))
    assert [p.split(":")[0] for p in caught.value.problems] == ["box"]


def test_the_registry_covers_every_section_of_the_configuration(
    parameters: dict[str, Any],
) -> None:
    assert set(parameters) == set(SECTIONS)


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project's configuration in a temporary folder (no data)."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()  # the package itself is imported from the environment
    return root


def test_kedro_run_stops_on_a_misspelt_runtime_section_before_any_node(
    project_copy: Path,
) -> None:
    """``kedro run --params ingestoin.strict=true`` fails in the hook: no dataset is read."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project_copy)
    with (
        KedroSession.create(
            project_path=project_copy, runtime_params={"ingestoin": {"strict": True}}
        ) as session,
        pytest.raises(ParameterError, match="did you mean 'ingestion'"),
    ):
        session.run(pipeline_names=["scoring"])
    assert not (project_copy / "data").exists()
