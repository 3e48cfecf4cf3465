"""Build the IMERG cube over the box from half-hourly granules, incrementally."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.colocate.pairing import HALF_HOUR
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.grids.imerg import IMERG_CRS
from rainscore.ingest.config import IngestionConfig
from rainscore.ingest.fingerprint import fingerprint
from rainscore.ingest.parallel import map_files
from rainscore.io import ReaderError, open_imerg, parse_imerg_filename, pmw_age
from rainscore.io.imerg_filename import IMERG_PRODUCTS, ImergFileInfo, version_number

logger = logging.getLogger(__name__)

LOG_COLUMNS = [
    "path",
    "product",
    "version",
    "time",
    "size",
    "mtime_ns",
    "status",
    "reason",
    "problem",
]
PMW_AGE_VARIABLES = ("pmw_age_forward", "pmw_age_backward")


def _read_granule(path: str, *, box: Box, variables: tuple[str, ...] | None) -> xr.Dataset:
    ds = open_imerg([path], box=box, variables=list(variables) if variables else None)
    return ds.load()


def time_gaps(times: pd.DatetimeIndex, present: np.ndarray) -> list[list[str]]:
    """Runs of absent steps of a regular axis, as ``[first, last]`` ISO strings."""
    gaps: list[list[str]] = []
    missing = np.flatnonzero(~present)
    if missing.size == 0:
        return gaps
    breaks = np.flatnonzero(np.diff(missing) > 1)
    starts = np.r_[missing[0], missing[breaks + 1]]
    ends = np.r_[missing[breaks], missing[-1]]
    for s, e in zip(starts, ends, strict=True):
        gaps.append([times[s].isoformat(), times[e].isoformat()])
    return gaps


def build_imerg_cube(
    paths: list[str],
    *,
    box: Box,
    config: IngestionConfig,
    previous: xr.Dataset | None = None,
    execution: ExecutorConfig | None = None,
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read IMERG granules into one cube over ``box`` on a regular 30-minute axis.

    Args:
        paths: Raw IMERG files (any version, run and format :func:`open_imerg` reads).
        box: The analysis box; only its hyperslab is read from each file.
        config: Ingestion parameters (strictness, run selection).
        previous: The cube of an earlier run: granules it already holds whose files are
            unchanged (same size and modification time) are not read again, provided it was
            built for the same box, run and variables (else everything is read again).
        execution: What reads the granules (default: 2 processes), progress bar.

    Returns:
        ``(cube, log)``: the cube (dims time, lat, lon; missing half hours are NaN and listed
        in ``attrs["missing_times"]``; PMW age added) and one log row per file (``read``,
        ``reused`` or ``skipped`` with the reason).

    Raises:
        ReaderError: In strict mode, at the first bad file.
        ValueError: In strict mode at the first skipped file, or if no granule at all could
            be read.
    """
    rows: dict[str, dict] = {}
    candidates: list[tuple[str, ImergFileInfo]] = []
    for path in paths:
        size, mtime = fingerprint(path)
        row = {"path": path, "size": size, "mtime_ns": mtime}
        rows[path] = row
        try:
            info = parse_imerg_filename(path)
        except ReaderError as err:
            if config.strict:
                raise
            _skip(row, err.reason, str(err))
            continue
        candidates.append((path, info))
        row.update(product=info.product, version=info.version, time=pd.Timestamp(info.start))

    run = config.imerg_run
    if run == "auto" and candidates:
        run = Counter(info.run for _, info in candidates).most_common(1)[0][0]
    product = IMERG_PRODUCTS.get(run, run)
    by_time: dict[pd.Timestamp, tuple[str, ImergFileInfo]] = {}
    for path, info in candidates:
        if info.run != run:
            _skip(rows[path], "other_product", f"{path}: {info.product} granule, cube is {product}")
            continue
        t = pd.Timestamp(info.start)
        kept = by_time.get(t)
        if kept is None or version_number(info.version) > version_number(kept[1].version):
            if kept is not None:
                _skip(rows[kept[0]], "duplicate", f"{kept[0]}: duplicate time {t}, {path} kept")
            by_time[t] = (path, info)
        else:
            _skip(rows[path], "duplicate", f"{path}: duplicate time {t}, {kept[0]} kept")
    skipped = [r for r in rows.values() if r.get("status") == "skipped"]
    if config.strict and skipped:
        raise ValueError(skipped[0]["problem"])

    variables = config.imerg_variables
    reused_times, to_read = _split_reused(by_time, previous, product, box, variables)
    for t in reused_times:
        rows[by_time[t][0]]["status"] = "reused"

    results = map_files(
        partial(_read_granule, box=box, variables=variables),
        [by_time[t][0] for t in to_read],
        execution=execution,
        strict=config.strict,
        desc="IMERG granules",
    )
    parts = []
    for result in results:
        if result.ok:
            rows[result.path]["status"] = "read"
            parts.append(result.value)
        else:
            _skip(rows[result.path], result.reason, result.problem)
    if reused_times:
        old = previous.drop_vars([v for v in PMW_AGE_VARIABLES if v in previous])
        parts.append(old.sel(time=sorted(reused_times)))
    log = pd.DataFrame(list(rows.values()), columns=LOG_COLUMNS)
    for column in ("product", "version", "status", "reason", "problem"):
        log[column] = log[column].astype(object)
    if not parts:
        problems = log["problem"].dropna()
        first = f"; first problem: {problems.iloc[0]}" if len(problems) else ""
        raise ValueError(f"No IMERG granule could be read from {len(paths)} file(s){first}")

    cube = xr.concat(parts, dim="time", data_vars="all", coords="minimal", join="exact")
    cube = cube.sortby("time")
    axis = pd.date_range(cube.time.values[0], cube.time.values[-1], freq=pd.Timedelta(HALF_HOUR))
    present = np.isin(axis.values, cube.time.values)
    cube = cube.reindex(time=axis)
    if "mw_source" in cube and "mw_observation_time" in cube:
        cube = cube.merge(pmw_age(cube, product=product))

    used = [path for path, _ in by_time.values() if rows[path]["status"] in ("read", "reused")]
    cube.attrs.update(
        {
            "title": "IMERG half-hourly fields over the analysis box",
            "product": product,
            "version": ",".join(sorted({info.version for _, info in by_time.values()})),
            "crs": IMERG_CRS,
            "box": json.dumps(box.to_dict()),
            "variables_requested": json.dumps(list(variables) if variables else None),
            "source_root": os.path.commonpath(used) if used else "",
            "source_files": json.dumps({path: list(fingerprint(path)) for path in used}),
            "missing_times": json.dumps(time_gaps(axis, present)),
            "n_missing_times": int((~present).sum()),
        }
    )
    return cube, log


