"""One wide table of every score of every map: :func:`score_maps`."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.scores.categorical import CATEGORICAL_SCORES, CONTINGENCY_COUNTS, categorical_arrays
from rainscore.scores.config import ScoreConfig
from rainscore.scores.continuous import CONTINUOUS_SCORES, continuous_arrays
from rainscore.scores.neighbourhood import fss_arrays
from rainscore.scores.object_based import sal_arrays
from rainscore.scores.pairing import MAPS_PER_CHUNK, SPATIAL_DIMS, pair_fields
from rainscore.scores.wetness import dryness

BLOCK_MAPS = 480
"""Maps read at once by :func:`score_maps` from lazily loaded inputs."""

__all__ = ["SAL_COLUMNS", "ScoreColumn", "parse_score_column", "score_column", "score_maps"]

SAL_COLUMNS: dict[str, str] = {
    "structure": "sal_s",
    "amplitude": "sal_a",
    "location": "sal_l",
    "location_l1": "sal_l1",
    "location_l2": "sal_l2",
    "n_objects_forecast": "sal_n_objects_forecast",
    "n_objects_obs": "sal_n_objects_obs",
    "object_threshold_forecast": "sal_threshold_forecast",
    "object_threshold_obs": "sal_threshold_obs",
}
"""Column of the score table of each output of :func:`~rainscore.scores.sal`."""


def score_column(score: str, threshold: float | None = None, window: int | None = None) -> str:
    """Name of a column of the score table, e.g. ``csi_t1.0`` or ``fss_t1.0_w5``.

    Args:
        score: Score name (``csi``, ``fss``, ``hits``, ...).
        threshold: Event threshold (mm/h), written as a float (``1`` gives ``t1.0``).
        window: FSS window (cells).

    Returns:
        The column name.
    """
    name = score
    if threshold is not None:
        name += f"_t{float(threshold)}"
    if window is not None:
        name += f"_w{int(window)}"
    return name


class ScoreColumn(NamedTuple):
    """A column name of the score table taken apart (:func:`parse_score_column`)."""

    score: str
    threshold: float | None
    window: int | None


_COLUMN = re.compile(
    r"(?P<score>.+?)(?:_t(?P<threshold>\d+(?:\.\d+)?(?:e[+-]?\d+)?))?(?:_w(?P<window>\d+))?"
)


def parse_score_column(column: str) -> ScoreColumn:
    """The inverse of :func:`score_column`: ``fss_t1.0_w5`` → ``("fss", 1.0, 5)``.

    Only a ``_t`` followed by a number is a threshold and only a final ``_w`` followed by an
    integer a window, so ``sal_threshold_obs`` or ``rel_bias_wet`` are plain score names.

    Args:
        column: A column name of the score table.

    Returns:
        The score name (with its ``_wet`` suffix if any), threshold (mm/h) and window (cells),
        ``None`` where the name has none.
    """
    match = _COLUMN.fullmatch(column)
    if match is None:  # only the empty string
        raise ValueError(f"{column!r} is not a score column name")
    threshold, window = match["threshold"], match["window"]
    return ScoreColumn(
        match["score"],
        float(threshold) if threshold is not None else None,
        int(window) if window is not None else None,
    )


def _chunk_columns(
    forecast: np.ndarray, obs: np.ndarray, valid: np.ndarray, config: ScoreConfig
) -> dict[str, np.ndarray]:
    """All configured scores of a chunk of ``(n, ny, nx)`` maps, as named columns."""
    n = forecast.shape[0]
    thresholds = np.asarray(config.thresholds)
    windows = np.asarray(config.windows)
    flat = (forecast.reshape(n, -1), obs.reshape(n, -1), valid.reshape(n, -1))
    dry = dryness(
        *flat, wet_threshold=config.wet_threshold, min_wet_fraction=config.min_wet_fraction
    )
    columns: dict[str, np.ndarray] = {
        "n_valid": dry.n_valid,
        "n_wet": dry.n_wet,
        "wet_fraction": dry.wet_fraction,
        "both_dry": dry.both_dry,
        "too_dry": dry.too_dry,
        "no_data": dry.no_data,
    }
    if "continuous" in config.families:
        cont = continuous_arrays(*flat, wet_threshold=config.wet_threshold, dry=dry)
        for name in CONTINUOUS_SCORES:
            columns[name] = cont[name]
        for name in CONTINUOUS_SCORES:
            columns[name + "_wet"] = cont[name + "_wet"]
    if "categorical" in config.families:
        cat = categorical_arrays(
            *flat,
            thresholds=thresholds,
            wet_threshold=config.wet_threshold,
            min_wet_fraction=config.min_wet_fraction,
            dry=dry,
        )
        for name in (*CATEGORICAL_SCORES, *CONTINGENCY_COUNTS):
            for k, t in enumerate(thresholds):
                columns[score_column(name, t)] = cat[name][:, k]
    if "fss" in config.families:
        neighbourhood = fss_arrays(
            forecast,
            obs,
            valid,
            thresholds=thresholds,
            windows=windows,
            wet_threshold=config.wet_threshold,
            min_wet_fraction=config.min_wet_fraction,
            dry=dry,
        )
        for k, t in enumerate(thresholds):
            for j, w in enumerate(windows):
                columns[score_column("fss", t, w)] = neighbourhood["fss"][:, k, j]
        for name, prefix in (
            ("fss_uniform", "fss_uniform"),
            ("base_rate", "fss_base_rate"),
            ("skilful_scale", "fss_skilful_scale"),
        ):
            for k, t in enumerate(thresholds):
                columns[score_column(prefix, t)] = neighbourhood[name][:, k]
    if "sal" in config.families:
        objects = sal_arrays(
            forecast,
            obs,
            valid,
            wet_threshold=config.wet_threshold,
            threshold_ratio=config.sal_threshold_ratio,
            quantile=config.sal_quantile,
            min_object_pixels=config.sal_min_object_pixels,
            dry=dry,
        )
        for name, column in SAL_COLUMNS.items():
            columns[column] = objects[name]
    return columns


def score_maps(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    *,
    mask: xr.DataArray | None = None,
    config: ScoreConfig | None = None,
    chunk_size: int = MAPS_PER_CHUNK,
    block_size: int = BLOCK_MAPS,
) -> pd.DataFrame:
    """Every configured score of every map, as one wide table indexed by ``time``.

    Columns (for thresholds ``t`` and windows ``w`` of ``config``):

    - flags: ``n_valid``, ``n_wet``, ``wet_fraction``, ``both_dry``, ``too_dry``,
      ``no_data`` (no valid pixel: every score NaN);
    - continuous (:func:`~rainscore.scores.continuous_scores`): ``me``, ``rel_bias``,
      ``mae``, ``rmse``, ``pearson``, ``spearman``, ``kge`` and the same with ``_wet``;
    - categorical (:func:`~rainscore.scores.categorical_scores`): ``pod_t{t}``,
      ``far_t{t}``, ``csi_t{t}``, ``ets_t{t}``, ``hss_t{t}``, ``frequency_bias_t{t}``,
      ``hits_t{t}``, ``misses_t{t}``, ``false_alarms_t{t}``, ``correct_negatives_t{t}``;
    - FSS (:func:`~rainscore.scores.fss`): ``fss_t{t}_w{w}``, ``fss_uniform_t{t}``,
      ``fss_base_rate_t{t}``, ``fss_skilful_scale_t{t}``;
    - SAL (:func:`~rainscore.scores.sal`): ``sal_s``, ``sal_a``, ``sal_l``, ``sal_l1``,
      ``sal_l2``, ``sal_n_objects_forecast``, ``sal_n_objects_obs``,
      ``sal_threshold_forecast``, ``sal_threshold_obs``.

    Thresholds are written as floats (``csi_t1.0``, ``fss_t0.5_w5``). Values equal those of
    the family functions called with the same options; maps are scored in chunks of
    ``chunk_size`` so memory stays flat however long the period. Lazily loaded (dask-backed)
    inputs are read ``block_size`` maps at a time (``.load()`` of a time block), scored, and
    the block tables concatenated: the period is never in memory, and the table is the same.

    Args:
        forecast: Forecast rain rates (mm/h), dims ``(time, lat, lon)``; NaN = missing.
        obs: Observed rain rates (mm/h), same dims and coordinates; NaN = missing.
        mask: Optional boolean mask (True = scoreable), dims ``(lat, lon)`` or
            ``(time, lat, lon)``.
        config: What to compute; defaults to ``ScoreConfig()``.
        chunk_size: Maps scored at once.
        block_size: Maps read at once from lazily loaded inputs.

    Returns:
        DataFrame indexed by ``time``, one row per map, one column per score.

    Raises:
        TypeError: Inputs are not DataArrays, or the mask is not boolean.
        ValueError: The fields are not ``(time, lat, lon)``, inputs do not match, or a rain
            rate is negative.
    """
    config = config or ScoreConfig()
    if set(forecast.dims) != {"time", *SPATIAL_DIMS}:
        raise ValueError(f"score_maps expects dims (time, lat, lon), got forecast {forecast.dims}")
    if any(_is_lazy(da) for da in (forecast, obs, mask)):
        return _score_lazy_blocks(forecast, obs, mask, config, chunk_size, block_size)
    pair = pair_fields(forecast, obs, mask=mask, reduce_dims=SPATIAL_DIMS)
    parts = [
        _chunk_columns(pair.forecast[c], pair.obs[c], pair.valid[c], config)
        for c in pair.chunks(chunk_size)
    ]
    columns = (
        parts[0]
        if len(parts) == 1
        else {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    )
    times = pair.map_indexes.get("time")
    if times is not None and type(times.to_pandas_index()) is pd.DatetimeIndex:
        index = times.to_pandas_index().rename("time")  # the input's, not rebuilt
    elif "time" in pair.map_coords:
        index = pd.Index(pair.map_coords["time"].values, name="time")
    else:
        index = pd.RangeIndex(pair.n_maps, name="time")
    # Labelled by position, then named from a cached column index (a shallow copy, whose
    # name is the table's own): building an index of the names costs more than scoring a
    # small map.
    table = pd.DataFrame(dict(enumerate(columns.values())), index=index)
    table.columns = _column_index(tuple(columns)).copy()
    return table


def _is_lazy(da: xr.DataArray | None) -> bool:
    """Whether ``da`` is a chunked (dask-backed) DataArray, to be read a block at a time.

    A DataArray holding a NumPy array is not, and says so at once (``DataArray.chunks``
    costs about 15 µs, a tenth of scoring one small map).
    """
    return da is not None and type(da.data) is not np.ndarray and da.chunks is not None


@functools.lru_cache(maxsize=16)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The column index of a score table with these columns."""
    return pd.Index(names)


def _score_lazy_blocks(
    forecast: xr.DataArray,
    obs: xr.DataArray,
    mask: xr.DataArray | None,
    config: ScoreConfig,
    chunk_size: int,
    block_size: int,
) -> pd.DataFrame:
    """:func:`score_maps` of lazily loaded inputs, read and scored a time block at a time."""
    if block_size < 1:
        raise ValueError(f"score_maps: block_size must be >= 1, got {block_size}")
    n = forecast.sizes["time"]
    for name, da in (("obs", obs), ("mask", mask)):
        if da is not None and "time" in da.dims and da.sizes["time"] != n:
            raise ValueError(
                f"score_maps: forecast has {n} times but {name} has {da.sizes['time']}"
            )

    def block(da: xr.DataArray, i: int) -> xr.DataArray:
        return (da.isel(time=slice(i, i + block_size)) if "time" in da.dims else da).load()

    tables = [
        score_maps(
            block(forecast, i),
            block(obs, i),
            mask=None if mask is None else block(mask, i),
            config=config,
            chunk_size=chunk_size,
        )
        for i in range(0, max(n, 1), block_size)
    ]
    return pd.concat(tables) if len(tables) > 1 else tables[0]
