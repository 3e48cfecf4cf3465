"""Great Expectations suites on tabular views of the gridded products.

Gridded data is summarised into small tables (one row per dataset for its grid, one row per
half hour for its time axis and value ranges) and validated with Great Expectations 1.x in
an ephemeral, offline context. Every suite is built here, in one module, from the box and the
parameters, so the expectations can be read in one place.

Great Expectations is imported lazily (it takes seconds to import).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.grids.imerg import IMERG_CRS, IMERG_RES, Box
from rainscore.params import dataclass_from_params
from rainscore.scores.catalogue import has_score_info, score_info
from rainscore.validation.checks import RATE_UNITS, Failure


@dataclass(frozen=True)
class ValueRange:
    """Plausible range of a variable (inclusive), checked on per-map minima and maxima."""

    min: float
    max: float


DEFAULT_RANGES: dict[str, ValueRange] = {
    "precipitation": ValueRange(0.0, 300.0),
    "rain": ValueRange(0.0, 300.0),
    "quality_index": ValueRange(0.0, 1.0),
    "ir_influence": ValueRange(0.0, 100.0),
    "valid_fraction": ValueRange(0.0, 1.0),
    "pmw_age_forward": ValueRange(0.0, 1e6),
}


@dataclass(frozen=True)
class ExpectationConfig:
    """What the suites expect.

    Attributes:
        box: The analysis box.
        step_minutes: Spacing of the time axis.
        max_missing_fraction: Largest fraction of all-missing maps tolerated.
        ranges: Plausible ranges per variable.
    """

    box: Box
    step_minutes: int = 30
    max_missing_fraction: float = 0.1
    ranges: dict[str, ValueRange] = field(default_factory=lambda: dict(DEFAULT_RANGES))

    def __post_init__(self) -> None:
        where = "colocation.validation"
        if isinstance(self.step_minutes, bool) or self.step_minutes < 1:
            raise ValueError(f"{where}.step_minutes must be >= 1, got {self.step_minutes!r}")
        if not 0 <= self.max_missing_fraction <= 1:
            raise ValueError(
                f"{where}.max_missing_fraction must be in [0, 1], got {self.max_missing_fraction}"
            )
        for name, bounds in self.ranges.items():
            if not bounds.min <= bounds.max:
                raise ValueError(
                    f"{where}.ranges.{name} must be [min, max] with min <= max, "
                    f"got [{bounds.min:g}, {bounds.max:g}]"
                )

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None, box: Box) -> ExpectationConfig:
        """Build from ``params:colocation.validation`` (unknown keys are an error).

        Args:
            params: ``step_minutes``, ``max_missing_fraction`` and ``ranges`` (a
                ``[min, max]`` per variable, added to or replacing :data:`DEFAULT_RANGES`).
            box: The analysis box the grid suite expects.

        Returns:
            The validated config.

        Raises:
            ValueError: On an unknown key or an invalid value (named
                ``colocation.validation.<key>`` with the value).
        """
        where = "colocation.validation"
        params = dict(params or {})
        known = {"ranges", "step_minutes", "max_missing_fraction"}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ValueError(f"Unknown {where} parameters {unknown}; known: {sorted(known)}")
        ranges = dict(DEFAULT_RANGES)
        for name, bounds in (params.get("ranges") or {}).items():
            if (
                not isinstance(bounds, list | tuple)
                or len(bounds) != 2
                or not all(isinstance(b, int | float) and not isinstance(b, bool) for b in bounds)
            ):
                raise ValueError(f"{where}.ranges.{name} must be [min, max], got {bounds!r}")
            ranges[name] = ValueRange(float(bounds[0]), float(bounds[1]))
        for name in ("step_minutes", "max_missing_fraction"):
            value = params.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float)
            ):
                raise ValueError(f"{where}.{name} must be a number, got {value!r}")
        return cls(
            box=box,
            step_minutes=params.get("step_minutes", 30),
            max_missing_fraction=float(params.get("max_missing_fraction", 0.1)),
            ranges=ranges,
        )


# ---------------------------------------------------------------- tabular views


def grid_summary(obj: xr.Dataset, *, name: str, variable: str) -> pd.DataFrame:
    """One row describing the grid of ``obj``: cell counts, first cell, step, CRS, units."""
    lat = obj["lat"].values
    lon = obj["lon"].values
    return pd.DataFrame(
        [
            {
                "dataset": name,
                "n_lat": int(lat.size),
                "n_lon": int(lon.size),
                "lat_first": float(lat[0]),
                "lon_first": float(lon[0]),
                "lat_step": float(np.round(np.diff(lat).mean(), 9)) if lat.size > 1 else np.nan,
                "lon_step": float(np.round(np.diff(lon).mean(), 9)) if lon.size > 1 else np.nan,
                "coord_dtype": f"{lat.dtype}/{lon.dtype}",
                "crs": str(obj.attrs.get("crs", "<no crs attribute>")),
                "units": str(obj[variable].attrs.get("units", "")),
            }
        ]
    )


def time_axis(obj: xr.Dataset, *, variable: str) -> pd.DataFrame:
    """One row per time: the step from the previous time (minutes) and the valid cells."""
    times = pd.DatetimeIndex(obj["time"].values)
    steps = np.r_[np.nan, np.diff(times.values) / np.timedelta64(1, "m")]
    n_valid = obj[variable].notnull().sum(dim=("lat", "lon")).values
    return pd.DataFrame({"time": times, "step_minutes": steps, "n_valid": n_valid})


def value_summary(obj: xr.Dataset, *, variables: list[str]) -> pd.DataFrame:
    """One row per time: the minimum and maximum of each variable over the map."""
    cols: dict[str, Any] = {"time": pd.DatetimeIndex(obj["time"].values)}
    for var in variables:
        da = obj[var]
        spatial = [d for d in ("lat", "lon") if d in da.dims]
        cols[f"{var}_min"] = da.min(dim=spatial, skipna=True).values if spatial else da.values
        cols[f"{var}_max"] = da.max(dim=spatial, skipna=True).values if spatial else da.values
    return pd.DataFrame(cols)


# ---------------------------------------------------------------- suites


def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    return gx


def grid_suite(config: ExpectationConfig):
    """Expectations on :func:`grid_summary` rows: the box's lattice, CRS and units."""
    gx = _gx()
    box = config.box
    e = gx.expectations
    suite = gx.ExpectationSuite(name="grid_summary")
    tol = 1e-6
    for column, value in (("n_lat", box.shape[0]), ("n_lon", box.shape[1])):
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(column=column, min_value=value, max_value=value)
        )
    for column, value in (
        ("lat_first", float(box.lat[0])),
        ("lon_first", float(box.lon[0])),
        ("lat_step", IMERG_RES),
        ("lon_step", IMERG_RES),
    ):
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(
                column=column, min_value=value - tol, max_value=value + tol
            )
        )
    suite.add_expectation(
        e.ExpectColumnValuesToBeInSet(column="coord_dtype", value_set=["float64/float64"])
    )
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="crs", value_set=[IMERG_CRS]))
    suite.add_expectation(e.ExpectColumnValuesToBeInSet(column="units", value_set=[RATE_UNITS]))
    return suite


