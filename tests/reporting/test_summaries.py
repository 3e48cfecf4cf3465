"""Quality tables: validation suites, ingestion counts, bad inputs."""

import pandas as pd

from rainscore.reporting.summaries import (
    MAX_LISTED,
    bad_input_tables,
    ingestion_table,
    quality_tables,
    validation_table,
)

REPORT = {
    "title": "colocation",
    "success": False,
    "n_failures": 1,
    "failures": [],
    "suites": [
        {
            "dataset": "imerg_cube",
            "suite": "grid_summary",
            "success": True,
            "expectations": [{"check": "a", "success": True}, {"check": "b", "success": True}],
        },
        {
            "dataset": "radar_on_imerg",
            "suite": "value_ranges",
            "success": False,
            "expectations": [{"check": "rain <= 300", "success": False}],
        },
    ],
}


def test_validation_table_counts_checks():
    table = validation_table(REPORT, name="colocation_validation")
    assert table.frame.to_dict("records") == [
        {
            "dataset": "imerg_cube",
            "suite": "grid_summary",
            "checks": 2,
            "passed": 2,
            "failed": 0,
            "status": "passed",
        },
        {
            "dataset": "radar_on_imerg",
            "suite": "value_ranges",
            "checks": 1,
            "passed": 0,
            "failed": 1,
            "status": "FAILED",
        },
    ]
    assert "FAILED (1 failures)" in table.caption
    assert "radar_on_imerg/value_ranges: rain <= 300" in table.caption
    assert table.section == "quality"


def test_ingestion_table():
    report = {
        "imerg": {"files": 10, "read": 9, "skipped": ["x"], "missing_times": ["t1", "t2"]},
        "radar": {"files": 60, "ok": 60, "missing_frames": []},
    }
    values = ingestion_table(report).frame.set_index("quantity")["value"]
    assert values["granules read"] == "9"
    assert values["half hours missing"] == "2"
    assert values["skipped"].tolist() == ["1", "0"]


def _bad(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": [f"/data/radar/f{i}.h5" for i in range(n)],
            "source": "radar",
            "stage": "colocation",
            "reason": ["corrupt" if i % 3 == 0 else "impossible_values" for i in range(n)],
            "outcome": "skipped",
            "message": "m",
        }
    )


def test_bad_inputs_counted_and_listed():
    counts, listed = bad_input_tables(_bad(30))
    assert counts.frame["files"].tolist() == [20, 10]
    assert counts.frame["reason"].tolist() == ["impossible_values", "corrupt"]
    assert len(listed.frame) == MAX_LISTED
    assert listed.frame["file"].iloc[0] == "f0.h5"
    assert "30 files" in counts.title


def test_no_bad_inputs_one_empty_table():
    tables = bad_input_tables(_bad(0))
    assert len(tables) == 1 and tables[0].frame.empty


def test_quality_tables_names():
    names = [t.name for t in quality_tables(REPORT, REPORT, {}, _bad(2))]
    assert names == [
        "ingestion_counts",
        "colocation_validation",
        "map_scores_validation",
        "bad_input_counts",
        "bad_input_list",
    ]
