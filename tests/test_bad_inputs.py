"""The one report of bad inputs: every file not used or partly masked, with its reason."""

from __future__ import annotations

import pandas as pd

from rainscore.bad_inputs import BAD_INPUT_COLUMNS, bad_inputs_table, summarise_bad_inputs

IMERG_LOG = pd.DataFrame(
    {
        "path": ["i0.HDF5", "i1.HDF5", "i2.HDF5"],
        "status": ["read", "skipped", "reused"],
        "reason": [None, "unreadable", None],
        "problem": [None, "i1.HDF5: truncated", None],
    }
)
INVENTORY = pd.DataFrame(
    {
        "path": ["r0.h5", "r1.h5", "r2.h5", "r3.h5"],
        "status": ["ok", "bad", "duplicate", "wrong_grid"],
        "reason": [None, "empty", "duplicate", None],
        "problem": [None, "r1.h5: empty", "r2.h5: a second file", "r3.h5: grid"],
    }
)
COLOCATION = pd.DataFrame(
    {
        "path": ["r4.h5", "r5.h5"],
        "error": ["ImpossibleValues: 12 negative value(s)", "1 value(s) above max_rate"],
        "reason": ["negative_values", "above_max_rate"],
        "outcome": ["skipped", "masked"],
    }
)


def test_every_stage_in_one_table_with_a_reason_for_every_row():
    table = bad_inputs_table(IMERG_LOG, INVENTORY, COLOCATION)
    assert table.columns.tolist() == BAD_INPUT_COLUMNS
    assert table[["path", "source", "stage", "reason", "outcome"]].values.tolist() == [
        ["i1.HDF5", "imerg", "ingestion", "unreadable", "skipped"],
        ["r1.h5", "radar", "ingestion", "empty", "skipped"],
        ["r2.h5", "radar", "ingestion", "duplicate", "skipped"],
        ["r3.h5", "radar", "ingestion", "wrong_grid", "skipped"],  # status stands in
        ["r4.h5", "radar", "colocation", "negative_values", "skipped"],
        ["r5.h5", "radar", "colocation", "above_max_rate", "masked"],
    ]
    assert table["message"].tolist()[0] == "i1.HDF5: truncated"
    assert table["message"].tolist()[4].startswith("ImpossibleValues")


def test_an_inventory_without_reasons_and_no_colocation():
    table = bad_inputs_table(IMERG_LOG, INVENTORY.drop(columns="reason"))
    assert table["reason"].tolist() == ["unreadable", "bad", "duplicate", "wrong_grid"]


def test_good_inputs_give_an_empty_table_and_no_summary():
    table = bad_inputs_table(IMERG_LOG.iloc[[0]], INVENTORY.iloc[[0]], COLOCATION.iloc[:0])
    assert table.columns.tolist() == BAD_INPUT_COLUMNS
    assert len(table) == 0
    assert summarise_bad_inputs(table) == ""


def test_the_summary_counts_files_by_source_outcome_and_reason():
    summary = summarise_bad_inputs(bad_inputs_table(IMERG_LOG, INVENTORY, COLOCATION))
    assert summary == (
        "6 file(s): imerg skipped unreadable ×1, radar masked above_max_rate ×1, "
        "radar skipped duplicate ×1, radar skipped empty ×1, radar skipped negative_values ×1, "
        "radar skipped wrong_grid ×1"
    )


def test_a_file_reported_by_several_time_blocks_is_one_row():
    twice = pd.concat([COLOCATION.iloc[[0]], COLOCATION.iloc[[0]]], ignore_index=True)
    table = bad_inputs_table(IMERG_LOG.iloc[[0]], INVENTORY.iloc[[0]], twice)
    assert table["path"].tolist() == ["r4.h5"]
