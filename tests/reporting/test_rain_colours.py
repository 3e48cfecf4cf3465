"""The rain colour scale: dry, light rain, heavy rain and missing pixels differ."""

import math

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from rainscore.reporting.rain_colours import (
    DRY_COLOUR,
    MISSING_COLOUR,
    RAIN_LEVELS,
    rain_colour,
    rain_colour_scale,
    rain_colourbar,
)


def test_zero_differs_from_light_rain_and_missing():
    assert rain_colour(0.0) == to_rgba(DRY_COLOUR)
    assert rain_colour(0.09) == to_rgba(DRY_COLOUR)
    assert rain_colour(0.1) != rain_colour(0.0)
    assert rain_colour(math.nan) == to_rgba(MISSING_COLOUR)
    assert len({rain_colour(r) for r in (0.0, 0.1, math.nan)}) == 3


def test_each_level_has_its_own_colour():
    colours = [rain_colour(level) for level in RAIN_LEVELS]
    assert len(set(colours)) == len(RAIN_LEVELS)
    assert rain_colour(60.0) == rain_colour(50.0)
    assert rain_colour(0.15) == rain_colour(0.1)


def test_colourbar_in_mm_per_hour():
    fig = Figure()
    ax = fig.add_subplot()
    cmap, norm = rain_colour_scale()
    ax.imshow(np.array([[0.0, 0.5], [np.nan, 12.0]]), cmap=cmap, norm=norm)
    bar = rain_colourbar(ax)
    assert bar.ax.get_ylabel() == "rain rate (mm/h)"
    assert [t.get_text() for t in bar.ax.get_yticklabels()][:3] == ["0.1", "0.2", "0.5"]


def test_one_colourbar_for_a_grid_of_maps():
    fig = Figure(layout="constrained")
    axes = fig.subplots(2, 2)
    bar = rain_colourbar(axes)
    assert bar.ax.get_ylabel() == "rain rate (mm/h)"
    assert len(fig.axes) == 5  # four maps and one bar
