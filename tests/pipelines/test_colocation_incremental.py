"""A rerun over a longer period colocates only the half hours after the previous run's."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr


def _arriving(world: Path, dest: Path, *, until: str) -> None:
    """``world``'s files up to ``until`` (HHMM): IMERG half hours starting before it, radar
    frames ending before it (so the last half hour misses its last frame)."""
    for path in sorted(world.rglob("*")):
        if path.is_dir():
            continue
        imerg = re.search(r"-S(\d{4})00-", path.name)
        radar = re.search(r"_\d{8}(\d{4})\.h5$", path.name)
        stamp = imerg or radar
        if stamp and stamp.group(1) >= until:
            continue
        target = dest / path.relative_to(world)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


@pytest.fixture(scope="module")
def fresh(module_project) -> xr.Dataset:
    """radar_on_imerg of one run over the whole tiny world (12 half hours)."""
    module_project.run("ingestion")
    return module_project.run("colocation").load("radar_on_imerg").load()


def _run(project) -> object:
    project.run("ingestion")
    return project.run("colocation")


def test_a_rerun_over_a_longer_period_colocates_only_the_new_half_hours(
    project, tiny_world, tmp_path, fresh
) -> None:
    world = tmp_path / "arriving"
    project.config["imerg_raw"]["path"] = str(world / "imerg")
    project.config["radar_raw"]["path"] = str(world / "radar")
    _arriving(tiny_world, world, until="1500")  # 12:00–14:30; 14:30 lacks its 15:00 frame
    first = _run(project).load("radar_on_imerg")
    assert first.sizes["time"] == 6
    assert first["n_frames"].values.tolist() == [6, 6, 6, 6, 6, 5]

    _arriving(tiny_world, world, until="9999")  # the rest of the world arrives
    catalog = _run(project)
    colocated = catalog.load("radar_on_imerg_unchecked")["time"].values
    # The incomplete 14:30 again, then the six new half hours; 12:00–14:00 are kept.
    assert pd.DatetimeIndex(colocated).strftime("%H:%M").tolist() == [
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
        "17:00",
        "17:30",
    ]
    rerun = catalog.load("radar_on_imerg").load()
    xr.testing.assert_identical(rerun, fresh)
    assert int(rerun["n_frames"].min()) == 6
    # The pairs are rebuilt from the whole new cube.
    pairs = catalog.load("colocated_pairs")
    assert pairs.sizes["time"] == 12


def test_a_rerun_without_new_data_colocates_the_last_half_hour_only(module_project, fresh) -> None:
    catalog = module_project.run("colocation")
    assert catalog.load("radar_on_imerg_unchecked").sizes["time"] == 1
    xr.testing.assert_identical(catalog.load("radar_on_imerg").load(), fresh)


def test_a_rerun_with_another_lag_colocates_the_whole_period(project, fresh) -> None:
    project.run("ingestion")
    project.run("colocation")
    project.params["colocation"]["engine"]["lag_minutes"] = 30
    catalog = project.run("colocation")
    radar = catalog.load("radar_on_imerg").load()
    assert catalog.load("radar_on_imerg_unchecked").sizes["time"] == 12
    assert radar.attrs["lag_minutes"] == 30
    # The radar of 12:30 is now paired with the IMERG half hour 12:00.
    np.testing.assert_array_equal(radar["n_frames"].values[:-1], fresh["n_frames"].values[1:])
    assert int(radar["n_frames"].values[-1]) == 0
