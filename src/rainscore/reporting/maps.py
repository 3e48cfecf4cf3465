"""Example maps of the report: IMERG, radar on the IMERG grid and the local error, side by side.

The examples are chosen among the wet maps (target score defined, the map neither dry nor
without data) by their rank on the target score: the best, the median and the worst for
three examples, evenly spaced ranks for another number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib import colormaps
from matplotlib.figure import Figure

from rainscore.grids.imerg import Box
from rainscore.reporting.coastlines import draw_boundaries
from rainscore.reporting.figure import ReportFigure
from rainscore.reporting.rain_colours import MISSING_COLOUR, rain_colour_scale, rain_colourbar
from rainscore.scores.catalogue import score_info

#: Flag columns of the score table that make a map unfit as an example when true.
DRY_FLAGS = ("both_dry", "too_dry", "no_data")
#: Scores shown in an example's title besides the target, when the table has them.
TITLE_SCORES = ("csi_t1.0", "pearson", "rmse")
#: Colour scale of the local fraction error (IMERG minus radar, dimensionless); grey outside
#: the scoring mask, as missing rain.
ERROR_CMAP = colormaps["RdBu_r"].with_extremes(bad=MISSING_COLOUR)


def wet_maps(table: pd.DataFrame, target: str) -> pd.Series:
    """The target score of the maps that can serve as examples, best first.

    Args:
        table: ``map_scores``: one row per map, indexed by ``time``.
        target: The target score's column.

    Returns:
        The target's values of the maps where it is defined and no flag of
        :data:`DRY_FLAGS` is set, sorted from the best map to the worst (the score
        catalogue's direction), indexed by time.

    Raises:
        KeyError: When ``target`` is not a column of the table.
    """
    if target not in table:
        raise KeyError(f"map_scores has no column {target!r} (the target score)")
    keep = np.isfinite(table[target].to_numpy(dtype=float))
    for flag in DRY_FLAGS:
        if flag in table:
            keep &= ~table[flag].fillna(False).to_numpy(dtype=bool)
    values = table.loc[keep, target].astype(float)
    return values.sort_values(ascending=not score_info(target).higher_is_better, kind="stable")


def choose_examples(table: pd.DataFrame, target: str, n: int) -> list[tuple[str, pd.Timestamp]]:
    """The example maps: evenly spaced ranks among the wet maps, best to worst.

    Args:
        table: ``map_scores``.
        target: The target score's column.
        n: Examples wanted (fewer when fewer wet maps).

    Returns:
        ``(label, time)`` pairs: ``best``, ``median``, ``worst`` for three examples,
        ``rank r of m`` otherwise (and ``best``/``worst`` at the ends).
    """
    ranked = wet_maps(table, target)
    m = len(ranked)
    if m == 0 or n < 1:
        return []
    positions = sorted(set(np.rint(np.linspace(0, m - 1, min(n, m))).astype(int).tolist()))
    examples = []
    for position in positions:
        if position == 0:
            label = "best"
        elif position == m - 1:
            label = "worst"
        elif len(positions) == 3:
            label = "median"
        else:
            label = f"rank {position + 1} of {m}"
        examples.append((label, pd.Timestamp(ranked.index[position])))
    return examples


def grid_box(field: xr.DataArray) -> Box:
    """The box whose cells are the field's ``lat``/``lon`` centres (regular spacing)."""
    lat, lon = field["lat"].to_numpy(), field["lon"].to_numpy()
    dlat = float(np.median(np.diff(lat))) if lat.size > 1 else 0.1
    dlon = float(np.median(np.diff(lon))) if lon.size > 1 else 0.1
    return Box(
        lat_min=float(lat.min()) - dlat / 2,
        lat_max=float(lat.max()) + dlat / 2,
        lon_min=float(lon.min()) - dlon / 2,
        lon_max=float(lon.max()) + dlon / 2,
    )


def _title(label: str, time: pd.Timestamp, scores: pd.Series, target: str) -> str:
    parts = [f"{target} = {float(scores[target]):.2f}"]
    for column in TITLE_SCORES:
        if column in scores and column != target and np.isfinite(float(scores[column])):
            units = score_info(column).units
            suffix = "" if units == "1" else f" {units}"
            parts.append(f"{column} = {float(scores[column]):.2f}{suffix}")
    return f"{label}: {time:%Y-%m-%d %H:%M} UTC — " + ", ".join(parts)


def example_map_figure(
    imerg: xr.DataArray,
    radar: xr.DataArray,
    error: xr.DataArray,
    *,
    title: str,
    coastlines: bool = True,
) -> Figure:
    """IMERG, radar and local error of one half hour side by side, on lon/lat axes.

    Args:
        imerg: IMERG rain rate (mm/h), dims ``(lat, lon)``.
        radar: Radar rain rate on the IMERG grid (mm/h), NaN outside the radar.
        error: Local fraction error (IMERG minus radar event fraction, in [-1, 1]), NaN
            outside the scoring mask.
        title: The figure's title.
        coastlines: Draw coastlines and borders (:mod:`rainscore.reporting.coastlines`).

    Returns:
        The figure (not shown).
    """
    box = grid_box(imerg)
    extent = (box.lon_min, box.lon_max, box.lat_min, box.lat_max)
    aspect = 1.0 / np.cos(np.deg2rad(0.5 * (box.lat_min + box.lat_max)))
    fig = Figure(figsize=(13.0, 4.2), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    cmap, norm = rain_colour_scale()
    panels = (
        (axes[0], imerg, "IMERG"),
        (axes[1], radar, "radar on the IMERG grid"),
    )
    for ax, field, name in panels:
        ax.imshow(
            _lat_ascending(field),
            cmap=cmap,
            norm=norm,
            origin="lower",
            extent=extent,
            aspect=aspect,
            interpolation="nearest",
        )
        ax.set_title(name, fontsize=9)
    rain_colourbar(axes[1])
    image = axes[2].imshow(
        _lat_ascending(error),
        cmap=ERROR_CMAP,
        vmin=-1.0,
        vmax=1.0,
        origin="lower",
        extent=extent,
        aspect=aspect,
        interpolation="nearest",
    )
    threshold = error.attrs.get("threshold")
    window = error.attrs.get("window")
    detail = f" (≥ {threshold:g} mm/h, {window}×{window} cells)" if threshold and window else ""
    axes[2].set_title(f"local fraction error{detail}", fontsize=9)
    bar = fig.colorbar(image, ax=axes[2], shrink=0.8)
    bar.set_label("IMERG − radar event fraction (1)")
    for ax in axes:
        if coastlines:
            draw_boundaries(ax, box)
        ax.set_xlim(box.lon_min, box.lon_max)
        ax.set_ylim(box.lat_min, box.lat_max)
        ax.set_xlabel("longitude (°E)")
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("latitude (°N)")
    fig.suptitle(title, fontsize=10)
    return fig


def _lat_ascending(field: xr.DataArray) -> np.ndarray:
    field = field.transpose("lat", "lon")
    if field["lat"].size > 1 and field["lat"].values[0] > field["lat"].values[-1]:
        field = field.isel(lat=slice(None, None, -1))
    return np.asarray(field.values, dtype=float)


def example_map_figures(
    pairs: xr.Dataset,
    local_errors: xr.Dataset,
    table: pd.DataFrame,
    examples: Sequence[tuple[str, pd.Timestamp]],
    *,
    target: str,
    coastlines: bool = True,
) -> list[ReportFigure]:
    """The report's example maps.

    Args:
        pairs: ``colocated_pairs`` (``imerg``, ``radar``), lazily loaded or in memory: only
            the examples' half hours are read.
        local_errors: ``local_error_maps`` (``local_fraction_error``).
        table: ``map_scores``.
        examples: ``(label, time)`` of each example (:func:`choose_examples`).
        target: The target score's column.
        coastlines: Draw coastlines and borders.

    Returns:
        One figure per example, section ``maps``, named ``example_map_<label>``.
    """
    figures = []
    for label, time in examples:
        scores = table.loc[time]
        pair = pairs[["imerg", "radar"]].sel(time=time).load()
        error = local_errors["local_fraction_error"].sel(time=time).load()
        name = "example_map_" + "".join(c if c.isalnum() else "_" for c in label).lower()
        figures.append(
            ReportFigure(
                name=name,
                section="maps",
                title=f"Example map, {label} by {target}",
                caption=(
                    f"The half hour starting {time:%Y-%m-%d %H:%M} UTC, {label} of the wet "
                    f"maps by {target}: IMERG and radar rain rates (mm/h; white dry, below "
                    "0.1 mm/h; grey no data) and the local fraction error of the target's "
                    "threshold and window (blue: IMERG misses rain, red: false alarms; "
                    "grey outside the scoring mask)."
                ),
                figure=example_map_figure(
                    pair["imerg"],
                    pair["radar"],
                    error,
                    title=_title(label, time, scores, target),
                    coastlines=coastlines,
                ),
            )
        )
    return figures


def target_distribution_figure(
    table: pd.DataFrame, target: str, examples: Sequence[tuple[str, pd.Timestamp]] = ()
) -> ReportFigure:
    """The target score's histogram over the wet maps, the examples marked.

    Args:
        table: ``map_scores``.
        target: The target score's column.
        examples: ``(label, time)`` of the example maps, drawn as vertical lines.

    Returns:
        The figure, section ``scores``, named ``target_distribution``.
    """
    values = wet_maps(table, target)
    info = score_info(target)
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    if len(values):
        ax.hist(values.to_numpy(), bins=min(30, max(5, len(values) // 3)), color="tab:blue")
    for label, time in examples:
        ax.axvline(float(table.loc[time, target]), color="black", lw=1.0, ls="--")
        ax.annotate(
            label,
            (float(table.loc[time, target]), 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
        )
    units = "" if info.units == "1" else f" ({info.units})"
    ax.set_xlabel(f"{target}{units}")
    ax.set_ylabel("number of maps")
    ax.set_title(f"{target} over {len(values)} wet maps of {len(table)}", fontsize=10)
    return ReportFigure(
        name="target_distribution",
        section="scores",
        title=f"Distribution of the target score {target}",
        caption=(
            f"{info.long_name}, over the maps where it is defined and that are neither dry nor "
            "without data; the dashed lines mark the example maps."
        ),
        figure=fig,
    )
