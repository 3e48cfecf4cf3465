"""The ``training`` parameter section: parsed before any node runs, every problem named."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from rainscore.param_sections import ParameterError, TrainingSection, validate_parameters

CONF = Path(__file__).resolve().parents[1] / "conf" / "base"


def _params() -> dict:
    params: dict = {}
    for path in sorted(CONF.glob("parameters*.yml")):
        params.update(yaml.safe_load(path.read_text()) or {})
    return copy.deepcopy(params)


def test_the_demo_defaults_parse() -> None:
    training = validate_parameters(_params())["training"]
    assert isinstance(training, TrainingSection)
    assert training.split.block == "12h" and training.tuning.n_trials == 2
    assert training.unet.in_channels == 6 and training.recipe.loop.epochs == 5
    assert set(training.tuning.space) == {
        "width",
        "depth",
        "learning_rate",
        "dropout",
        "score_weight",
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epoch": 3}, r"unknown parameter 'training\.epoch'"),
        ({"unet": {"in_channels": 3}}, r"training\.unet\.in_channels is not a parameter"),
        ({"unet": {"depth": -1}}, r"training\.unet\.depth must be a non-negative integer"),
        ({"coverage": 1.5}, r"training\.coverage must be a number in \(0, 1\), got 1\.5"),
        ({"score_weight": -1}, r"training\.score_weight must be a number >= 0, got -1"),
        ({"split": {"block": "fortnight"}}, r"training\.split\.block must be a duration"),
        (
            {"tuning": {"space": {"epochs": {"type": "int", "low": 1, "high": 3}}}},
            r"training\.tuning\.space: \['epochs'\] cannot be tuned",
        ),
        (
            {"baselines": {"covariates": ["rain_area_km2"]}},
            r"training\.baselines\.covariates: .*refused: 'rain_area_km2' \(radar\)",
        ),
        (
            {"baselines": {"features": ["fss_t0.5_w9"]}},
            r"refused: 'fss_t0\.5_w9' \(imerg_and_radar\)",
        ),
    ],
)
def test_bad_training_parameters_stop_the_run_named(change: dict, message: str) -> None:
    params = _params()
    params["training"].update(change)
    with pytest.raises(ParameterError, match=message):
        validate_parameters(params)
