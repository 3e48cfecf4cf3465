"""The rain-rate colour scale of every rain map in the report.

Discrete levels (mm/h) so that dry pixels (below the first level, 0.1 mm/h) are white and
clearly distinct from light rain, and missing pixels (NaN: outside the radar, no IMERG
value) are a neutral grey distinct from both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.colors import BoundaryNorm, ListedColormap

#: Rain-rate level boundaries in mm/h; below the first one a pixel is dry.
RAIN_LEVELS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
#: Colour of dry pixels (rate < 0.1 mm/h).
DRY_COLOUR = "#ffffff"
#: Colour of missing pixels (NaN).
MISSING_COLOUR = "#bdbdbd"
#: One colour per interval between levels, light to heavy rain, and one above the last.
_RAIN_COLOURS = (
    "#c6dbef",  # 0.1 - 0.2
    "#6baed6",  # 0.2 - 0.5
    "#2171b5",  # 0.5 - 1
    "#41ab5d",  # 1 - 2
    "#c2e699",  # 2 - 5
    "#fed976",  # 5 - 10
    "#fd8d3c",  # 10 - 20
    "#e31a1c",  # 20 - 50
    "#800026",  # >= 50
)
RATE_UNITS = "mm/h"


def rain_colour_scale() -> tuple[ListedColormap, BoundaryNorm]:
    """The rain-rate colour map and its norm.

    Rates below 0.1 mm/h take :data:`DRY_COLOUR`, each interval of :data:`RAIN_LEVELS` its
    own colour, rates of 50 mm/h and more the darkest one, NaN :data:`MISSING_COLOUR`.

    Returns:
        ``(cmap, norm)`` for ``imshow``/``pcolormesh`` (``cmap=..., norm=...``).
    """
    cmap = ListedColormap(list(_RAIN_COLOURS[:-1]), name="rainscore_rain").with_extremes(
        under=DRY_COLOUR, over=_RAIN_COLOURS[-1], bad=MISSING_COLOUR
    )
    norm = BoundaryNorm(list(RAIN_LEVELS), ncolors=cmap.N, extend="neither")
    return cmap, norm


def rain_colour(rate: float) -> tuple[float, float, float, float]:
    """The RGBA colour a rain rate is drawn in.

    Args:
        rate: A rain rate in mm/h (NaN for missing).

    Returns:
        The RGBA tuple.
    """
    cmap, norm = rain_colour_scale()
    return tuple(float(c) for c in cmap(norm(np.ma.masked_invalid([rate])))[0])


def rain_colourbar(ax: Axes | Sequence[Axes], *, label: str = "rain rate") -> Colorbar:
    """A colour bar of the rain scale beside ``ax``, ticked at the levels, in mm/h.

    The bar's extensions show the dry colour (below 0.1 mm/h) and the heaviest colour.

    Args:
        ax: The map's axes, or the axes of a grid of maps sharing one bar (the bar steals
            room from them).
        label: The quantity, the units are appended.

    Returns:
        The colour bar.
    """
    cmap, norm = rain_colour_scale()
    mappable = ScalarMappable(norm=norm, cmap=cmap)
    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(ax))
    figure = axes[0].figure
    bar = figure.colorbar(mappable, ax=axes, extend="both", ticks=list(RAIN_LEVELS), shrink=0.8)
    bar.ax.set_yticklabels([f"{level:g}" for level in RAIN_LEVELS])
    bar.set_label(f"{label} ({RATE_UNITS})")
    return bar
