"""The IMERG cube: regular axis, gaps, incremental reuse and when reuse must not happen."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import IngestionConfig, build_imerg_cube

CONFIG = IngestionConfig()
SEQUENTIAL = ExecutorConfig(executor="sequential", progress=False)


@pytest.fixture
def granules(tiny_world) -> list[str]:
    return sorted(str(p) for p in (tiny_world / "imerg").rglob("3B-HHR*"))


def test_cube_on_a_regular_axis_with_gaps_listed(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    cube, log = build_imerg_cube(
        granules[:4] + granules[6:], box=box, config=CONFIG, execution=SEQUENTIAL
    )
    assert cube.sizes["time"] == 12
    assert json.loads(cube.attrs["missing_times"]) == [
        ["2024-06-10T14:00:00", "2024-06-10T14:30:00"]
    ]
    assert cube["precipitation"].isel(time=[4, 5]).isnull().all()
    assert cube.attrs["crs"] == "EPSG:4326"
    assert cube.attrs["source_root"].endswith("imerg/2024/06/10")
    assert (log["status"] == "read").sum() == 10


def test_reuse_of_unchanged_granules(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    first, _ = build_imerg_cube(granules[:8], box=box, config=CONFIG, execution=SEQUENTIAL)
    cube, log = build_imerg_cube(
        granules, box=box, config=CONFIG, execution=SEQUENTIAL, previous=first
    )
    status = log.set_index("path")["status"]
    assert (status[granules[:8]] == "reused").all()
    assert (status[granules[8:]] == "read").all()
    fresh, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    for name in ("precipitation", "pmw_age_forward", "pmw_age_backward"):
        np.testing.assert_array_equal(cube[name].values, fresh[name].values)


def test_no_reuse_for_another_box_or_variables(granules, tiny_box) -> None:
    box = Box.from_dict(tiny_box)
    first, _ = build_imerg_cube(granules, box=box, config=CONFIG, execution=SEQUENTIAL)
    smaller = Box(45.0, 45.5, 1.0, 2.0)
    cube, log = build_imerg_cube(
        granules, box=smaller, config=CONFIG, execution=SEQUENTIAL, previous=first
    )
    assert (log["status"] == "read").all()
    assert cube.sizes["lat"] == 5
    only = IngestionConfig(imerg_variables=("precipitation",))
    cube, log = build_imerg_cube(
        granules, box=box, config=only, execution=SEQUENTIAL, previous=first
    )
    assert (log["status"] == "read").all()
    assert list(cube.data_vars) == ["precipitation"]


def test_duplicates_and_other_runs_are_skipped(granules, tiny_box, tmp_path) -> None:
    late = tmp_path / granules[0].split("/")[-1].replace("3B-HHR.", "3B-HHR-L.").replace(
        ".HDF5", ".RT-H5"
    )
    late.write_bytes(Path(granules[0]).read_bytes())
    cube, log = build_imerg_cube(
        [*granules, str(late)], box=Box.from_dict(tiny_box), config=CONFIG, execution=SEQUENTIAL
    )
    row = log.set_index("path").loc[str(late)]
    assert row["status"] == "skipped"
    assert row["reason"] == "other_product"
    assert cube.attrs["product"] == "Final"
    assert pd.Timestamp(cube.time.values[0]) == pd.Timestamp("2024-06-10T12:00")


def test_pmw_age_from_the_files_matches_the_worlds_truth(granules, tiny_box, tiny_world) -> None:
    import xarray as xr

    cube, _ = build_imerg_cube(
        granules, box=Box.from_dict(tiny_box), config=CONFIG, execution=SEQUENTIAL
    )
    truth = xr.open_dataset(tiny_world / "truth" / "truth.nc")
    derived = cube["pmw_age_forward"].values
    true = truth["pmw_age"].values
    both = np.isfinite(derived) & np.isfinite(true)
    assert both.mean() > 0.5
    # MWobservationTime is stored in whole minutes: agreement to a minute
    np.testing.assert_allclose(derived[both], true[both], atol=1.0)
    assert (derived[both] == 0).mean() > 0.05  # some pixels are seen during the half hour
