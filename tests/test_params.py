"""Parsing parameter sections into typed configs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from rainscore.params import dataclass_from_params


@dataclass(frozen=True)
class _Config:
    thresholds: tuple[float, ...] = (0.1, 1.0)
    workers: int = 2


def test_defaults_lists_and_unknown_keys() -> None:
    assert dataclass_from_params(_Config, None, section="x") == _Config()
    config = dataclass_from_params(_Config, {"thresholds": [0.5], "workers": 4}, section="x")
    assert config == _Config(thresholds=(0.5,), workers=4)
    with pytest.raises(ValueError, match=r"Unknown scoring parameters \['wokers'\]"):
        dataclass_from_params(_Config, {"wokers": 4}, section="scoring")
