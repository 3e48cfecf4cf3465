"""One executor configuration, shared by every stage, with per-stage overrides."""

from __future__ import annotations

import pytest

from rainscore.execution import ExecutorConfig

SHARED = {"executor": "processes", "workers": 4, "progress": False}


def test_defaults() -> None:
    assert ExecutorConfig.from_dict(None) == ExecutorConfig(
        executor="processes", workers=2, dask_scheduler="local", dask_processes=True
    )


def test_a_stage_overrides_only_its_own_keys() -> None:
    params = {**SHARED, "colocation": {"executor": "sequential"}, "scoring": None}
    colocation = ExecutorConfig.from_dict(params, stage="colocation")
    assert colocation == ExecutorConfig(executor="sequential", workers=4, progress=False)
    assert ExecutorConfig.from_dict(params, stage="ingestion") == ExecutorConfig(**SHARED)
    assert ExecutorConfig.from_dict(params, stage="scoring") == ExecutorConfig(**SHARED)
    assert ExecutorConfig.from_dict(params) == ExecutorConfig(**SHARED)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"executor": "mpi"}, r"execution.executor must be one of .*, got 'mpi'"),
        ({"workers": 0}, r"execution.workers must be an integer >= 1, got 0"),
        ({"workers": 1.5}, r"execution.workers must be an integer"),
        ({"progress": "yes"}, r"execution.progress must be"),
        ({"dask_scheduler": ""}, r"execution.dask_scheduler must be 'local' or an address"),
        ({"worker": 2}, r"Unknown execution parameters \['worker'\]"),
        ({"colocaton": {}}, r"Unknown execution parameters \['colocaton'\]"),
        ({"scoring": {"workers": 0}}, r"execution.scoring.workers must be an integer >= 1"),
        ({"scoring": {"block_maps": 1}}, r"Unknown execution.scoring parameters \['block_maps'\]"),
        ({"scoring": 3}, r"execution.scoring must be a mapping, got 3"),
    ],
)
def test_bad_parameters_are_refused_naming_the_key(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExecutorConfig.from_dict(params, stage="colocation")


def test_an_override_of_another_stage_is_checked_too() -> None:
    with pytest.raises(ValueError, match=r"execution.ingestion.executor must be one of"):
        ExecutorConfig.from_dict({"ingestion": {"executor": "gpu"}}, stage="colocation")


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(ValueError, match=r"Unknown execution stage 'training'"):
        ExecutorConfig.from_dict({}, stage="training")
