"""The one report of bad inputs: every raw file that was not used or was partly masked.

Each stage finds its own problems: ingestion the IMERG granules it skipped (its per-file
log) and the radar files its inventory marked unusable; colocation the radar files whose
data could not be used (decompression failures, impossible values), that were used with a
few values masked, or that had no data where the box is. :func:`bad_inputs_table` puts
them in one table with one vocabulary, so a user looks in one place whatever the stage.
"""

from __future__ import annotations

import pandas as pd

BAD_INPUT_COLUMNS = ["path", "source", "stage", "reason", "outcome", "message"]
"""``source``: ``imerg`` or ``radar``; ``stage``: ``ingestion`` or ``colocation``;
``reason``: a short code (``docs/io.md``); ``outcome``: ``skipped`` (not used: its
time or frames count as missing), ``masked`` (used, some values masked) or ``no_data``
(read, no valid value where the box is); ``message``: what is wrong, naming the file."""


def _rows(
    table: pd.DataFrame, *, source: str, stage: str, message: str, outcome: str | None = None
) -> pd.DataFrame:
    """``table`` in :data:`BAD_INPUT_COLUMNS` (``outcome`` from its column if not given)."""
    return pd.DataFrame(
        {
            "path": table["path"].astype(str).to_numpy(),
            "source": source,
            "stage": stage,
            "reason": table["reason"].to_numpy(),
            "outcome": outcome if outcome is not None else table["outcome"].to_numpy(),
            "message": table[message].to_numpy(),
        },
        columns=BAD_INPUT_COLUMNS,
    )


def bad_inputs_table(
    imerg_log: pd.DataFrame,
    radar_inventory: pd.DataFrame,
    colocation_problems: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every file that was not used or was partly masked, with its reason and stage.

    Args:
        imerg_log: Per-file log of :func:`rainscore.ingest.build_imerg_cube` (rows with
            ``status == "skipped"`` are reported, with their ``reason`` and ``problem``).
        radar_inventory: :func:`rainscore.ingest.build_radar_inventory` (rows whose
            ``status`` is not ``ok``; a row without a ``reason`` gets its status).
        colocation_problems: :meth:`rainscore.colocate.ColocationResult.bad_frames_table`
            (columns ``path``, ``error``, ``reason``, ``outcome``), if colocation ran.

    Returns:
        Columns :data:`BAD_INPUT_COLUMNS`, one row per file, stage, reason and outcome
        (the first message), ingestion rows first (IMERG, then radar), each group in its
        input order; every ``reason`` set.
    """
    skipped = imerg_log.loc[imerg_log["status"] == "skipped"]
    unusable = radar_inventory.loc[radar_inventory["status"] != "ok"].copy()
    if "reason" not in unusable.columns:
        unusable["reason"] = None
    unusable["reason"] = unusable["reason"].where(unusable["reason"].notna(), unusable["status"])
    parts = [
        _rows(skipped, source="imerg", stage="ingestion", message="problem", outcome="skipped"),
        _rows(unusable, source="radar", stage="ingestion", message="problem", outcome="skipped"),
    ]
    if colocation_problems is not None:
        parts.append(
            _rows(colocation_problems, source="radar", stage="colocation", message="error")
        )
    table = pd.concat(parts, ignore_index=True)
    table["reason"] = table["reason"].fillna("unknown")
    # A multi-frame file read by several time blocks is reported by each of them: once here.
    table = table.drop_duplicates(["path", "stage", "reason", "outcome"], ignore_index=True)
    return table.astype(object).where(table.notna(), None)


def summarise_bad_inputs(table: pd.DataFrame) -> str:
    """One line: how many files per source, outcome and reason (``""`` for no row).

    Example: ``"3 file(s): radar skipped corrupt_data ×2, radar masked above_max_rate ×1"``.
    """
    if not len(table):
        return ""
    counts = table.groupby(["source", "outcome", "reason"], sort=True).size()
    parts = [f"{source} {outcome} {reason} ×{n}" for (source, outcome, reason), n in counts.items()]
    return f"{table['path'].nunique()} file(s): " + ", ".join(parts)
