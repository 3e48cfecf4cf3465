"""Context features of each colocated map: rain, satellite presence, time, regime.

One row per half hour, indexed by ``time``: the quantities a scientist relates scores to
(DESIGN §1.5). Every feature is computed over the scoring mask (cells where the radar is
valid), so the features describe exactly the pixels the scores saw.

Conventions:
- wet means ``>= wet_threshold`` (0.1 mm/h by default), as for the scores;
- ``convective_fraction`` is the fraction of the radar's wet area at or above
  ``convective_threshold`` (5 mm/h by default: at 0.1° and 30 minutes, convective cores are
  smoothed well below the 10 mm/h used at 1 km);
- rain objects are 8-connected wet radar cells; ``rain_area_km2`` is the wet radar area;
  ``n_rain_objects`` is a float count so that it can be missing;
- a map without any scoreable cell (``n_valid == 0``) is unknown, not dry: every feature
  computed from its cells is missing (NaN; ``sensors_present`` is null), never 0 or ``""``;
- PMW statistics use ``mw_source > 0`` (a passive-microwave observation in this half hour)
  and ``pmw_age_forward`` (minutes since the last one; NaN where unknown is left out);
- ``hour`` is the UTC hour of the start of the half hour (0.0, 0.5, …, 23.5);
  ``solar_hour`` adds the box centre's longitude / 15.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from pandas.api.extensions import ExtensionArray
from scipy import ndimage

from rainscore.grids.regrid import lonlat_cell_area
from rainscore.params import dataclass_from_params
from rainscore.stores import time_blocks

logger = logging.getLogger(__name__)

SEASONS = {12: "DJF", 1: "DJF", 2: "DJF", 3: "MAM", 4: "MAM", 5: "MAM"}
SEASONS |= {6: "JJA", 7: "JJA", 8: "JJA", 9: "SON", 10: "SON", 11: "SON"}


@dataclass(frozen=True)
class FeatureConfig:
    """Thresholds of the context features (mm/h)."""

    wet_threshold: float = 0.1
    convective_threshold: float = 5.0

    def __post_init__(self) -> None:
        for name in ("wet_threshold", "convective_threshold"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"scoring.features.{name} must be > 0 mm/h, got {value}")

    @classmethod
    def from_dict(cls, d: dict | None) -> FeatureConfig:
        """Build from parameters (unknown keys are an error)."""
        return dataclass_from_params(cls, d, section="scoring.features")


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n = mask.sum(axis=(1, 2))
    total = np.where(mask, np.nan_to_num(values), 0.0).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / n, np.nan)


def _masked_quantile(values: np.ndarray, mask: np.ndarray, q: float) -> np.ndarray:
    flat = np.where(mask, values, np.nan).reshape(values.shape[0], -1 if len(values) else 0)
    return np.nanquantile(flat, q, axis=1)


BLOCK_MAPS = 48
"""Maps read and computed at once by :func:`map_features` (a lazily loaded input is read
one block at a time, so memory stays flat however long the period)."""

_FEATURE_INPUTS = (
    "imerg",
    "radar",
    "mask",
    "mw_source",
    "pmw_age_forward",
    "ir_influence",
    "quality_index",
)


def map_features(
    pairs: xr.Dataset,
    *,
    config: FeatureConfig | None = None,
    truth: xr.Dataset | None = None,
    block_size: int = BLOCK_MAPS,
) -> pd.DataFrame:
    """Context features of every map of ``pairs``.

    The maps are read (a lazily loaded input reads only these, and releases them once
    computed) and computed ``block_size`` at a time; every feature is a property of one
    map, so the table is the same whatever the block size.

    Args:
        pairs: Colocated pairs (dims time, lat, lon) with ``imerg``, ``radar``, ``mask`` and
            the IMERG quality fields (``mw_source``, ``pmw_age_forward``, ``ir_influence``,
            ``quality_index``) when present; in memory or lazily loaded.
        config: Thresholds.
        truth: The synthetic world's truth (``regime`` per half hour), if known.
        block_size: Maps per block.

    Returns:
        One row per time, indexed by ``time`` (no row but every column when ``pairs`` has
        no time).

    Raises:
        ValueError: ``block_size`` is below 1.
    """
    config = config or FeatureConfig()
    if block_size < 1:
        raise ValueError(f"map_features: block_size must be >= 1, got {block_size}")
    inputs = pairs[[name for name in _FEATURE_INPUTS if name in pairs]]
    lat = pairs["lat"].values
    cell_km2 = lonlat_cell_area(lat - 0.05, lat + 0.05, 0.1)[:, None] / 1e6  # (lat, 1)
    # compute(), not load(): load() fills the lazy block in place, so a block still
    # referenced (a list of the blocks) would keep its maps to the end.
    blocks = time_blocks(inputs, block_size) if inputs.sizes["time"] else [inputs]
    parts = [_block_features(block.compute(), config, cell_km2) for block in blocks]
    table = pd.concat(parts) if len(parts) > 1 else parts[0]
    times = pd.DatetimeIndex(table.index)
    lon_centre = float(pairs["lon"].values.mean())
    hour = times.hour + times.minute / 60.0
    table["hour"] = np.asarray(hour, dtype=float)
    table["solar_hour"] = np.mod(table["hour"] + lon_centre / 15.0, 24.0)
    table["day_of_year"] = np.asarray(times.day_of_year, dtype=int)
    table["season"] = pd.Categorical(
        [SEASONS[m] for m in times.month], categories=["DJF", "MAM", "JJA", "SON"]
    )
    if truth is not None and "regime" in truth:
        regime = truth["regime"].to_series()
        meanings = truth["regime"].attrs.get("flag_meanings")
        values = truth["regime"].attrs.get("flag_values")
        if meanings is not None and values is not None and regime.dtype.kind in "iu":
            names = dict(zip(np.atleast_1d(values).tolist(), str(meanings).split(), strict=True))
            regime = regime.map(names)
        table["true_regime"] = regime.reindex(table.index).astype(object).values
    return table


def _block_features(pairs: xr.Dataset, config: FeatureConfig, cell_km2: np.ndarray) -> pd.DataFrame:
    """The per-map features of one block of maps held in memory (no time columns)."""
    mask = pairs["mask"].values.astype(bool)
    imerg = pairs["imerg"].values.astype(np.float64)
    radar = pairs["radar"].values.astype(np.float64)
    mask = mask & np.isfinite(imerg) & np.isfinite(radar)
    n_valid = mask.sum(axis=(1, 2))
    wet = config.wet_threshold
    feats: dict[str, np.ndarray | ExtensionArray] = {"n_valid": n_valid}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN maps give NaN, as intended
        for label, field in (("imerg", imerg), ("radar", radar)):
            is_wet = mask & (field >= wet)
            n_wet = is_wet.sum(axis=(1, 2))
            feats[f"wet_fraction_{label}"] = np.where(
                n_valid > 0, n_wet / np.maximum(n_valid, 1), np.nan
            )
            feats[f"mean_rate_{label}"] = _masked_mean(field, mask)
            feats[f"mean_wet_rate_{label}"] = _masked_mean(field, is_wet)
            feats[f"p99_rate_{label}"] = _masked_quantile(field, mask, 0.99)

        radar_wet = mask & (radar >= wet)
        conv = mask & (radar >= config.convective_threshold)
        n_radar_wet = radar_wet.sum(axis=(1, 2))
        feats["convective_fraction"] = np.where(
            n_radar_wet > 0, conv.sum(axis=(1, 2)) / np.maximum(n_radar_wet, 1), np.nan
        )
        has_data = n_valid > 0
        feats["rain_area_km2"] = np.where(has_data, (radar_wet * cell_km2).sum(axis=(1, 2)), np.nan)
        labels, _ = ndimage.label(radar_wet, structure=_structure_2d_in_time())
        n_objects = np.array([np.unique(labels[t][labels[t] > 0]).size for t in range(len(labels))])
        feats["n_rain_objects"] = np.where(has_data, n_objects, np.nan)
        feats["mean_object_area_km2"] = np.where(
            n_objects > 0, feats["rain_area_km2"] / np.maximum(n_objects, 1), np.nan
        )

        if "mw_source" in pairs:
            source = np.nan_to_num(pairs["mw_source"].values, nan=0.0)
            feats["pmw_coverage"] = _masked_mean((source > 0).astype(float), mask)
            feats["sensors_present"] = pd.array(
                [
                    ",".join(str(int(c)) for c in np.unique(source[t][mask[t]]) if c > 0)
                    if has_data[t]
                    else None
                    for t in range(len(source))
                ],
                dtype="str",  # also when no map (or none with data) gives a string
            )
        if "pmw_age_forward" in pairs:
            age = pairs["pmw_age_forward"].values.astype(np.float64)
            known = mask & np.isfinite(age)
            feats["pmw_age_mean"] = _masked_mean(age, known)
            feats["pmw_age_median"] = _masked_quantile(age, known, 0.5)
            feats["pmw_seen_within_30min"] = _masked_mean((age <= 30).astype(float), known)
        if "ir_influence" in pairs:
            feats["ir_influence_mean"] = _masked_mean(pairs["ir_influence"].values, mask)
        if "quality_index" in pairs:
            feats["quality_index_mean"] = _masked_mean(pairs["quality_index"].values, mask)

    times = pd.DatetimeIndex(pairs["time"].values)
    return pd.DataFrame(feats, index=pd.Index(times, name="time"))


def matching_truth(pairs: xr.Dataset, truth: xr.Dataset | None) -> xr.Dataset | None:
    """The synthetic truth if it belongs to the world the pairs' IMERG files come from.

    A truth file describes one synthetic world; after ``make demo`` it stays on disk, and a
    later run on real data must not borrow its regimes. The truth applies only when the
    IMERG files of the pairs (``attrs["imerg_source_root"]``) lie inside the folder of the
    world whose ``truth/truth.nc`` it is.

    Args:
        pairs: Colocated pairs.
        truth: The truth as loaded from its file, or ``None``.

    Returns:
        ``truth`` when it matches, else ``None`` (and a log line says why).
    """
    if truth is None:
        return None
    source = truth.encoding.get("source")
    imerg_root = pairs.attrs.get("imerg_source_root", "")
    if not source or not imerg_root:
        logger.info("Truth ignored: its file or the pairs' IMERG folder is unknown")
        return None
    world_root = Path(source).resolve().parent.parent
    if not Path(imerg_root).resolve().is_relative_to(world_root):
        logger.info("Truth %s ignored: the IMERG files come from %s", source, imerg_root)
        return None
    return truth


def _structure_2d_in_time() -> np.ndarray:
    """8-connectivity within a map, none across time."""
    s = np.zeros((3, 3, 3), dtype=bool)
    s[1] = True
    return s
