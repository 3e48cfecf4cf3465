"""Great Expectations suites on the tabular views of gridded products."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rainscore.grids import Box
from rainscore.validation import ExpectationConfig, ValidationReport, validate_gridded

SMALL_BOX = Box(lat_min=45.0, lat_max=45.5, lon_min=2.0, lon_max=2.8)


def _run(ds, variable="precipitation", **kwargs):
    config = ExpectationConfig(box=SMALL_BOX, **kwargs)
    return validate_gridded(ds, name="imerg_cube", variable=variable, config=config)


def test_good_dataset_passes(make_gridded) -> None:
    summaries, failures = _run(make_gridded())
    assert failures == []
    assert {s["suite"] for s in summaries} == {"grid_summary", "time_axis", "value_ranges"}
    assert all(s["success"] for s in summaries)


def test_wrong_box_and_units_fail_with_offending_values(make_gridded) -> None:
    ds = make_gridded(units="mm")
    ds = ds.isel(lat=slice(1, None))
    _, failures = _run(ds)
    checks = " ".join(f.check for f in failures)
    assert "column='n_lat'" in checks and "column='lat_first'" in checks
    units = next(f for f in failures if "column='units'" in f.check)
    assert units.offending == ["mm"]
    assert units.dataset == "imerg_cube"


def test_missing_or_other_crs_fails(make_gridded) -> None:
    for attrs, offending in (({}, "<no crs attribute>"), ({"crs": "EPSG:3035"}, "EPSG:3035")):
        ds = make_gridded()
        ds.attrs = attrs
        _, failures = _run(ds)
        crs = [f for f in failures if "column='crs'" in f.check]
        assert len(crs) == 1 and crs[0].offending == [offending]


def test_irregular_time_axis_fails(make_gridded) -> None:
    ds = make_gridded(n_time=6)
    times = pd.DatetimeIndex(ds.time.values)
    ds = ds.assign_coords(time=times.where(np.arange(6) != 5, times[5] + pd.Timedelta("10min")))
    _, failures = _run(ds)
    step = next(f for f in failures if "column='step_minutes'" in f.check)
    assert step.offending == [40.0]


def test_too_many_empty_maps_fail(make_gridded) -> None:
    ds = make_gridded(n_time=10)
    ds["precipitation"][:3] = np.nan
    _, failures = _run(ds, max_missing_fraction=0.2)
    assert any("column='n_valid'" in f.check for f in failures)
    _, failures = _run(ds, max_missing_fraction=0.3)
    assert failures == []


def test_out_of_range_values_fail(make_gridded) -> None:
    ds = make_gridded()
    ds["precipitation"][2, 1, 1] = 1000.0
    ds["precipitation"][4, 0, 0] = -1.0
    _, failures = _run(ds)
    bad = {f.check.split("column=")[1].split(",")[0]: f.offending for f in failures}
    assert bad == {"'precipitation_min'": [-1.0], "'precipitation_max'": [1000.0]}


def test_report_markdown_and_round_trip(make_gridded) -> None:
    ds = make_gridded()
    ds["precipitation"][0, 0, 0] = 999.0
    summaries, failures = _run(ds)
    report = ValidationReport(title="colocation inputs", suites=summaries, failures=failures)
    md = report.to_markdown()
    assert "FAILED (1 check(s))" in md and "precipitation_max" in md and "999.0" in md
    again = ValidationReport.from_dict(report.to_dict())
    assert again.failures == report.failures and not again.success


def test_map_scores_suite_catches_bad_tables() -> None:
    from rainscore.validation import validate_map_scores

    times = pd.date_range("2024-06-10", periods=10, freq="30min", name="time")
    table = pd.DataFrame(
        {
            "n_valid": np.full(10, 100.0),
            "csi_t1.0": np.linspace(0, 1, 10),
            "fss_t1.0_w5": np.r_[np.full(8, np.nan), 0.5, 0.6],
            "pearson": np.r_[np.full(9, 0.5), 1.5],
        },
        index=times,
    )
    _, failures = validate_map_scores(table, target="fss_t1.0_w5", min_target_defined=0.5)
    checks = {f.check.split("(")[0] + f.check.split("column=")[1].split(",")[0] for f in failures}
    assert checks == {
        "expect_column_values_to_not_be_null'fss_t1.0_w5'",
        "expect_column_values_to_be_between'pearson'",
    }
    pearson = next(f for f in failures if "pearson" in f.check)
    assert pearson.offending == [1.5]
    _, none = validate_map_scores(table.drop(columns="pearson"), target="csi_t1.0")
    assert none == []