def time_suite(config: ExpectationConfig):
    """Expectations on :func:`time_axis`: regular steps, unique times, few empty maps."""
    gx = _gx()
    e = gx.expectations
    suite = gx.ExpectationSuite(name="time_axis")
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="time"))
    suite.add_expectation(e.ExpectColumnValuesToBeIncreasing(column="time", strictly=True))
    suite.add_expectation(
        e.ExpectColumnValuesToBeBetween(
            column="step_minutes", min_value=config.step_minutes, max_value=config.step_minutes
        )
    )
    suite.add_expectation(
        e.ExpectColumnValuesToBeBetween(
            column="n_valid", min_value=1, mostly=1.0 - config.max_missing_fraction
        )
    )
    return suite


def value_suite(config: ExpectationConfig, variables: list[str]):
    """Expectations on :func:`value_summary`: per-map extremes within plausible ranges."""
    gx = _gx()
    e = gx.expectations
    suite = gx.ExpectationSuite(name="value_ranges")
    for var in variables:
        bounds = config.ranges.get(var)
        if bounds is None:
            continue
        for stat in ("min", "max"):
            suite.add_expectation(
                e.ExpectColumnValuesToBeBetween(
                    column=f"{var}_{stat}", min_value=bounds.min, max_value=bounds.max
                )
            )
    return suite


# ---------------------------------------------------------------- running


def _context():
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
        store_backend_defaults=InMemoryStoreBackendDefaults(),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def validate_table(
    context, table: pd.DataFrame, suite, *, dataset: str
) -> tuple[dict, list[Failure]]:
    """Validate ``table`` against ``suite`` in a Great Expectations ``context``.

    Returns:
        ``(summary, failures)``: a JSON-friendly summary of every expectation and the
        failures, each naming the dataset, the expectation and the offending values.
    """
    source = context.data_sources.add_pandas(name=f"{dataset}-{suite.name}")
    asset = source.add_dataframe_asset(name=suite.name)
    batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
        batch_parameters={"dataframe": table}
    )
    result = batch.validate(suite, result_format="SUMMARY")
    rows, failures = [], []
    for res in result.results:
        cfg = res.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        check = f"{cfg.type}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"
        details = res.result or {}
        offending = details.get("partial_unexpected_list")
        if offending is None and "observed_value" in details:
            offending = [details["observed_value"]]
        rows.append({"check": check, "success": bool(res.success), "offending": offending or []})
        if not res.success:
            n_bad = details.get("unexpected_count")
            detail = f"{n_bad} of {details.get('element_count')} rows unexpected" if n_bad else ""
            failures.append(
                Failure(dataset, check, detail or "expectation not met", _jsonable(offending or []))
            )
    summary = {
        "dataset": dataset,
        "suite": suite.name,
        "success": bool(result.success),
        "expectations": _jsonable(rows),
    }
    return summary, failures


