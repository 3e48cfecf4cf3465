"""Build the IMERG cube over the box from half-hourly granules, incrementally."""

from __future__ import annotations

import json
import logging
from collections import Counter
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.grids import Box
from rainscore.ingest.config import IngestionConfig
from rainscore.ingest.fingerprint import fingerprint
from rainscore.ingest.parallel import map_files
from rainscore.io import ReaderError, open_imerg, parse_imerg_filename, pmw_age
from rainscore.io.imerg_filename import version_number

logger = logging.getLogger(__name__)

HALF_HOUR = pd.Timedelta(minutes=30)
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
) -> tuple[xr.Dataset, pd.DataFrame]:
    """Read IMERG granules into one cube over ``box`` on a regular 30-minute axis.

    Args:
        paths: Raw IMERG files (any version, run and format :func:`open_imerg` reads).
        box: The analysis box; only its hyperslab is read from each file.
        config: Ingestion parameters (strictness, parallelism, run selection).
        previous: The cube of an earlier run: granules it already holds whose files are
            unchanged (same size and modification time) are not read again.

    Returns:
        ``(cube, log)``: the cube (dims time, lat, lon; missing half hours are NaN and listed
        in ``attrs["missing_times"]``; PMW age added) and one log row per file (``read``,
        ``reused`` or ``skipped`` with the reason).

    Raises:
        ReaderError: In strict mode, at the first bad file.
        ValueError: If no granule at all could be read.
    """
    rows: list[dict] = []
    candidates: list[tuple[str, object]] = []
    for path in paths:
        size, mtime = fingerprint(path)
        base = {"path": path, "size": size, "mtime_ns": mtime}
        try:
            info = parse_imerg_filename(path)
        except ReaderError as err:
            if config.strict:
                raise
            rows.append({**base, "status": "skipped", "reason": err.reason, "problem": str(err)})
            continue
        candidates.append((path, info))
        rows.append(
            {
                **base,
                "product": info.product,
                "version": info.version,
                "time": pd.Timestamp(info.start),
            }
        )
    log = pd.DataFrame(rows, columns=LOG_COLUMNS)
    for column in ("product", "version", "status", "reason", "problem"):
        log[column] = log[column].astype(object)

    product = config.imerg_product
    if product == "auto" and candidates:
        product = Counter(info.product for _, info in candidates).most_common(1)[0][0]
    by_time: dict[pd.Timestamp, tuple[str, object]] = {}
    for path, info in candidates:
        idx = log.index[log["path"] == path][0]
        if info.product != product:
            _skip(log, idx, "other_product", f"{path}: {info.product} granule, cube is {product}")
            continue
        t = pd.Timestamp(info.start)
        kept = by_time.get(t)
        if kept is None or version_number(info.version) > version_number(kept[1].version):
            if kept is not None:
                loser = log.index[log["path"] == kept[0]][0]
                _skip(log, loser, "duplicate", f"{kept[0]}: duplicate time {t}, {path} kept")
            by_time[t] = (path, info)
        else:
            _skip(log, idx, "duplicate", f"{path}: duplicate time {t}, {kept[0]} kept")
    if config.strict and (log["status"] == "skipped").any():
        raise ValueError(log.loc[log["status"] == "skipped", "problem"].iloc[0])

    reused_times, to_read = _split_reused(by_time, previous, product)
    for t in reused_times:
        log.loc[log["path"] == by_time[t][0], "status"] = "reused"

    results = map_files(
        partial(_read_granule, box=box, variables=config.imerg_variables),
        [by_time[t][0] for t in to_read],
        executor=config.executor,
        workers=config.workers,
        strict=config.strict,
        progress=config.progress,
        desc="IMERG granules",
    )
    granules = []
    for result in results:
        idx = log.index[log["path"] == result.path][0]
        if result.ok:
            log.loc[idx, "status"] = "read"
            granules.append(result.value)
        else:
            _skip(log, idx, result.reason, result.problem)

    parts = list(granules)
    if reused_times:
        old = previous.drop_vars([v for v in PMW_AGE_VARIABLES if v in previous])
        parts.append(old.sel(time=sorted(reused_times)))
    if not parts:
        raise ValueError(
            f"No IMERG granule could be read from {len(paths)} file(s)"
            + (
                f"; first problem: {log['problem'].dropna().iloc[0]}"
                if log["problem"].notna().any()
                else ""
            )
        )
    cube = xr.concat(parts, dim="time", data_vars="all", coords="minimal", join="exact")
    cube = cube.sortby("time")
    axis = pd.date_range(cube.time.values[0], cube.time.values[-1], freq=HALF_HOUR)
    present = np.isin(axis.values, cube.time.values)
    cube = cube.reindex(time=axis)
    if "mw_source" in cube and "mw_observation_time" in cube:
        cube = cube.merge(pmw_age(cube, product=product))

    sources = {
        by_time[t][0]: list(fingerprint(by_time[t][0]))
        for t in by_time
        if log.loc[log["path"] == by_time[t][0], "status"].iloc[0] in ("read", "reused")
    }
    versions = sorted({info.version for _, info in by_time.values()})
    cube.attrs.update(
        {
            "title": "IMERG half-hourly fields over the analysis box",
            "product": product,
            "version": ",".join(versions),
            "box": json.dumps(box.to_dict()),
            "source_files": json.dumps(sources),
            "missing_times": json.dumps(time_gaps(axis, present)),
            "n_missing_times": int((~present).sum()),
        }
    )
    return cube, log


def _skip(log: pd.DataFrame, idx: int, reason: str | None, problem: str | None) -> None:
    log.loc[idx, ["status", "reason", "problem"]] = ["skipped", reason, problem]


def _split_reused(
    by_time: dict, previous: xr.Dataset | None, product: str
) -> tuple[list[pd.Timestamp], list[pd.Timestamp]]:
    """Times whose granule the previous cube holds unchanged, and times to read."""
    if previous is None or previous.attrs.get("product") != product:
        return [], sorted(by_time)
    try:
        known = json.loads(previous.attrs.get("source_files", "{}"))
    except json.JSONDecodeError:
        return [], sorted(by_time)
    prev_times = set(pd.DatetimeIndex(previous.time.values))
    reused, to_read = [], []
    for t in sorted(by_time):
        path = by_time[t][0]
        if t in prev_times and known.get(path) == list(fingerprint(path)):
            reused.append(t)
        else:
            to_read.append(t)
    return reused, to_read
