"""Categorical (yes/no) scores of rain events at thresholds, from 2 x 2 contingency tables.

An event is a rain rate ``>= threshold`` (in both fields). Over the valid pixels of a map:
``hits`` (both events), ``misses`` (observed only), ``false_alarms`` (forecast only) and
``correct_negatives`` (neither). The scores follow Jolliffe and Stephenson (2012, ch. 3):

- ``pod`` = H / (H + M), probability of detection;
- ``far`` = F / (H + F), false alarm ratio;
- ``csi`` = H / (H + M + F), critical success index (threat score);
- ``ets`` = (H - H_r) / (H + M + F - H_r) with H_r = (H + M)(H + F) / N, equitable threat
  score (Gilbert skill score; Schaefer 1990);
- ``hss`` = 2 (H R - F M) / ((H + M)(M + R) + (H + F)(F + R)), Heidke skill score;
- ``frequency_bias`` = (H + F) / (H + M).

A score whose denominator is 0 is NaN, never 0. Maps that are both dry or too dry (see
:mod:`rainscore.scores.wetness`) get NaN for every score; their counts are still reported.

References:
    Jolliffe, I. T. and Stephenson, D. B. (2012). *Forecast Verification: A Practitioner's
    Guide in Atmospheric Science*, 2nd ed., Wiley, ch. 3.

    Schaefer, J. T. (1990). The critical success index as an indicator of warning skill.
    *Wea. Forecasting* 5, 570-575, doi:10.1175/1520-0434(1990)005<0570:TCSIAA>2.0.CO;2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from rainscore.scores.pairing import (
    SPATIAL_DIMS,
    PairedFields,
    apply_in_chunks,
    are_numpy_fields,
    assemble_dataset,
    dimension_coordinate,
    pair_arrays,
    pair_fields,
    unstack_maps,
)
from rainscore.scores.wetness import Dryness, dryness, pixel_counts

__all__ = [
    "CATEGORICAL_SCORES",
    "CONTINGENCY_COUNTS",
    "ContingencyAccumulator",
    "categorical_scores",
    "check_thresholds",
]

CONTINGENCY_COUNTS = ("hits", "misses", "false_alarms", "correct_negatives")
"""Names of the four counts of a 2 x 2 contingency table."""

CATEGORICAL_SCORES: dict[str, dict[str, str]] = {
    "pod": {"long_name": "probability of detection", "units": "1"},
    "far": {"long_name": "false alarm ratio", "units": "1"},
    "csi": {"long_name": "critical success index", "units": "1"},
    "ets": {"long_name": "equitable threat score (Gilbert skill score)", "units": "1"},
    "hss": {"long_name": "Heidke skill score", "units": "1"},
    "frequency_bias": {"long_name": "frequency bias (H + F) / (H + M)", "units": "1"},
}
"""Names and attributes of the categorical scores."""


def check_thresholds(thresholds: Sequence[float], name: str = "thresholds") -> np.ndarray:
    """Return thresholds as a float64 array; raise unless finite and strictly increasing.

    Args:
        thresholds: Rain rates (mm/h).
        name: Name of the argument, for the error message.

    Returns:
        The thresholds as a 1-D float64 array.

    Raises:
        ValueError: Empty, not finite, or not strictly increasing.
    """
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    listed = values.tolist()  # a few numbers: Python compares them faster than numpy
    if values.ndim != 1 or not listed or not all(map(math.isfinite, listed)):
        raise ValueError(f"{name} must be a non-empty 1-D list of finite numbers, got {thresholds}")
    if any(a >= b for a, b in itertools.pairwise(listed)):
        raise ValueError(f"{name} must be strictly increasing, got {listed}")
    return values


def contingency_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    thresholds: np.ndarray,
    n_valid: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Contingency counts of ``(n_maps, n_pixels)`` arrays at each threshold.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        thresholds: Event thresholds (mm/h); events are ``>= threshold``.
        n_valid: The valid pixels of each map, if known.

    Returns:
        ``hits``, ``misses``, ``false_alarms``, ``correct_negatives``: int64 ``(n_maps, K)``.
    """
    # Forecast events, observed events and hits at each threshold, counted in one pass.
    events = np.empty((3, thresholds.size, *forecast.shape), dtype=bool)
    for k, threshold in enumerate(thresholds):
        np.greater_equal(forecast, threshold, out=events[0, k])
        np.greater_equal(obs, threshold, out=events[1, k])
        if threshold <= 0:  # invalid pixels hold 0: only then can they be events
            events[:2, k] &= valid
    np.logical_and(events[0], events[1], out=events[2])
    n_forecast, n_obs, hits = pixel_counts(events).transpose(0, 2, 1)
    if n_valid is None:
        n_valid = pixel_counts(valid)
    n_valid = n_valid[:, None]
    return {
        "hits": hits,
        "misses": n_obs - hits,
        "false_alarms": n_forecast - hits,
        "correct_negatives": n_valid - n_forecast - n_obs + hits,
    }


