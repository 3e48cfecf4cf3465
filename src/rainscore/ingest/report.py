"""The ingestion report: what was read, skipped and why, and the gaps in time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.colocate.frames import frame_model
from rainscore.ingest.imerg_cube import time_gaps


def _problems(table: pd.DataFrame, mask: pd.Series) -> list[dict[str, Any]]:
    cols = [c for c in ("path", "status", "reason", "problem") if c in table]
    return (
        table.loc[mask, cols]
        .astype(object)
        .where(table.loc[mask, cols].notna(), None)
        .to_dict("records")
    )


def ingestion_report(
    imerg_log: pd.DataFrame,
    imerg_cube: xr.Dataset,
    radar_inventory: pd.DataFrame,
    *,
    radar_frame_minutes: int | None = None,
) -> dict[str, Any]:
    """Summarise an ingestion run as a JSON-ready mapping.

    Args:
        imerg_log: Per-file log of :func:`build_imerg_cube` (or of
            :class:`~rainscore.ingest.ImergCubeBlocks`); the missing half hours of the cube
            are those without a granule read or reused.
        imerg_cube: The cube (its time axis, product and version).
        radar_inventory: The inventory of :func:`build_radar_inventory`.
        radar_frame_minutes: Spacing of radar frames, for the gap listing (``None``: from
            the inventory, :func:`rainscore.colocate.frames.frame_model`).

    Returns:
        Counts, the skipped files with their reasons, and gaps in time for both sources.
    """
    ok = radar_inventory["status"] == "ok"
    radar_gaps: list[list[str]] = []
    if ok.any():
        radar_frame_minutes = frame_model(radar_inventory, radar_frame_minutes).minutes
        ends = pd.DatetimeIndex(radar_inventory.loc[ok, "end_time"]).sort_values()
        axis = pd.date_range(ends[0], ends[-1], freq=f"{radar_frame_minutes}min")
        radar_gaps = time_gaps(axis, np.isin(axis.values, ends.values))
    times = pd.DatetimeIndex(imerg_cube.time.values)
    # From the log, not the cube's attributes: a cube written block by block stores the
    # attributes known before its granules were read, and one may fail to be read.
    used = imerg_log.loc[imerg_log["status"].isin(["read", "reused"]), "time"]
    imerg_gaps = time_gaps(times, np.isin(times.values, pd.DatetimeIndex(used).values))
    return {
        "imerg": {
            "product": imerg_cube.attrs.get("product"),
            "version": imerg_cube.attrs.get("version"),
            "files": len(imerg_log),
            "read": int((imerg_log["status"] == "read").sum()),
            "reused_from_previous_run": int((imerg_log["status"] == "reused").sum()),
            "skipped": _problems(imerg_log, imerg_log["status"] == "skipped"),
            "first_time": times[0].isoformat() if len(times) else None,
            "last_time": times[-1].isoformat() if len(times) else None,
            "n_times": len(times),
            "missing_times": imerg_gaps,
        },
        "radar": {
            "files": len(radar_inventory),
            "ok": int(ok.sum()),
            "by_status": {
                str(k): int(v) for k, v in radar_inventory["status"].value_counts().items()
            },
            "skipped": _problems(radar_inventory, ~ok),
            "grid_ids": sorted(radar_inventory.loc[ok, "grid_id"].unique().tolist()),
            "first_end_time": (
                pd.Timestamp(radar_inventory.loc[ok, "end_time"].min()).isoformat()
                if ok.any()
                else None
            ),
            "last_end_time": (
                pd.Timestamp(radar_inventory.loc[ok, "end_time"].max()).isoformat()
                if ok.any()
                else None
            ),
            "missing_frames": radar_gaps,
        },
    }
