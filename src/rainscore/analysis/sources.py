"""Where each column of ``map_scores`` comes from, and the rule that keeps models honest.

The models estimate a map's score from the IMERG map alone (DESIGN §6): their inputs and
the baselines' features come from the **IMERG side only**. The radar enters through the
targets and the loss mask, never through an input. Every column of the score table
(``map_scores``) is marked here with its source:

- ``imerg``: computed from the IMERG fields and their quality channels alone
  (``mean_rate_imerg``, ``pmw_age_mean``, ``ir_influence_mean``…);
- ``radar``: computed from the radar (``mean_rate_radar``, ``convective_fraction``,
  ``rain_area_km2``, ``n_rain_objects``, ``mean_object_area_km2``…);
- ``imerg_and_radar``: every score and flag of the score catalogue
  (:data:`rainscore.scores.SCORES`: ``fss_t0.5_w9``, ``n_valid``, ``too_dry``…);
- ``time``: the calendar of the half hour (``hour``, ``solar_hour``, ``day_of_year``,
  ``season``, and ``time`` itself);
- ``truth``: the synthetic world's truth (``true_regime``), known only in a synthetic world.

Inputs may be ``imerg`` or ``time`` columns (:func:`imerg_side_columns`);
:func:`require_imerg_side` refuses anything else, naming the column and its source.

One caveat on the ``imerg`` columns **as ``map_scores`` holds them**: the scoring computes
every context feature over the scoring mask (cells where the radar is valid,
:mod:`rainscore.analysis.features`), so the region they average over follows the radar's
coverage. :func:`imerg_features` computes the same IMERG-side columns from the IMERG cube
over the whole box, with no radar at all: that is the table the baselines should learn from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

import pandas as pd
import xarray as xr

from rainscore.analysis.features import BLOCK_MAPS, FeatureConfig, map_features
from rainscore.scores import has_score_info

__all__ = [
    "IMERG_FEATURES",
    "RADAR_FEATURES",
    "SOURCES",
    "TIME_FEATURES",
    "TRUTH_FEATURES",
    "RadarSideInputError",
    "Source",
    "column_source",
    "imerg_features",
    "imerg_side_columns",
    "require_imerg_side",
]

Source = Literal["imerg", "radar", "imerg_and_radar", "time", "truth"]
SOURCES: tuple[str, ...] = get_args(Source)
"""Every source a column can have."""

IMERG_FEATURES: tuple[str, ...] = (
    "wet_fraction_imerg",
    "mean_rate_imerg",
    "mean_wet_rate_imerg",
    "p99_rate_imerg",
    "pmw_coverage",
    "sensors_present",
    "pmw_age_mean",
    "pmw_age_median",
    "pmw_seen_within_30min",
    "ir_influence_mean",
    "quality_index_mean",
)
"""Context features computed from the IMERG fields and quality channels alone."""

RADAR_FEATURES: tuple[str, ...] = (
    "wet_fraction_radar",
    "mean_rate_radar",
    "mean_wet_rate_radar",
    "p99_rate_radar",
    "convective_fraction",
    "rain_area_km2",
    "n_rain_objects",
    "mean_object_area_km2",
)
"""Context features computed from the radar (the convective share, the rain objects and
the rain area are radar properties in :mod:`rainscore.analysis.features`)."""

TIME_FEATURES: tuple[str, ...] = ("time", "hour", "solar_hour", "day_of_year", "season")
"""The calendar of the half hour."""

TRUTH_FEATURES: tuple[str, ...] = ("true_regime",)
"""What only a synthetic world's truth knows."""

_FEATURE_SOURCES: dict[str, Source] = (
    dict.fromkeys(IMERG_FEATURES, "imerg")
    | dict.fromkeys(RADAR_FEATURES, "radar")
    | dict.fromkeys(TIME_FEATURES, "time")
    | dict.fromkeys(TRUTH_FEATURES, "truth")
)


