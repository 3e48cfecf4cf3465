"""The project configuration as Kedro loads it: every environment gives valid configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from rainscore.execution import STAGES, ExecutorConfig
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
    assert isinstance(parsed["execution"], ExecutorConfig)


def test_dask_environment_changes_only_the_executor() -> None:
    base, dask = _parameters("local"), _parameters("dask")
    for stage in STAGES:
        assert ExecutorConfig.from_dict(dask["execution"], stage=stage).executor == "dask"
    assert ExecutorConfig.from_dict(base["execution"], stage="colocation").executor == (
        "sequential"
    )
    assert ExecutorConfig.from_dict(base["execution"], stage="ingestion").executor == "processes"
    # Soft merge: the keys conf/dask does not set come from conf/base.
    assert dask["execution"]["workers"] == base["execution"]["workers"]
    assert dask["execution"]["progress"] == base["execution"]["progress"]
    assert {k: v for k, v in dask.items() if k != "execution"} == {
        k: v for k, v in base.items() if k != "execution"
    }
