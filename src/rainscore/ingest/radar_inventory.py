"""The radar inventory: one row per raw radar file, with its times, grid and status."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from rainscore.colocate.frames import KIND_OF_UNITS, frame_model
from rainscore.colocate.pairing import ACCUMULATION
from rainscore.execution import ExecutorConfig
from rainscore.ingest.config import IngestionConfig
from rainscore.ingest.fingerprint import fingerprint
from rainscore.ingest.parallel import map_files
from rainscore.io import ReaderError, open_radar, radar_metadata

logger = logging.getLogger(__name__)

INVENTORY_COLUMNS = [
    "path",
    "size",
    "mtime_ns",
    "kind",
    "quantity",
    "units",
    "start_time",
    "end_time",
    "nominal_time",
    "accumulation_minutes",
    "frame_minutes",
    "grid_id",
    "grid",
    "ny",
    "nx",
    "status",
    "reason",
    "problem",
]
STATUSES = ("ok", "bad", "wrong_grid", "wrong_accumulation", "duplicate")
"""``reason`` is the status for the last three, the reader's code for ``bad`` files."""


def _metadata_row(path: str) -> dict:
    meta = radar_metadata(path)
    row = {**meta.as_row(), "nominal_time": meta.nominal_time}
    # A rate is a snapshot, not an accumulation: its observation window is not a length.
    minutes = row["accumulation_minutes"]
    row["accumulation_minutes"] = float("nan") if minutes is None else float(minutes)
    for column in ("start_time", "end_time", "nominal_time"):
        row[column] = pd.Timestamp(row[column]) if row[column] is not None else pd.NaT
    return {k: v for k, v in row.items() if k in INVENTORY_COLUMNS}


def _mark_wrong_frames(inv: pd.DataFrame, minutes: int | None) -> pd.DataFrame:
    """Mark the usable rows that do not fit the series' frame model ``wrong_accumulation``
    (frames of the other kind, or accumulations of another length) and write the model's
    length into ``frame_minutes`` of the rows left usable.
    """
    ok = inv["status"] == "ok"
    model = frame_model(inv.loc[ok].drop(columns="frame_minutes"), minutes)
    kinds = inv["units"].map(KIND_OF_UNITS)
    wrong_kind = ok & (kinds != model.kind)
    wrong_length = (
        ok & ~wrong_kind & (kinds == ACCUMULATION) & (inv["accumulation_minutes"] != model.minutes)
    )
    inv.loc[wrong_kind, "problem"] = inv.loc[wrong_kind].apply(
        lambda r: f"{r['path']}: a frame in {r['units']} in a series of {model.describe()}",
        axis=1,
    )
    inv.loc[wrong_length, "problem"] = inv.loc[wrong_length].apply(
        lambda r: (
            f"{r['path']}: accumulation of {r['accumulation_minutes']:g} min in a series of "
            f"{model.describe()}"
        ),
        axis=1,
    )
    inv.loc[wrong_kind | wrong_length, "status"] = "wrong_accumulation"
    inv["frame_minutes"] = np.where(inv["status"] == "ok", float(model.minutes), np.nan)
    inv.attrs["frame_model"] = model.describe()
    return inv


def _decode_problem(path: str) -> tuple[str, str] | None:
    """``(reason, problem)`` if the file's data cannot be decoded, else None."""
    try:
        open_radar(path)
    except ReaderError as err:
        return err.reason, str(err)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
        return "unreadable", f"{path}: {type(err).__name__}: {err}"
    return None


def _choose_among_duplicates(inv: pd.DataFrame) -> pd.DataFrame:
    """Keep one usable file per end time: the first, in path order, whose data decodes.

    Attributes alone cannot tell a good file from one whose data chunks are damaged, so the
    files competing for an end time (rare) are decoded. Those that fail become ``bad`` with
    the reader's reason; the others but the kept one become ``duplicate``; both messages
    name the file that is used. Only usable files compete: a file on the wrong grid or of
    the wrong accumulation never pushes a good one out.
    """
    ok = inv["status"] == "ok"
    competing = ok & inv["end_time"].notna() & inv["end_time"].where(ok).duplicated(keep=False)
    for end_time, group in inv.loc[competing].groupby("end_time", sort=False):
        problems = {i: _decode_problem(inv.at[i, "path"]) for i in group.index}
        readable = [i for i in group.index if problems[i] is None]
        kept = readable[0] if readable else None
        used = f"{inv.at[kept, 'path']} is used" if kept is not None else "no file is usable"
        for i in group.index:
            if problems[i] is not None:
                reason, problem = problems[i]
                inv.loc[i, ["status", "reason", "problem"]] = [
                    "bad",
                    reason,
                    f"{problem} (one of several files for end time {end_time}; {used})",
                ]
            elif i != kept:
                inv.loc[i, ["status", "reason", "problem"]] = [
                    "duplicate",
                    "duplicate",
                    f"{inv.at[i, 'path']}: a second file for end time {end_time}; {used}",
                ]
    return inv