class RadarSideInputError(ValueError):
    """A model or baseline was given an input that is not from the IMERG side."""


def column_source(name: str) -> Source:
    """The source of one column of ``map_scores``.

    Args:
        name: A column name (``fss_t0.5_w9``, ``mean_rate_imerg``, ``hour``…).

    Returns:
        ``imerg``, ``radar``, ``imerg_and_radar`` (every score and flag of the score
        catalogue), ``time`` or ``truth``.

    Raises:
        KeyError: ``name`` is neither a context feature of this module nor a score of the
            catalogue (a new column must be given a source here before a model may read it).
    """
    source = _FEATURE_SOURCES.get(name)
    if source is not None:
        return source
    if has_score_info(name):
        return "imerg_and_radar"
    raise KeyError(
        f"column {name!r} of map_scores has no known source: neither a context feature of "
        "rainscore.analysis.sources nor a score of rainscore.scores.SCORES"
    )


def imerg_side_columns(columns: Iterable[str]) -> list[str]:
    """The columns a model may read: those whose source is ``imerg`` or ``time``, in order.

    Args:
        columns: Column names of a ``map_scores``-like table.

    Returns:
        The IMERG-side and calendar columns among them.

    Raises:
        KeyError: A column without a known source (:func:`column_source`).
    """
    return [c for c in columns if column_source(c) in ("imerg", "time")]


def require_imerg_side(columns: Iterable[str], what: str) -> None:
    """Refuse any input column that is not from the IMERG side (or the calendar).

    Args:
        columns: The input columns of a model or baseline.
        what: What reads them, for the message (``"gradient_boosting features"``).

    Raises:
        RadarSideInputError: Naming each offending column and its source.
        KeyError: A column without a known source.
    """
    bad = {c: column_source(c) for c in columns}
    bad = {c: s for c, s in bad.items() if s not in ("imerg", "time")}
    if bad:
        listed = ", ".join(f"{c!r} ({s})" for c, s in bad.items())
        raise RadarSideInputError(
            f"{what}: inputs must come from the IMERG side only (sources imerg or time); "
            f"refused: {listed}"
        )


def imerg_features(
    cube: xr.Dataset,
    *,
    config: FeatureConfig | None = None,
    block_size: int = BLOCK_MAPS,
) -> pd.DataFrame:
    """The IMERG-side context features of every map of the IMERG cube, over the whole box.

    The same columns, names and definitions as ``map_scores``' ``imerg`` and ``time``
    columns (:func:`rainscore.analysis.features.map_features`), with the scoring mask
    replaced by the cells where IMERG precipitation is finite: no radar field or radar
    mask enters. Maps are read ``block_size`` at a time (a lazily opened store reads only
    those).

    Args:
        cube: The IMERG cube (``imerg_cube``): ``precipitation`` and, when present,
            ``mw_source``, ``pmw_age_forward``, ``ir_influence``, ``quality_index``.
        config: Feature thresholds (those of the scoring, ``scoring.features``).
        block_size: Maps per block.

    Returns:
        One row per time, indexed by ``time``: the ``imerg`` and ``time`` columns.

    Raises:
        KeyError: ``cube`` has no ``precipitation``.
    """
    if "precipitation" not in cube:
        raise KeyError(f"imerg_features: the cube has no 'precipitation' ({list(cube.data_vars)})")
    precipitation = cube["precipitation"]
    fields = ("mw_source", "pmw_age_forward", "ir_influence", "quality_index")
    pseudo = xr.Dataset(
        {
            "imerg": precipitation,
            # map_features needs a radar field; the radar-side columns it gives are dropped
            "radar": precipitation,
            "mask": xr.ones_like(precipitation, dtype=bool),
        }
        | {name: cube[name] for name in fields if name in cube},
        attrs=cube.attrs,
    )
    table = map_features(pseudo, config=config, block_size=block_size)
    keep = [c for c in table.columns if _FEATURE_SOURCES.get(c) in ("imerg", "time")]
    return table[keep]
