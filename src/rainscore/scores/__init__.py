"""Verification scores of rain-rate maps against a reference: ``rainscore.scores``.

A pure library (no Kedro): numpy on the arrays under xarray objects, vectorised over maps.

Conventions, the same in every function:

- **Inputs.** ``forecast`` (e.g. IMERG) and ``obs`` (e.g. radar) are DataArrays of rain rates
  in mm/h with the same dims and identical coordinates, usually ``(time, lat, lon)``; dims
  are addressed by name. An optional boolean ``mask`` (dims a subset, e.g. ``(lat, lon)`` or
  ``(time, lat, lon)``) is True where a pixel may be scored.
- **Valid pixels.** A pixel counts only where the mask is True and both fields are finite.
  Everywhere else it is excluded: from every sum and count, from the denominators of the
  FSS fractions, from the quantile and the objects of SAL. The values of excluded pixels
  never change a score.
- **Events** are rain rates ``>= threshold`` (categorical scores, FSS, SAL objects).
- **Wet** pixels are valid with **either** field ``>= wet_threshold`` (0.1 mm/h).
- **Both-dry maps** (valid pixels, none wet) are flagged ``both_dry`` and get NaN for every
  ratio score (relative bias, correlations, KGE, all categorical, FSS and SAL scores), never a
  silent 0. Any score whose denominator is 0 is NaN. Maps with no valid pixel are flagged
  ``no_data`` (not ``both_dry``) and every score of them is NaN.
- **Near-dry maps**: categorical and FSS scores need ``wet_fraction >= min_wet_fraction``
  (0.01 by default); below it they are NaN and the map is flagged ``too_dry``.
- **FSS windows** are odd squares truncated at the map border and at invalid pixels:
  fractions are events / valid pixels in the window (MET style), never zero-padded.
- **Distances** (SAL) are in grid cells.

:data:`SCORES` is the catalogue of every column of the score table (family, direction,
range, units; :func:`score_info` looks a column up): the analysis, the validation suites and
the models read it.

Public API: :func:`continuous_scores`, :func:`categorical_scores`, :func:`fss`, :func:`sal`,
:func:`score_maps` with :class:`ScoreConfig`, :class:`TargetConfig` (the target score),
and :class:`ContingencyAccumulator` for aggregate contingency tables over many maps.
``docs/scores.md`` gives the formulas and how they differ from pysteps.
"""

from rainscore.scores.catalogue import SCORES, ScoreInfo, has_score_info, score_info
from rainscore.scores.categorical import ContingencyAccumulator, categorical_scores
from rainscore.scores.config import FAMILIES, ScoreConfig
from rainscore.scores.continuous import continuous_scores
from rainscore.scores.neighbourhood import fss
from rainscore.scores.object_based import sal
from rainscore.scores.pairing import SPATIAL_DIMS, check_pair
from rainscore.scores.parallel import score_maps_parallel
from rainscore.scores.table import ScoreColumn, parse_score_column, score_column, score_maps
from rainscore.scores.target import TargetConfig

__all__ = [
    "FAMILIES",
    "SCORES",
    "SPATIAL_DIMS",
    "ContingencyAccumulator",
    "ScoreColumn",
    "ScoreConfig",
    "ScoreInfo",
    "TargetConfig",
    "categorical_scores",
    "check_pair",
    "continuous_scores",
    "fss",
    "has_score_info",
    "parse_score_column",
    "sal",
    "score_column",
    "score_info",
    "score_maps",
    "score_maps_parallel",
]
