"""The catalogue of every column of the score table: family, direction, range and units.

One table, read by everything that needs to know what a score means: the descriptive
analysis (which scores can rank maps, which are bounded), the validation suite of
``map_scores`` (the range of every column), and the models (the sign of a loss, the range
of an output). A column name is looked up by its score name without threshold, window and
``_wet`` suffix (``fss_t0.5_w9`` → ``fss``, ``pearson_wet`` → ``pearson``)::

    >>> score_info("fss_t0.5_w9").direction
    'higher'
    >>> score_info("rmse_wet").range
    (0.0, inf)

Directions:

- ``higher``: a larger value is a better map (skill scores: FSS, CSI, correlations, KGE);
- ``lower``: a smaller value is a better map (errors: MAE, RMSE, FAR, SAL's L);
- ``best_at``: signed, best at :attr:`ScoreInfo.best` (mean error and relative bias at 0,
  SAL's S and A at 0, frequency bias at 1): these cannot rank maps;
- ``none``: not a measure of quality (counts, flags, object thresholds, reference lines).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rainscore.scores.categorical import CATEGORICAL_SCORES, CONTINGENCY_COUNTS
from rainscore.scores.continuous import CONTINUOUS_SCORES
from rainscore.scores.object_based import SAL_SCORES
from rainscore.scores.table import SAL_COLUMNS, parse_score_column

__all__ = ["DIRECTIONS", "SCORES", "ScoreInfo", "has_score_info", "score_info"]

Direction = Literal["higher", "lower", "best_at", "none"]
DIRECTIONS: tuple[str, ...] = ("higher", "lower", "best_at", "none")
"""The directions of :attr:`ScoreInfo.direction` (module docstring)."""

_INF = math.inf


@dataclass(frozen=True)
class ScoreInfo:
    """What one score (or flag) of the score table means.

    Attributes:
        name: Score name, without threshold, window and ``_wet`` (``fss``, ``pearson``).
        family: ``continuous``, ``categorical``, ``fss``, ``sal`` (the families of
            :data:`rainscore.scores.FAMILIES`) or ``flags`` (the map's pixel counts and
            dryness flags).
        direction: ``higher``, ``lower``, ``best_at`` or ``none`` (module docstring).
        range: Inclusive ``(min, max)`` of the values (``±inf`` where unbounded).
        units: ``1`` (dimensionless), ``mm/h``, ``grid cells`` or ``pixels``.
        long_name: What it is, in words.
        best: The perfect value, where there is one.
        per_threshold: The column carries a threshold (``_t{t}``).
        per_window: The column carries a window (``_w{w}``).
        wet_variant: The score also exists over wet pixels only (``_wet``).
    """

    name: str
    family: str
    direction: Direction
    range: tuple[float, float]
    units: str
    long_name: str
    best: float | None = None
    per_threshold: bool = False
    per_window: bool = False
    wet_variant: bool = False

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.name}: direction must be one of {DIRECTIONS}")
        lo, hi = self.range
        object.__setattr__(self, "range", (float(lo), float(hi)))

    @property
    def bounded(self) -> bool:
        """Whether both ends of the range are finite."""
        return all(math.isfinite(v) for v in self.range)

    @property
    def ranks_maps(self) -> bool:
        """Whether the score orders maps by quality (``higher`` or ``lower`` is better)."""
        return self.direction in ("higher", "lower")

    @property
    def higher_is_better(self) -> bool:
        """Whether a larger value is a better map."""
        return self.direction == "higher"


def _continuous(name: str, direction: Direction, lo: float, hi: float, best: float) -> ScoreInfo:
    attrs = CONTINUOUS_SCORES[name]
    units, long_name = attrs["units"], attrs["long_name"]
    return ScoreInfo(
        name, "continuous", direction, (lo, hi), units, long_name, best, wet_variant=True
    )


def _categorical(
    name: str, direction: Direction, lo: float, hi: float, best: float | None
) -> ScoreInfo:
    if name in CONTINGENCY_COUNTS:
        units, long_name = "pixels", f"contingency count: {name.replace('_', ' ')}"
    else:
        units, long_name = CATEGORICAL_SCORES[name]["units"], CATEGORICAL_SCORES[name]["long_name"]
    return ScoreInfo(
        name, "categorical", direction, (lo, hi), units, long_name, best, per_threshold=True
    )


def _sal(name: str, direction: Direction, lo: float, hi: float, best: float | None) -> ScoreInfo:
    attrs = SAL_SCORES[next(k for k, v in SAL_COLUMNS.items() if v == name)]
    return ScoreInfo(name, "sal", direction, (lo, hi), attrs["units"], attrs["long_name"], best)


# Units and long names come from the families' own output attributes (CONTINUOUS_SCORES,
# CATEGORICAL_SCORES, SAL_SCORES): one spelling for the table and the xarray outputs.
_ENTRIES: tuple[ScoreInfo, ...] = (
    ScoreInfo("n_valid", "flags", "none", (0, _INF), "pixels", "number of valid pixels"),
    ScoreInfo("n_wet", "flags", "none", (0, _INF), "pixels", "valid pixels wet in either field"),
    ScoreInfo("wet_fraction", "flags", "none", (0, 1), "1", "fraction of valid pixels wet"),
    ScoreInfo("both_dry", "flags", "none", (0, 1), "1", "valid pixels, none wet in either field"),
    ScoreInfo("too_dry", "flags", "none", (0, 1), "1", "wet fraction below min_wet_fraction"),
    ScoreInfo("no_data", "flags", "none", (0, 1), "1", "no valid pixel"),
    _continuous("me", "best_at", -_INF, _INF, 0.0),
    _continuous("rel_bias", "best_at", -1, _INF, 0.0),
    _continuous("mae", "lower", 0, _INF, 0.0),
    _continuous("rmse", "lower", 0, _INF, 0.0),
    _continuous("pearson", "higher", -1, 1, 1.0),
    _continuous("spearman", "higher", -1, 1, 1.0),
    _continuous("kge", "higher", -_INF, 1, 1.0),
    _categorical("pod", "higher", 0, 1, 1.0),
    _categorical("far", "lower", 0, 1, 0.0),
    _categorical("csi", "higher", 0, 1, 1.0),
    _categorical("ets", "higher", -1 / 3, 1, 1.0),
    _categorical("hss", "higher", -1, 1, 1.0),
    _categorical("frequency_bias", "best_at", 0, _INF, 1.0),
    _categorical("hits", "none", 0, _INF, None),
    _categorical("misses", "none", 0, _INF, None),
    _categorical("false_alarms", "none", 0, _INF, None),
    _categorical("correct_negatives", "none", 0, _INF, None),
    ScoreInfo(
        "fss",
        "fss",
        "higher",
        (0, 1),
        "1",
        "fractions skill score",
        1.0,
        per_threshold=True,
        per_window=True,
    ),
    ScoreInfo(
        "fss_uniform",
        "fss",
        "none",
        (0.5, 1),
        "1",
        "useful-skill FSS 0.5 + base_rate / 2",
        per_threshold=True,
    ),
    ScoreInfo(
        "fss_base_rate",
        "fss",
        "none",
        (0, 1),
        "1",
        "observed event fraction",
        per_threshold=True,
    ),
    ScoreInfo(
        "fss_skilful_scale",
        "fss",
        "lower",
        (1, _INF),
        "grid cells",
        "smallest window with fss >= fss_uniform",
        1.0,
        per_threshold=True,
    ),
    _sal("sal_s", "best_at", -2, 2, 0.0),
    _sal("sal_a", "best_at", -2, 2, 0.0),
    _sal("sal_l", "lower", 0, 2, 0.0),
    _sal("sal_l1", "lower", 0, 1, 0.0),
    _sal("sal_l2", "lower", 0, 1, 0.0),
    _sal("sal_n_objects_forecast", "none", 0, _INF, None),
    _sal("sal_n_objects_obs", "none", 0, _INF, None),
    _sal("sal_threshold_forecast", "none", 0, _INF, None),
    _sal("sal_threshold_obs", "none", 0, _INF, None),
)

SCORES: dict[str, ScoreInfo] = {info.name: info for info in _ENTRIES}
"""Every score and flag of the score table, by name (:attr:`ScoreInfo.name`)."""


def _lookup(column: str) -> ScoreInfo | str:
    """The entry of a column, or why there is none."""
    parsed = parse_score_column(column)
    name = parsed.score
    info = SCORES.get(name)
    if info is None and name.endswith("_wet"):
        info = SCORES.get(name.removesuffix("_wet"))
        if info is not None and not info.wet_variant:
            return f"{info.name} has no _wet variant"
    if info is None:
        return f"{name!r} is not a score of the catalogue (rainscore.scores.SCORES)"
    for part, wanted, given in (
        ("threshold (_t…)", info.per_threshold, parsed.threshold),
        ("window (_w…)", info.per_window, parsed.window),
    ):
        if wanted != (given is not None):
            return f"{info.name} {'needs a' if wanted else 'has no'} {part}"
    return info


def has_score_info(column: str) -> bool:
    """Whether ``column`` is a column of the score table described by the catalogue."""
    return isinstance(_lookup(column), ScoreInfo)


def score_info(column: str) -> ScoreInfo:
    """The catalogue entry of a column of the score table.

    Args:
        column: A column name (``fss_t0.5_w9``, ``pearson_wet``, ``hits_t1.0``).

    Returns:
        Its entry (the same for every threshold, window and ``_wet`` variant).

    Raises:
        ValueError: Naming the column and why it is not a score column.
    """
    found = _lookup(column)
    if isinstance(found, str):
        raise ValueError(f"{column!r} is not a score column: {found}")
    return found