def _skip(row: dict, reason: str | None, problem: str | None) -> None:
    row.update(status="skipped", reason=reason, problem=problem)


def _split_reused(
    by_time: dict[pd.Timestamp, tuple[str, ImergFileInfo]],
    previous: xr.Dataset | None,
    product: str,
    box: Box,
    variables: tuple[str, ...] | None,
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Times whose granule the previous cube holds unchanged, and times to read.

    Nothing is reused when the previous cube was built for another run, box or set of
    variables: its granules would not match the new ones.
    """
    everything = sorted(by_time)
    if previous is None:
        return [], everything
    try:
        known = json.loads(previous.attrs.get("source_files", "{}"))
        same_box = json.loads(previous.attrs.get("box", "null")) == box.to_dict()
        requested = json.loads(previous.attrs.get("variables_requested", '"?"'))
    except json.JSONDecodeError:
        return [], everything
    same_variables = requested == (list(variables) if variables else None)
    if previous.attrs.get("product") != product or not same_box or not same_variables:
        logger.info(
            "The previous IMERG cube was built for another run, box or variables: "
            "reading every granule again"
        )
        return [], everything
    prev_times = set(pd.DatetimeIndex(previous.time.values))
    reused, to_read = [], []
    for t in everything:
        path = by_time[t][0]
        if t in prev_times and known.get(path) == list(fingerprint(path)):
            reused.append(t)
        else:
            to_read.append(t)
    return reused, to_read
