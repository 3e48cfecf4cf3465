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
    with pytest.raises(
        ValueError, match=r"Unknown scoring parameters \['wokers'\] \(did you mean 'workers'\?\)"
    ):
        dataclass_from_params(_Config, {"wokers": 4}, section="scoring")


@dataclass(frozen=True)
class _Typed:
    strict: bool = False
    workers: int = 2
    rate: float = 1.0
    name: str = "a"
    thresholds: tuple[float, ...] = (0.1,)
    window: int | None = None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"strict": "yes"}, r"x.strict must be a bool, got 'yes'"),
        ({"workers": 2.5}, r"x.workers must be an integer, got 2.5"),
        ({"workers": True}, r"x.workers must be an integer, got True"),
        ({"rate": "fast"}, r"x.rate must be a number, got 'fast'"),
        ({"name": 3}, r"x.name must be a string, got 3"),
        ({"thresholds": [0.1, "b"]}, r"x.thresholds must be a list of numbers, got \[0.1, 'b'\]"),
        ({"window": "5"}, r"x.window must be an integer or null, got '5'"),
        ({"name": None}, r"x.name must be a string, got None"),
    ],
)
def test_values_of_the_wrong_type_are_refused(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclass_from_params(_Typed, params, section="x")


def test_integers_are_numbers_and_none_is_allowed_where_declared() -> None:
    config = dataclass_from_params(_Typed, {"rate": 3, "window": None}, section="x")
    assert config == _Typed(rate=3, window=None)