def validate_gridded(
    obj: xr.Dataset,
    *,
    name: str,
    variable: str,
    config: ExpectationConfig,
) -> tuple[list[dict], list[Failure]]:
    """Run the grid, time-axis and value suites on one gridded dataset.

    Args:
        obj: The dataset (dims time, lat, lon).
        name: Its catalog name.
        variable: Its main rain variable (grid units and empty maps are judged on it).
        config: What the suites expect.

    Returns:
        The per-suite summaries and all failures.
    """
    frames = obj.attrs.get("frames_per_half_hour")
    if frames is not None:  # the radar's frame model bounds its frame counts
        counts = {v: ValueRange(0.0, float(frames)) for v in ("n_frames", "n_valid_frames")}
        config = replace(config, ranges={**counts, **config.ranges})
    ranged = [v for v in obj.data_vars if v in config.ranges]
    context = _context()  # suites need an active context
    summaries, failures = [], []
    for table, suite in (
        (grid_summary(obj, name=name, variable=variable), grid_suite(config)),
        (time_axis(obj, variable=variable), time_suite(config)),
        (value_summary(obj, variables=ranged), value_suite(config, ranged)),
    ):
        summary, fails = validate_table(context, table, suite, dataset=name)
        summaries.append(summary)
        failures.extend(fails)
    return summaries, failures


# ---------------------------------------------------------------- per-map score tables


@dataclass(frozen=True)
class ScoreSuiteConfig:
    """What the ``map_scores`` suite expects (``scoring.validation``).

    Attributes:
        min_target_defined: Smallest fraction of maps on which the target score is defined.
    """

    min_target_defined: float = 0.3

    def __post_init__(self) -> None:
        value = self.min_target_defined
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(
                f"scoring.validation.min_target_defined must be in [0, 1], got {value!r}"
            )

    @classmethod
    def from_dict(cls, params: dict[str, Any] | None) -> ScoreSuiteConfig:
        """Build from ``params:scoring.validation`` (unknown keys are an error)."""
        return dataclass_from_params(cls, params, section="scoring.validation")


def map_scores_suite(table: pd.DataFrame, *, target: str, min_target_defined: float):
    """Expectations on the per-map score table: ranges, completeness and the time index.

    Every score column is checked against its range in the score catalogue
    (:data:`rainscore.scores.SCORES`); other columns (context features) are not.
    """
    gx = _gx()
    e = gx.expectations
    suite = gx.ExpectationSuite(name="map_scores")
    suite.add_expectation(e.ExpectColumnValuesToBeUnique(column="time"))
    suite.add_expectation(e.ExpectColumnValuesToBeIncreasing(column="time", strictly=True))
    suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column="n_valid"))
    suite.add_expectation(e.ExpectColumnValuesToBeBetween(column="n_valid", min_value=0))
    suite.add_expectation(e.ExpectColumnToExist(column=target))
    if target in table:
        suite.add_expectation(
            e.ExpectColumnValuesToNotBeNull(column=target, mostly=min_target_defined)
        )
    for column in table.columns:
        if column == "time" or not has_score_info(column):
            continue  # context features: not scores
        lo, hi = score_info(column).range
        if np.isinf(lo) and np.isinf(hi):
            continue
        suite.add_expectation(
            e.ExpectColumnValuesToBeBetween(
                column=column,
                min_value=None if np.isinf(lo) else lo - 1e-9,
                max_value=None if np.isinf(hi) else hi + 1e-9,
            )
        )
    return suite


def validate_map_scores(
    table: pd.DataFrame, *, target: str, min_target_defined: float = 0.3
) -> tuple[list[dict], list[Failure]]:
    """Run :func:`map_scores_suite` on a per-map score table indexed by ``time``.

    Returns:
        The suite summary (in a list, like :func:`validate_gridded`) and the failures.
    """
    context = _context()
    flat = table.reset_index()
    flat = flat[[c for c in flat.columns if flat[c].dtype.kind in "fiubM" or c == "time"]]
    suite = map_scores_suite(flat, target=target, min_target_defined=min_target_defined)
    summary, failures = validate_table(context, flat, suite, dataset="map_scores")
    return [summary], failures
