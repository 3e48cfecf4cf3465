"""Small multiples: a grid of panels in one figure, and the note of an empty panel."""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["message_axes", "message_figure", "panel_grid"]


def panel_grid(
    n: int,
    *,
    ncols: int,
    panel_size: tuple[float, float],
    sharex: bool = False,
    sharey: bool = False,
) -> tuple[Figure, list[Axes]]:
    """A figure of ``n`` panels, ``ncols`` a row (the unused cells of the last row hidden).

    Args:
        n: Panels (at least 1).
        ncols: Panels a row (fewer when ``n`` is smaller).
        panel_size: Width and height of a panel, in inches.
        sharex: Share the x axis between panels.
        sharey: Share the y axis.

    Returns:
        The figure (constrained layout) and its ``n`` panels, row by row.

    Raises:
        ValueError: ``n`` or ``ncols`` below 1.
    """
    if n < 1 or ncols < 1:
        raise ValueError(f"panel_grid: n and ncols must be >= 1, got n={n}, ncols={ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    width, height = panel_size
    fig = Figure(figsize=(width * ncols, height * nrows + 0.4), layout="constrained")
    axes = list(fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig, axes[:n]


def message_axes(ax: Axes, text: str) -> None:
    """Write ``text`` in the middle of ``ax`` (a panel with nothing to draw).

    Args:
        ax: The panel.
        text: What is missing, e.g. "no defined test maps".
    """
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#616161")


def message_figure(text: str) -> Figure:
    """A small figure that only says ``text`` (its inputs are missing or empty).

    Args:
        text: What is missing.

    Returns:
        The figure.
    """
    fig = Figure(figsize=(5.0, 2.0), layout="constrained")
    ax = fig.add_subplot()
    message_axes(ax, text)
    ax.set_axis_off()
    return fig
