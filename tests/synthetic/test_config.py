"""WorldConfig: parsed once from Kedro parameters, validated, round-trips through JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rainscore.grids import DEFAULT_BOX, Box
from rainscore.synthetic import SyntheticWorld, WorldConfig
from rainscore.synthetic.config import RegimeConfig


def test_defaults_are_the_demo_world():
    config = WorldConfig()
    assert config.start_time == np.datetime64("2024-06-10T00:00:00")
    assert config.n_half_hours == 144
    assert config.imerg_run == "final"
    assert config.imerg_version == "V07B"
    assert config.box == DEFAULT_BOX
    assert config.end_time == np.datetime64("2024-06-13T00:00:00")


def test_from_dict_accepts_kedro_parameters_and_a_box_object():
    params = {
        "start": "2024-07-01T12:30",
        "days": 2,
        "seed": 5,
        "imerg_run": "late",
        "imerg_version": "V07B",
        "margin_km": 16,
        "box": Box(44.0, 45.0, 1.0, 2.0),
        "rain": {"stratiform_front": {"median_rate": 1.5}, "max_rate": 200},
        "regimes": {"summer_frequency": [0.4, 0.2, 0.3, 0.1]},
    }
    config = WorldConfig.from_dict(params)
    assert config.days == 2.0 and isinstance(config.days, float)
    assert config.margin_km == 16.0
    assert config.box.shape == (10, 10)
    assert config.rain.stratiform_front.median_rate == 1.5
    assert config.rain.stratiform_front.wet_fraction == 0.16  # other fields keep defaults
    assert config.rain.max_rate == 200.0
    assert config.regimes.summer_frequency == (0.4, 0.2, 0.3, 0.1)


def test_to_dict_round_trips_through_json():
    config = WorldConfig.from_dict(
        {"seed": 9, "box": {"lat_min": 44, "lat_max": 45, "lon_min": 1, "lon_max": 2}}
    )
    again = WorldConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sede": 1}, "unknown key(s) ['sede']"),
        ({"rain": {"stratiform_front": {"wet": 0.1}}}, "world.rain.stratiform_front"),
        ({"imerg_run": "fast"}, "imerg_run must be one of"),
        ({"start": "2024-06-10T00:10"}, "half-hour boundary"),
        ({"days": 0}, "days must be > 0"),
        ({"imerg_version": "7B"}, "imerg_version"),
        ({"regimes": {"initial": "storm"}}, "regimes.initial"),
    ],
)
def test_invalid_parameters_are_named(params, message):
    with pytest.raises(
        ValueError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        WorldConfig.from_dict(params)


def test_regime_frequencies_must_have_one_value_per_regime():
    with pytest.raises(ValueError, match="summer_frequency"):
        RegimeConfig(summer_frequency=(0.5, 0.5))


def test_world_window_is_the_box_plus_margin_on_the_meteofrance_grid():
    world = SyntheticWorld(WorldConfig())
    grid = world.radar_grid
    assert (grid.nx, grid.ny) == (928, 893)
    assert (grid.x_min, grid.y_max) == (-265652.0, -3903818.0)
    # Spin-up of 4 h on each side of the three days.
    assert world.n_half_sim == 144 + 16
