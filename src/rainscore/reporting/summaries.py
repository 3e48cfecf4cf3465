"""The report's quality section: validation results, ingestion counts and bad inputs as tables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import pandas as pd

from rainscore.reporting.table import ReportTable

#: Bad-input rows listed one by one (the counts cover every row).
MAX_LISTED = 20
#: Columns the bad inputs are counted by.
BAD_INPUT_GROUPS = ["source", "stage", "reason", "outcome"]


def validation_table(report: Mapping[str, Any], *, name: str) -> ReportTable:
    """One row per validation suite: the dataset, the suite, its checks passed and failed.

    Args:
        report: A validation report's dictionary (``colocation_validation``,
            ``map_scores_validation``): ``title``, ``success``, ``n_failures``, ``suites``
            (``dataset``, ``suite``, ``success``, ``expectations`` with ``success``).
        name: The table's anchor.

    Returns:
        The table, section ``quality``.
    """
    rows = []
    for suite in report.get("suites", []):
        expectations = suite.get("expectations", [])
        passed = sum(bool(e.get("success")) for e in expectations)
        rows.append(
            {
                "dataset": suite.get("dataset", ""),
                "suite": suite.get("suite", ""),
                "checks": len(expectations),
                "passed": passed,
                "failed": len(expectations) - passed,
                "status": "passed" if suite.get("success") else "FAILED",
            }
        )
    frame = pd.DataFrame(rows, columns=["dataset", "suite", "checks", "passed", "failed", "status"])
    verdict = (
        "passed" if report.get("success") else f"FAILED ({report.get('n_failures', 0)} failures)"
    )
    failed = [
        f"{suite.get('dataset', '')}/{suite.get('suite', '')}: {e.get('check', '')}"
        for suite in report.get("suites", [])
        for e in suite.get("expectations", [])
        if not e.get("success")
    ]
    caption = f"Great Expectations suites of the validation, {verdict}."
    if failed:
        caption += " Failed checks: " + "; ".join(failed[:MAX_LISTED]) + "."
    title = str(report.get("title", name))
    return ReportTable(
        name=name, section="quality", title=f"Validation: {title}", caption=caption, frame=frame
    )


def ingestion_table(report: Mapping[str, Any]) -> ReportTable:
    """The ingestion's counts of files read, reused and skipped, and of missing times.

    Args:
        report: ``ingestion_report`` (``imerg`` and ``radar`` sections).

    Returns:
        The table (one row per quantity), section ``quality``.
    """
    imerg = report.get("imerg", {})
    radar = report.get("radar", {})
    rows = [
        ("IMERG", "product", f"{imerg.get('product', '')} {imerg.get('version', '')}".strip()),
        ("IMERG", "granules found", imerg.get("files")),
        ("IMERG", "granules read", imerg.get("read")),
        ("IMERG", "reused from the previous run", imerg.get("reused_from_previous_run")),
        ("IMERG", "skipped", len(imerg.get("skipped", []))),
        ("IMERG", "half hours", imerg.get("n_times")),
        ("IMERG", "half hours missing", len(imerg.get("missing_times", []))),
        ("IMERG", "period", f"{imerg.get('first_time', '')} to {imerg.get('last_time', '')}"),
        ("radar", "files found", radar.get("files")),
        ("radar", "files read", radar.get("ok")),
        ("radar", "skipped", len(radar.get("skipped", []))),
        ("radar", "frames missing", len(radar.get("missing_frames", []))),
        ("radar", "grids", len(radar.get("grid_ids", []))),
    ]
    frame = pd.DataFrame(rows, columns=["source", "quantity", "value"])
    frame["value"] = frame["value"].map(lambda v: "" if v is None else str(v))
    return ReportTable(
        name="ingestion_counts",
        section="quality",
        title="Ingestion: files read and half hours missing",
        caption="From ingestion_report: the raw IMERG granules and radar files found, read, "
        "reused from the previous run or skipped, and the half hours or frames missing.",
        frame=frame,
    )


def bad_input_tables(bad_inputs: pd.DataFrame) -> list[ReportTable]:
    """The bad inputs counted by source, stage, reason and outcome, and the first ones listed.

    Args:
        bad_inputs: ``bad_inputs`` (``path``, ``source``, ``stage``, ``reason``, ``outcome``,
            ``message``).

    Returns:
        The counts table and, when there are bad inputs, the list of the first
        :data:`MAX_LISTED` (file name, not the whole path), section ``quality``.
    """
    groups = [c for c in BAD_INPUT_GROUPS if c in bad_inputs]
    if len(bad_inputs) and groups:
        counts = bad_inputs.groupby(groups, dropna=False).size().reset_index(name="files")
        counts = counts.sort_values("files", ascending=False, kind="stable")
    else:
        counts = pd.DataFrame(columns=[*groups, "files"])
    tables = [
        ReportTable(
            name="bad_input_counts",
            section="quality",
            title=f"Bad inputs: {len(bad_inputs)} files not used or partly masked",
            caption="From bad_inputs: raw files counted by source, stage, reason and outcome "
            "(docs/io.md explains each reason). No row: every file was read whole.",
            frame=counts,
        )
    ]
    if len(bad_inputs):
        listed = bad_inputs.head(MAX_LISTED).copy()
        if "path" in listed:
            listed["path"] = listed["path"].map(lambda p: PurePath(str(p)).name)
            listed = listed.rename(columns={"path": "file"})
        tables.append(
            ReportTable(
                name="bad_input_list",
                section="quality",
                title=f"Bad inputs: the first {len(listed)} of {len(bad_inputs)}",
                caption="The first rows of bad_inputs, with the reader's message; the full "
                "table (with the paths) is data/08_reporting/bad_inputs.parquet.",
                frame=listed.reset_index(drop=True),
            )
        )
    return tables


def quality_tables(
    colocation_validation: Mapping[str, Any],
    map_scores_validation: Mapping[str, Any],
    ingestion_report: Mapping[str, Any],
    bad_inputs: pd.DataFrame,
) -> list[ReportTable]:
    """Every table of the quality section, in the report's order.

    Args:
        colocation_validation: The colocation's validation report.
        map_scores_validation: The scores' validation report.
        ingestion_report: The ingestion's counts.
        bad_inputs: The bad-input table.

    Returns:
        Ingestion counts, the two validations, the bad inputs.
    """
    return [
        ingestion_table(ingestion_report),
        validation_table(colocation_validation, name="colocation_validation"),
        validation_table(map_scores_validation, name="map_scores_validation"),
        *bad_input_tables(bad_inputs),
    ]
