"""The clusters in the report: decoded prototypes and the SOM grid coloured by median score.

A cluster's **prototype** is its centre in the latent space decoded by the method's own
autoencoder (k-means: the representation's; DEC and DESOM: the one they fine-tuned), both
read from the method's artefact (:class:`rainscore.models.inference.ClusterScorer`). Only
the precipitation channel is shown, back in mm/h: the decoder gives standardised
``log1p`` rates (:mod:`rainscore.models.data`), so the channel is de-standardised with the
artefact's training statistics and ``expm1`` undoes the ``log1p``. A prototype is a
smooth, typical map of its cluster, not an average of its maps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch
import xarray as xr
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rainscore.models.artefacts import ModelArtefact
from rainscore.models.clustering import ClusterModel
from rainscore.models.inference import ClusterScorer
from rainscore.models.labelling import ClusterLabels
from rainscore.reporting.coastlines import draw_boundaries
from rainscore.reporting.figure import ReportFigure
from rainscore.reporting.maps import grid_box
from rainscore.reporting.panels import message_figure, panel_grid
from rainscore.reporting.rain_colours import RAIN_LEVELS, RATE_UNITS, rain_colour_scale

__all__ = [
    "LABEL_COLUMNS",
    "cluster_figures",
    "cluster_label_rows",
    "decode_prototypes",
    "prototypes_figure",
    "som_grid_figure",
]

#: The columns of a method's rows of ``cluster_labels`` that the figures read.
LABEL_COLUMNS: tuple[str, ...] = ("cluster", "count", "median", "q25", "q75", "fallback")

_PRECIPITATION = "precipitation"
_METHOD_NAMES = {"kmeans": "k-means", "dec": "DEC", "desom": "DESOM"}
_SCORE_CMAP = "viridis"
_EMPTY_COLOUR = "#eeeeee"


def decode_prototypes(artefact: ModelArtefact, method: str) -> tuple[np.ndarray, ClusterModel]:
    """Every cluster centre decoded to a precipitation map in mm/h.

    Args:
        artefact: The method's clustering artefact (``<method>_model``).
        method: ``kmeans``, ``dec`` or ``desom`` (names errors).

    Returns:
        ``(K, H, W)`` rain rates in mm/h (≥ 0) on the encoder's grid (padding cut off),
        and the clusters.

    Raises:
        ValueError: Not a clustering artefact of this version's input channels (named).
    """
    scorer = ClusterScorer(artefact, method)
    centroids = torch.from_numpy(np.array(scorer.cluster.centroids, dtype=np.float32))
    with torch.no_grad():
        decoded = scorer.encoder.eval().decode(centroids).numpy()
    height, width = scorer.map_shape
    channel = scorer.norm.channels.index(_PRECIPITATION)
    standardised = decoded[:, channel, :height, :width].astype(np.float64)
    log_rate = standardised * scorer.norm.std[channel] + scorer.norm.mean[channel]
    return np.clip(np.expm1(log_rate), 0.0, None), scorer.cluster


def cluster_label_rows(
    cluster_labels: pd.DataFrame | None, artefact: ModelArtefact, method: str
) -> pd.DataFrame:
    """A method's labels, one row per cluster in cluster order.

    Args:
        cluster_labels: The ``cluster_labels`` table (all methods), or None.
        artefact: The method's artefact (its ``labels`` serve when the table lacks them).
        method: The method.

    Returns:
        :data:`LABEL_COLUMNS`.
    """
    rows = None
    if cluster_labels is not None and not cluster_labels.empty:
        rows = cluster_labels[cluster_labels["method"] == method]
    if rows is None or rows.empty:
        rows = ClusterLabels.from_dict(artefact.metadata["labels"]).to_frame()
    return rows.sort_values("cluster")[list(LABEL_COLUMNS)].reset_index(drop=True)


def _coordinates(
    imerg_cube: xr.Dataset | None, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray] | None:
    """The cube's ``(lat, lon)`` cell centres when they fit the prototypes' grid."""
    if imerg_cube is None or "lat" not in imerg_cube.coords or "lon" not in imerg_cube.coords:
        return None
    lat = np.asarray(imerg_cube["lat"].values, dtype=float)
    lon = np.asarray(imerg_cube["lon"].values, dtype=float)
    return (lat, lon) if (lat.size, lon.size) == tuple(shape) else None


def _rain_colourbar(fig: Figure, axes: Sequence[Axes]) -> None:
    """One rain-scale colour bar beside every panel (the levels ticked, in mm/h)."""
    cmap, norm = rain_colour_scale()
    bar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        ax=list(axes),
        extend="both",
        ticks=list(RAIN_LEVELS),
        shrink=0.8,
    )
    bar.ax.set_yticklabels([f"{level:g}" for level in RAIN_LEVELS])
    bar.set_label(f"rain rate ({RATE_UNITS})")


def _label_text(row: pd.Series) -> str:
    text = (
        f"median {row['median']:.2f}, IQR {row['q25']:.2f}–{row['q75']:.2f}\n"
        f"{int(row['count'])} train maps"
    )
    return text + (" (global label)" if bool(row["fallback"]) else "")


def prototypes_figure(
    rates: np.ndarray,
    labels: pd.DataFrame,
    *,
    method: str,
    target: str,
    coordinates: tuple[np.ndarray, np.ndarray] | None = None,
    grid: tuple[int, int] | None = None,
) -> Figure:
    """One panel per cluster: its decoded prototype on the rain colour scale.

    Args:
        rates: ``(K, H, W)`` prototypes in mm/h (:func:`decode_prototypes`).
        labels: :func:`cluster_label_rows` (``K`` rows).
        method: The method, for the title.
        target: The target score's name, for the title.
        coordinates: ``(lat (H,), lon (W,))`` cell centres in degrees; None draws on cell
            indices.
        grid: A SOM's ``(rows, cols)``: the panels sit on the SOM's grid.

    Returns:
        The figure: each panel titled with the cluster's median target score, IQR and
        count of training maps.

    Raises:
        ValueError: ``labels`` has not one row per prototype.
    """
    n, height, width = rates.shape
    if len(labels) != n:
        raise ValueError(f"{method}: {n} prototypes but {len(labels)} rows of cluster labels")
    ncols = grid[1] if grid is not None else min(4, n)
    box, aspect = None, 1.0
    if coordinates is not None:
        lat, lon = coordinates
        box = grid_box(xr.Dataset(coords={"lat": lat, "lon": lon}))
        aspect = 1.0 / np.cos(np.deg2rad(0.5 * (box.lat_min + box.lat_max)))
    size = 2.7  # a panel's width; the map takes ~85 % of it and keeps its aspect
    fig, axes = panel_grid(
        n,
        ncols=ncols,
        panel_size=(size, 0.85 * size * aspect * height / width + 0.8),
        sharex=True,
        sharey=True,
    )
    cmap, norm = rain_colour_scale()
    for k, ax in enumerate(axes):
        if box is not None:
            ax.pcolormesh(lon, lat, rates[k], cmap=cmap, norm=norm, shading="nearest")
            draw_boundaries(ax, box)
            ax.set_xlim(box.lon_min, box.lon_max)
            ax.set_ylim(box.lat_min, box.lat_max)
            ax.set_aspect(aspect)
        else:
            ax.imshow(rates[k], cmap=cmap, norm=norm, origin="lower")
        ax.set_title(f"cluster {k}: {_label_text(labels.iloc[k])}", fontsize=7)
        if k % ncols == 0:
            ax.set_ylabel("latitude (°N)" if coordinates is not None else "row (cell)")
        if k + ncols >= n:
            ax.set_xlabel("longitude (°E)" if coordinates is not None else "column (cell)")
    _rain_colourbar(fig, axes)
    fig.suptitle(
        f"{_METHOD_NAMES.get(method, method)}: decoded cluster prototypes (precipitation), "
        f"labelled with {target}",
        fontsize=10,
    )
    return fig


def som_grid_figure(labels: pd.DataFrame, grid: tuple[int, int], *, target: str) -> Figure:
    """The SOM's units on their grid, coloured by their median target score.

    Args:
        labels: :func:`cluster_label_rows` of the SOM (unit ``r * cols + c`` at row ``r``,
            column ``c``).
        grid: ``(rows, cols)``.
        target: The target score's name.

    Returns:
        The figure: colour = the unit's median, text = its median and count of training
        maps; a unit without training maps is hatched and says "empty".

    Raises:
        ValueError: ``labels`` has not ``rows * cols`` rows.
    """
    rows, cols = grid
    if len(labels) != rows * cols:
        raise ValueError(f"SOM grid {grid}: {len(labels)} rows of cluster labels")
    medians = labels["median"].to_numpy(dtype=float).reshape(rows, cols)
    counts = labels["count"].to_numpy(dtype=int).reshape(rows, cols)
    fallback = labels["fallback"].to_numpy(dtype=bool).reshape(rows, cols)
    fig = Figure(figsize=(1.2 * cols + 2.2, max(1.1 * rows + 1.2, 3.0)), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps[_SCORE_CMAP].with_extremes(bad=_EMPTY_COLOUR)
    image = ax.imshow(np.ma.masked_invalid(medians), cmap=cmap, origin="upper")
    for r in range(rows):
        for c in range(cols):
            text = f"{medians[r, c]:.2f}\nn={counts[r, c]}"
            if counts[r, c] == 0:
                ax.add_patch(
                    Rectangle(
                        (c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", color="#424242", lw=0
                    )
                )
                text += "\nempty"
            elif fallback[r, c]:
                text += "\n(global)"
            ax.text(
                c,
                r,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color=_text_colour(image, medians[r, c]),
            )
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    ax.set_xlabel("SOM column (unit)")
    ax.set_ylabel("SOM row (unit)")
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(f"median {target}")
    ax.set_title(f"DESOM grid: median {target} of each unit's training maps", fontsize=9)
    return fig


def _text_colour(image: ScalarMappable, value: float) -> str:
    """Black on light cells, white on dark ones."""
    if not np.isfinite(value):
        return "black"
    red, green, blue, _ = image.cmap(image.norm(value))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def cluster_figures(
    models: Mapping[str, ModelArtefact | None],
    cluster_labels: pd.DataFrame | None,
    imerg_cube: xr.Dataset | None,
    *,
    target: str,
) -> list[ReportFigure]:
    """The ``clusters`` section: each method's prototypes, and the SOM grid.

    Args:
        models: ``{method: <method>_model}`` (None: the method did not run).
        cluster_labels: The ``cluster_labels`` table, or None.
        imerg_cube: The IMERG cube (its ``lat``/``lon``), or None.
        target: The target score's name.

    Returns:
        ``cluster_prototypes_<method>`` for every method given and ``som_grid_desom`` when
        ``desom`` is given; a missing artefact gives a figure that says so.
    """
    figures = []
    som = None
    for method, artefact in models.items():
        name = _METHOD_NAMES.get(method, method)
        if artefact is None:
            figure = message_figure(f"no {method}_model: run the clustering pipeline")
            count = 0
        else:
            rates, cluster = decode_prototypes(artefact, method)
            labels = cluster_label_rows(cluster_labels, artefact, method)
            figure = prototypes_figure(
                rates,
                labels,
                method=method,
                target=target,
                coordinates=_coordinates(imerg_cube, rates.shape[1:]),
                grid=cluster.grid,
            )
            count = cluster.n_clusters
            if cluster.grid is not None:
                som = (labels, cluster.grid)
        figures.append(
            ReportFigure(
                name=f"cluster_prototypes_{method}",
                section="clusters",
                title=f"{name} cluster prototypes",
                caption=(
                    f"The {count} cluster centres of {name}, decoded by its autoencoder: "
                    f"precipitation in {RATE_UNITS} (white: dry, below 0.1 {RATE_UNITS}). "
                    f"Each title: the median {target}, its interquartile range and the "
                    "number of training maps of the cluster (global label: too few maps, "
                    "the cluster takes the training median)."
                ),
                figure=figure,
            )
        )
    if "desom" in models:
        if som is None:
            figure = message_figure("no desom_model (or it has no SOM grid)")
        else:
            figure = som_grid_figure(*som, target=target)
        figures.append(
            ReportFigure(
                name="som_grid_desom",
                section="clusters",
                title="DESOM grid coloured by median score",
                caption=(
                    f"The self-organising map's units on their grid; colour and first line: "
                    f"the unit's median {target} over the training maps (smoothed over "
                    "neighbouring units, as the labels are); n: the unit's own training "
                    "maps; hatched: a unit no training map falls on."
                ),
                figure=figure,
            )
        )
    return figures