def _score_stack(
    hits: np.ndarray, misses: np.ndarray, false_alarms: np.ndarray, correct_negatives: np.ndarray
) -> np.ndarray:
    """The six scores of :data:`CATEGORICAL_SCORES`, in order, stacked along a first axis."""
    h, m, f, r = np.array([hits, misses, false_alarms, correct_negatives], dtype=np.float64)
    h_m, h_f = h + m, h + f
    h_m_f = h_m + f
    hits_random = _ratio(h_m * h_f, h_m_f + r)
    # np.array of arrays of one shape stacks them as np.stack does, at a third of its cost.
    numerators = np.array([h, f, h, h - hits_random, 2.0 * (h * r - f * m), h_f])
    denominators = np.array(
        [h_m, h_f, h_m_f, h_m_f - hits_random, h_m * (m + r) + h_f * (f + r), h_m]
    )
    return _ratio(numerators, denominators)


def scores_from_counts(
    hits: np.ndarray, misses: np.ndarray, false_alarms: np.ndarray, correct_negatives: np.ndarray
) -> dict[str, np.ndarray]:
    """Categorical scores from contingency counts (any shape); NaN where undefined.

    Args:
        hits: Forecast and observed events.
        misses: Observed but not forecast events.
        false_alarms: Forecast but not observed events.
        correct_negatives: Neither forecast nor observed.

    Returns:
        ``pod``, ``far``, ``csi``, ``ets``, ``hss``, ``frequency_bias`` as float64 arrays.
    """
    return dict(
        zip(
            CATEGORICAL_SCORES,
            _score_stack(hits, misses, false_alarms, correct_negatives),
            strict=True,
        )
    )


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` (of one shape), NaN where the denominator is 0 (never inf,
    never 0)."""
    out = np.full(denominator.shape, np.nan)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def categorical_arrays(
    forecast: np.ndarray,
    obs: np.ndarray,
    valid: np.ndarray,
    *,
    thresholds: np.ndarray,
    wet_threshold: float,
    min_wet_fraction: float,
    dry: Dryness | None = None,
) -> dict[str, np.ndarray]:
    """Counts, scores and dryness flags of ``(n_maps, n_pixels)`` arrays.

    Args:
        forecast: Forecast rain rates, 0 where invalid.
        obs: Observed rain rates, 0 where invalid.
        valid: Validity of each pixel.
        thresholds: Event thresholds (mm/h).
        wet_threshold: Rain rate (mm/h) from which a pixel is wet.
        min_wet_fraction: Minimum wet fraction for a map's scores to count.
        dry: The :func:`~rainscore.scores.wetness.dryness` of these arrays (with the same
            ``min_wet_fraction``), if known.

    Returns:
        Counts and scores ``(n_maps, K)``; ``n_valid``, ``wet_fraction``, ``both_dry``,
        ``too_dry`` ``(n_maps,)``.
    """
    if dry is None:
        dry = dryness(
            forecast, obs, valid, wet_threshold=wet_threshold, min_wet_fraction=min_wet_fraction
        )
    counts = contingency_arrays(forecast, obs, valid, thresholds=thresholds, n_valid=dry.n_valid)
    scores = _score_stack(*(counts[c] for c in CONTINGENCY_COUNTS))
    scored = dry.scored
    if not scored.all():
        scores[:, ~scored] = np.nan
    out: dict[str, np.ndarray] = dict(counts)
    out.update(zip(CATEGORICAL_SCORES, scores, strict=True))
    out.update(
        n_valid=dry.n_valid,
        wet_fraction=dry.wet_fraction,
        both_dry=dry.both_dry,
        too_dry=dry.too_dry,
    )
    return out


def categorical_scores(
    forecast: xr.DataArray | np.ndarray,
    obs: xr.DataArray | np.ndarray,
    *,
    thresholds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0),
    mask: xr.DataArray | np.ndarray | None = None,
    wet_threshold: float = 0.1,
    min_wet_fraction: float = 0.01,
    reduce_dims: Sequence[Hashable] = SPATIAL_DIMS,
) -> xr.Dataset | dict[str, np.ndarray]:
    """POD, FAR, CSI, ETS, HSS and frequency bias of rain events ``>= threshold``.

    Contingency tables are counted over the valid pixels (mask True, both fields finite) of
    each map, at each threshold; see the module docstring for the formulas. A map's scores
    are NaN when it is both dry (no pixel ``>= wet_threshold`` in either field) or too dry
    (``wet_fraction < min_wet_fraction``), and each score is NaN where its denominator is 0.

    Plain NumPy fields, one map ``(lat, lon)`` or maps ``(map, lat, lon)`` as pysteps takes
    them, give plain NumPy results: the same values, to the bit, without the labels.

    Args:
        forecast: Forecast rain rates (mm/h); NaN = missing. Or a 2-D or 3-D NumPy array
            (then ``obs`` too).
        obs: Observed rain rates (mm/h); NaN = missing.
        thresholds: Event thresholds (mm/h), strictly increasing.
        mask: Optional boolean mask (True = scoreable); for NumPy fields a NumPy array of the
            map's or the fields' shape.
        wet_threshold: Rain rate (mm/h) from which a pixel is wet (for the dryness flags).
        min_wet_fraction: Minimum fraction of valid pixels that are wet in either field for
            the scores of a map to count.
        reduce_dims: Dimensions to reduce over; the others (usually ``time``) are kept.
            DataArrays only: NumPy fields are reduced over their last two axes.

    Returns:
        Dataset with dims ``(*kept, threshold)``: the four counts and the six scores; and over
        the kept dims: ``n_valid``, ``wet_fraction``, ``both_dry``, ``too_dry``. For NumPy
        fields, a dict of the same names: NumPy arrays ``(map, threshold)`` and ``(map,)``,
        without the leading map axis for one 2-D map (then NumPy scalars for the per-map
        values).

    Raises:
        TypeError: Inputs are not both DataArrays or both NumPy arrays, or the mask is not
            boolean.
        ValueError: Bad thresholds, mismatched inputs, negative rain rates, or
            ``reduce_dims`` given with NumPy fields.

    References:
        Jolliffe, I. T. and Stephenson, D. B. (2012), *Forecast Verification*, 2nd ed., ch. 3.
    """
    thr = check_thresholds(thresholds)
    _check_fraction(min_wet_fraction)
    options = {
        "thresholds": thr,
        "wet_threshold": wet_threshold,
        "min_wet_fraction": min_wet_fraction,
    }
    if are_numpy_fields(forecast, obs):
        if tuple(reduce_dims) != SPATIAL_DIMS:
            raise ValueError(
                f"reduce_dims applies to DataArrays, got {tuple(reduce_dims)} with numpy "
                "fields (reduced over their last two axes)"
            )
        fields = pair_arrays(forecast, obs, mask=mask)
        arrays = apply_in_chunks(categorical_arrays, *fields, flat=True, **options)
        return unstack_maps(arrays, forecast.ndim == 2)
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=reduce_dims)
    arrays = pair.apply(categorical_arrays, flat=True, **options)
    return _to_dataset(arrays, pair, thr, wet_threshold, min_wet_fraction)


def _check_fraction(min_wet_fraction: float) -> None:
    if not 0.0 <= min_wet_fraction <= 1.0:
        raise ValueError(f"min_wet_fraction must be in [0, 1], got {min_wet_fraction}")


def _to_dataset(
    arrays: dict[str, np.ndarray],
    pair: PairedFields,
    thr: np.ndarray,
    wet_threshold: float,
    min_wet_fraction: float,
) -> xr.Dataset:
    coords = {"threshold": (thr, "mm/h")}
    attrs = dict(CATEGORICAL_SCORES)
    attrs.update({c: {"long_name": f"number of {c.replace('_', ' ')}"} for c in CONTINGENCY_COUNTS})
    return pair.to_dataset(
        arrays,
        extra_coords=coords,
        attrs=attrs,
        dataset_attrs={
            "event_definition": "rain rate >= threshold",
            "wet_threshold": wet_threshold,
            "min_wet_fraction": min_wet_fraction,
        },
    )


@dataclass
class ContingencyAccumulator:
    """Streaming contingency tables: init, accumulate maps, merge partial tables, compute.

    For aggregate scores over many maps (e.g. a season) without holding them all, in the
    style of pysteps' ``det_cat_fct_init/accum/merge/compute``. Counts are summed over every
    valid pixel of every map given to :meth:`accumulate`; no dryness gate is applied (dry maps
    add correct negatives, as they should in an aggregate table).

    Attributes:
        thresholds: Event thresholds (mm/h).
        counts: The four counts, int64 arrays of shape ``(K,)``.
    """

    thresholds: Sequence[float] = (0.1, 0.5, 1.0, 2.0, 5.0)
    counts: dict[str, np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        self.thresholds = tuple(check_thresholds(self.thresholds).tolist())
        k = len(self.thresholds)
        self.counts = {c: np.zeros(k, dtype=np.int64) for c in CONTINGENCY_COUNTS}

    def accumulate(
        self,
        forecast: xr.DataArray | np.ndarray,
        obs: xr.DataArray | np.ndarray,
        *,
        mask: xr.DataArray | np.ndarray | None = None,
    ) -> ContingencyAccumulator:
        """Add the counts of all valid pixels of ``forecast`` against ``obs``.

        Args:
            forecast: Forecast rain rates (mm/h), any dims; or a 2-D ``(lat, lon)`` or 3-D
                ``(map, lat, lon)`` NumPy array (then ``obs`` too).
            obs: Observed rain rates (mm/h), same dims and coordinates.
            mask: Optional boolean mask (True = scoreable); for NumPy fields a NumPy array of
                the map's or the fields' shape.

        Returns:
            ``self``, updated.
        """
        thresholds = np.asarray(self.thresholds)
        if are_numpy_fields(forecast, obs):
            fields = (a.reshape(1, -1) for a in pair_arrays(forecast, obs, mask=mask))
            counts = contingency_arrays(*fields, thresholds=thresholds)
        else:
            pair = pair_fields(forecast, obs, mask=mask, reduce_dims=tuple(forecast.dims))
            counts = pair.apply(contingency_arrays, flat=True, thresholds=thresholds)
        for name in CONTINGENCY_COUNTS:
            self.counts[name] += counts[name].sum(axis=0)
        return self

    def merge(self, other: ContingencyAccumulator) -> ContingencyAccumulator:
        """Return a new accumulator holding the counts of ``self`` and ``other``.

        Args:
            other: An accumulator with the same thresholds.

        Returns:
            The merged accumulator.

        Raises:
            ValueError: The thresholds differ.
        """
        if tuple(other.thresholds) != tuple(self.thresholds):
            raise ValueError(
                f"cannot merge contingency tables with thresholds {self.thresholds} "
                f"and {other.thresholds}"
            )
        merged = ContingencyAccumulator(self.thresholds)
        for name in CONTINGENCY_COUNTS:
            merged.counts[name] = self.counts[name] + other.counts[name]
        return merged

    def compute_arrays(self) -> dict[str, np.ndarray]:
        """Scores of the accumulated table as NumPy arrays (the values of :meth:`compute`).

        Returns:
            The four counts (copies: int64) and the six scores (float64), arrays ``(K,)`` by
            name.
        """
        counts = {name: values.copy() for name, values in self.counts.items()}
        return counts | scores_from_counts(*(counts[c] for c in CONTINGENCY_COUNTS))

    def compute(self) -> xr.Dataset:
        """Scores of the accumulated table.

        Returns:
            Dataset with dim ``threshold``: the four counts and the six scores.
        """
        variables: dict[Hashable, xr.Variable] = {
            name: xr.Variable("threshold", values, fastpath=True)
            for name, values in self.compute_arrays().items()
        }
        index, coord = dimension_coordinate("threshold", self.thresholds, "mm/h")
        variables["threshold"] = coord.copy(deep=False)
        return assemble_dataset(
            variables, {"threshold"}, {"threshold": index}, sizes={"threshold": coord.size}
        )
