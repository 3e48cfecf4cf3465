"""The project configuration as Kedro loads it: every environment gives valid configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from rainscore.grids import Box
from rainscore.ingest import IngestionConfig
from rainscore.param_sections import (
    SECTIONS,
    ColocationSection,
    ScoringSection,
    validate_parameters,
)
from rainscore.scores import TargetConfig
from rainscore.settings import CONFIG_LOADER_ARGS
from rainscore.synthetic import WorldConfig

CONF = Path(__file__).resolve().parents[1] / "conf"


def _parameters(env: str) -> dict:
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(conf_source=str(CONF), env=env, **args)
    return loader["parameters"]


@pytest.mark.parametrize("env", ["local", "dask"])
def test_every_parameter_section_parses(env: str) -> None:
    """Every top-level section of every environment is in the registry and parses."""
    params = _parameters(env)
    parsed = validate_parameters(params)
    assert set(parsed) == set(params) == set(SECTIONS)
    assert isinstance(parsed["box"], Box)
    assert isinstance(parsed["demo"], WorldConfig)
    assert isinstance(parsed["ingestion"], IngestionConfig)
    assert isinstance(parsed["colocation"], ColocationSection)
    assert isinstance(parsed["scoring"], ScoringSection)
    assert parsed["target"] == TargetConfig(score="fss_t0.5_w9")


def test_dask_environment_changes_only_the_executor() -> None:
    base, dask = _parameters("local"), _parameters("dask")
    assert dask["colocation"]["engine"]["executor"] == "dask"
    assert base["colocation"]["engine"]["executor"] == "sequential"
    assert dask["colocation"]["mask"] == base["colocation"]["mask"]
    assert (
        dask["colocation"]["engine"]["lag_minutes"] == base["colocation"]["engine"]["lag_minutes"]
    )
