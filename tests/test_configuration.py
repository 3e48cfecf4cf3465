"""The project configuration as Kedro loads it: every environment gives valid configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from rainscore.analysis import AnalysisConfig, FeatureConfig
from rainscore.colocate import ColocationConfig
from rainscore.colocate.pairs import MaskConfig
from rainscore.grids import Box
from rainscore.ingest import IngestionConfig
from rainscore.scores import ScoreConfig
from rainscore.settings import CONFIG_LOADER_ARGS
from rainscore.synthetic import WorldConfig
from rainscore.validation import ExpectationConfig

CONF = Path(__file__).resolve().parents[1] / "conf"


def _parameters(env: str) -> dict:
    args = {k: v for k, v in CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    loader = OmegaConfigLoader(conf_source=str(CONF), env=env, **args)
    return loader["parameters"]


@pytest.mark.parametrize("env", ["local", "dask"])
def test_every_config_object_parses(env: str) -> None:
    params = _parameters(env)
    box = Box.from_dict(params["box"])
    WorldConfig.from_dict({**params["demo"], "box": box})
    IngestionConfig.from_dict(params["ingestion"])
    ColocationConfig.from_dict(params["colocation"]["engine"])
    MaskConfig.from_dict(params["colocation"]["mask"])
    ExpectationConfig.from_dict(params["colocation"]["validation"], box)
    assert params["colocation"]["weights_cache_dir"]
    ScoreConfig.from_dict(params["scoring"]["scores"])
    FeatureConfig.from_dict(params["scoring"]["features"])
    AnalysisConfig.from_dict(params["scoring"]["analysis"])


def test_dask_environment_changes_only_the_executor() -> None:
    base, dask = _parameters("local"), _parameters("dask")
    assert dask["colocation"]["engine"]["executor"] == "dask"
    assert base["colocation"]["engine"]["executor"] == "sequential"
    assert dask["colocation"]["mask"] == base["colocation"]["mask"]
    assert (
        dask["colocation"]["engine"]["lag_minutes"] == base["colocation"]["engine"]["lag_minutes"]
    )