def build_radar_inventory(
    paths: list[str],
    *,
    config: IngestionConfig,
    previous: pd.DataFrame | None = None,
    execution: ExecutorConfig | None = None,
) -> pd.DataFrame:
    """List radar files with what their attributes say, and whether each is usable.

    Only attributes are read (no data decoding), except for files that compete for an end
    time. Rows of ``previous`` whose file is unchanged (same size and modification time) are
    reused without opening the file.

    Statuses: ``ok``; ``bad`` (unreadable, with the reader's message); ``wrong_grid`` (not on
    the expected grid: ``config.radar_grid_id`` or, with ``auto``, the most common one);
    ``wrong_accumulation`` (not a frame of the series: an accumulation among rate snapshots or
    the reverse, or an accumulation of another length than ``config.radar_frame_minutes`` or,
    with ``None``, the most common one; see :func:`rainscore.colocate.frames.frame_model`:
    a rate snapshot's observation window, e.g. 0 min for NIMBUS, is not an accumulation);
    ``duplicate`` (a second file for the same end time: see
    :func:`_choose_among_duplicates`). ``reason`` is a short code for every unusable row:
    the reader's (:data:`rainscore.io.errors.REASONS`) for ``bad`` files, else the status.

    Args:
        paths: Raw radar files.
        config: Ingestion parameters.
        previous: The inventory of an earlier run.
        execution: What reads the files (default: 2 processes), progress bar.

    Returns:
        The inventory, sorted by end time then path, columns :data:`INVENTORY_COLUMNS`.

    Raises:
        ReaderError: In strict mode, at the first unreadable file.
        ValueError: In strict mode, at the first file with another problem.
    """
    known: dict[str, dict] = {}
    # An inventory written before nominal times were recorded is read again.
    if previous is not None and len(previous) and "nominal_time" in previous.columns:
        for row in previous.to_dict("records"):
            if row.get("status") != "bad":
                known[row["path"]] = row
    rows: list[dict] = []
    to_read: list[str] = []
    for path in paths:
        size, mtime = fingerprint(path)
        old = known.get(path)
        if old is not None and (old["size"], old["mtime_ns"]) == (size, mtime):
            rows.append({**old, "status": "ok", "reason": None, "problem": None})
        else:
            to_read.append(path)
    results = map_files(
        _metadata_row,
        to_read,
        execution=execution,
        strict=config.strict,
        desc="radar files",
    )
    for result in results:
        size, mtime = fingerprint(result.path)
        base = {"path": result.path, "size": size, "mtime_ns": mtime}
        if result.ok:
            rows.append({**base, **result.value, "status": "ok", "reason": None, "problem": None})
        else:
            rows.append(
                {**base, "status": "bad", "reason": result.reason, "problem": result.problem}
            )
    inv = pd.DataFrame(rows, columns=INVENTORY_COLUMNS)
    for col in ("start_time", "end_time", "nominal_time"):
        inv[col] = pd.to_datetime(inv[col])
    inv = inv.sort_values(["end_time", "path"], na_position="last").reset_index(drop=True)

    ok = inv["status"] == "ok"
    expected = config.radar_grid_id
    if expected == "auto" and ok.any():
        expected = inv.loc[ok, "grid_id"].mode().iloc[0]
    wrong_grid = ok & (inv["grid_id"] != expected)
    inv.loc[wrong_grid, "status"] = "wrong_grid"
    inv.loc[wrong_grid, "problem"] = inv.loc[wrong_grid].apply(
        lambda r: f"{r['path']}: grid {r['grid_id']} is not the expected grid {expected}", axis=1
    )
    inv = _mark_wrong_frames(inv, config.radar_frame_minutes)
    inv = _choose_among_duplicates(inv)
    marked = (inv["status"] != "ok") & inv["reason"].isna()
    inv.loc[marked, "reason"] = inv.loc[marked, "status"]
    if config.strict and (inv["status"] != "ok").any():
        first = inv.loc[inv["status"] != "ok"].iloc[0]
        raise ValueError(f"{first['problem']} ({first['reason']})")
    inv.attrs["expected_grid_id"] = expected
    return inv
