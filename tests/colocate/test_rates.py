"""OPERA-style instantaneous rate composites colocated end to end, and block-size
independence for every kind of radar frame."""

from __future__ import annotations

import datetime as dt
import json
import logging

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate import ColocationConfig, colocate_radar
from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box
from rainscore.ingest import IngestionConfig, build_radar_inventory
from rainscore.io import open_radar
from rainscore.synthetic.opera_file import OPERA_2KM, opera_filename, write_opera_rate_file

T0 = np.datetime64("2023-06-01T12:00", "ns")
QUARTER = np.timedelta64(15, "m")
N_SNAPSHOTS = 7  # 12:00, 12:15, ... 13:30


def truth_rate(lon: np.ndarray, lat: np.ndarray, t: np.datetime64) -> np.ndarray:
    """A smooth rain rate (mm/h): a pattern moving east at 1°/h and growing in time."""
    hours = (np.datetime64(t, "ns") - T0) / np.timedelta64(1, "h")
    space = 2.0 + 1.5 * np.sin(3.0 * (lon - hours)) * np.cos(4.0 * lat)
    return space * (1.0 + 0.4 * hours)


def at(box: Box, when: np.datetime64, n: int = 60) -> np.ndarray:
    """The truth's mean over each IMERG cell at one instant, from the formula: a
    supersampled area average (lat/lon cells: weights cos(lat))."""
    out = np.empty(box.shape)
    frac = (np.arange(n) + 0.5) / n
    for i, (s, north) in enumerate(zip(box.lat_edges[:-1], box.lat_edges[1:], strict=True)):
        lat = s + (north - s) * frac
        for j, (w, e) in enumerate(zip(box.lon_edges[:-1], box.lon_edges[1:], strict=True)):
            lon = w + (e - w) * frac
            lon2, lat2 = np.meshgrid(lon, lat)
            weights = np.cos(np.radians(lat2))
            out[i, j] = np.sum(truth_rate(lon2, lat2, when) * weights) / weights.sum()
    return out


def trapezoid(box: Box, half_hour: np.datetime64) -> np.ndarray:
    """The truth's cell means at T, T + 15 and T + 30 min, averaged with the trapezoid rule."""
    return sum(w * at(box, half_hour + k * QUARTER) for k, w in enumerate((0.25, 0.5, 0.25)))


def write_series(folder, box: Box, product: str, hole_at: int | None = None) -> list[str]:
    """``N_SNAPSHOTS`` OPERA rate composites every 15 minutes from 12:00 on a window of the
    OPERA grid; the snapshot ``hole_at`` has no data in its northern half."""
    grid = OPERA_2KM.window_covering(*box.boundary(), margin=6000.0, name="opera-window")
    lon, lat = grid.lonlat()
    paths = []
    for k in range(N_SNAPSHOTS):
        nominal = T0 + k * QUARTER
        rate = truth_rate(lon, lat, nominal)
        if k == hole_at:
            rate[lat > 46.25] = np.nan
        path = folder / opera_filename(nominal, product)
        write_opera_rate_file(path, rate, grid, nominal, product=product)
        paths.append(str(path))
    return paths


def inventory_of(paths: list[str]) -> pd.DataFrame:
    return build_radar_inventory(
        paths,
        config=IngestionConfig(),
        execution=ExecutorConfig(executor="sequential", progress=False),
    )


@pytest.mark.parametrize("product", ["odyssey", "nimbus"])
def test_rate_series_equals_the_trapezoid_mean_of_the_truth(tmp_path, box, product, caplog):
    paths = write_series(tmp_path, box, product)
    inventory = inventory_of(paths)
    assert (inventory["status"] == "ok").all(), inventory["problem"].tolist()
    assert (inventory["frame_minutes"] == 15).all()
    with caplog.at_level(logging.WARNING):
        result = colocate_radar(inventory, box, cache_dir=tmp_path / "weights")
    ds = result.dataset
    assert result.bad_frames == []
    hh = T0 - np.timedelta64(30, "m") + np.arange(5) * np.timedelta64(30, "m")
    np.testing.assert_array_equal(ds.time.values, hh)
    # 11:30 gets only its closing snapshot (12:00), 13:30 only its opening one (13:30).
    np.testing.assert_array_equal(ds.n_frames.values, [1, 3, 3, 3, 1])
    assert (ds.attrs["frame_kind"], ds.attrs["frame_minutes"]) == ("rate", 15)
    assert ds.attrs["frames_per_half_hour"] == 3
    short = result.short_half_hours()
    np.testing.assert_array_equal(short["time"], hh[[0, 4]])
    np.testing.assert_array_equal(short["n_frames"], [1, 1])
    assert "2 of 5 half hour(s) have fewer radar frames than a complete one (3" in caplog.text
    for k in (1, 2, 3):
        # Sampling error of 2 km pixel-centre values averaged over 0.1° cells: ≤ 0.1 %
        # here (equal weights of the three snapshots would be up to 4 % off).
        np.testing.assert_allclose(ds.rain[k].values, trapezoid(box, hh[k]), rtol=3e-3)
        np.testing.assert_allclose(ds.valid_fraction[k].values, 1.0, rtol=1e-6)
    # The incomplete half hours are reported and not scored: all of them, and only them.
    imerg = xr.Dataset(
        {"precipitation": ds.rain.fillna(1.0)}, coords=ds.coords, attrs={"product": "Late"}
    )
    pairs = pair_imerg_radar(imerg, ds, mask=MaskConfig())
    np.testing.assert_array_equal(pairs["mask"].any(["lat", "lon"]).values, [0, 1, 1, 1, 0])
    assert pairs["mask"].attrs["min_frames"] == 3


def test_a_snapshot_missing_at_a_cell_leaves_the_other_weights(tmp_path, box):
    paths = write_series(tmp_path, box, "odyssey", hole_at=2)  # 12:30: closes 12:00, opens 12:30
    ds = colocate_radar(inventory_of(paths), box, cache_dir=tmp_path / "weights").dataset
    lat = ds.lat.values
    north, south = lat > 46.3, lat < 46.2  # cells wholly inside, wholly outside the hole
    for k in (1, 2):  # the half hours 12:00 and 12:30
        np.testing.assert_array_equal(ds.n_valid_frames[k].values[north], 2)
        np.testing.assert_array_equal(ds.n_valid_frames[k].values[south], 3)
        np.testing.assert_allclose(ds.valid_fraction[k].values[north], 0.75, rtol=1e-6)
        np.testing.assert_allclose(ds.valid_fraction[k].values[south], 1.0, rtol=1e-6)

    def truth(minutes):
        return at(box, T0 + np.timedelta64(minutes, "m"))[north]

    # In the north, 12:00 keeps 12:00 (weight 1) and 12:15 (weight 2); 12:30 keeps 12:45
    # (weight 2) and 13:00 (weight 1).
    np.testing.assert_allclose(ds.rain[1].values[north], (truth(0) + 2 * truth(15)) / 3, rtol=5e-3)
    np.testing.assert_allclose(ds.rain[2].values[north], (2 * truth(45) + truth(60)) / 3, rtol=5e-3)


def _meteofrance_series(series, minutes_list):
    for m in minutes_list:
        field = np.full((1,), 0.01 * (1 + m % 17))
        series.add(dt.datetime(2023, 6, 1, 12, 0) + dt.timedelta(minutes=m), field[0])
    return series.inventory()


@pytest.mark.parametrize("kind", ["meteofrance", "odyssey", "nimbus"])
def test_results_do_not_depend_on_the_block_size(tmp_path, series, box, kind):
    if kind == "meteofrance":  # 5-minute accumulations, two frames missing, ends on :00/:30
        minutes = [m for m in range(5, 125, 5) if m not in (40, 60)]
        inventory = _meteofrance_series(series, minutes)
    else:  # rate snapshots, on and between the half-hour boundaries
        inventory = inventory_of(write_series(tmp_path, box, kind, hole_at=4))
    results = {
        size: colocate_radar(
            inventory,
            box,
            cache_dir=tmp_path / "weights",
            config=ColocationConfig(block_half_hours=size),
        )
        for size in (1, 2, 48)
    }
    reference_run = results[48]
    assert reference_run.bad_frames == []
    assert int(reference_run.dataset.n_frames.sum()) > 0
    for size in (1, 2):
        xr.testing.assert_identical(results[size].dataset, reference_run.dataset)
        assert results[size].bad_frames == []


def test_frame_model_is_recorded_with_the_radar(tmp_path, series, box):
    inventory = _meteofrance_series(series, range(5, 35, 5))
    ds = colocate_radar(inventory, box, cache_dir=tmp_path / "weights").dataset
    assert ds.attrs["frame_kind"] == "accumulation"
    assert (ds.attrs["frame_minutes"], ds.attrs["frames_per_half_hour"]) == (5, 6)
    assert json.loads(ds.attrs["box"]) == box.to_dict()


def archive_reader(path: str) -> xr.DataArray:
    """Nine 5-minute frames in one file, like a MeteoNet archive: k/10 mm, ending 12:25 …
    13:05."""
    one = open_radar(path)
    ends = np.datetime64("2023-06-01T12:25", "ns") + np.arange(9) * np.timedelta64(5, "m")
    values = np.stack([np.full(one.shape, k / 10, np.float32) for k in range(1, 10)])
    return xr.DataArray(values, dims=("time", "y", "x"), coords={"time": ends}, attrs=one.attrs)


def test_a_multi_frame_archive_does_not_depend_on_the_block_size(tmp_path, series, box):
    series.add(dt.datetime(2023, 6, 1, 12, 25), 0.0)
    inventory = series.inventory()
    inventory["start_time"] = pd.Timestamp("2023-06-01T12:20")
    inventory["end_time"] = pd.Timestamp("2023-06-01T13:05")
    runs = [
        colocate_radar(
            inventory,
            box,
            cache_dir=tmp_path / "weights",
            config=ColocationConfig(block_half_hours=size),
            reader=archive_reader,
        )
        for size in (1, 2, 48)
    ]
    assert all(run.bad_frames == [] for run in runs)
    np.testing.assert_array_equal(runs[2].dataset.n_frames.values, [2, 6, 1])
    np.testing.assert_allclose(runs[2].dataset.rain[1].values, 12 * 0.55, rtol=1e-6)  # k 3..8
    for run in runs[:2]:
        xr.testing.assert_identical(run.dataset, runs[2].dataset)


@pytest.mark.parametrize("block_half_hours", [1, 48])
def test_an_inventory_without_nominal_times_is_reported_not_silently_wrong(
    tmp_path, box, block_half_hours
):
    """ODYSSEY files listed by end time only (17:50-18:05 → 18:05): the files say 18:00."""
    inventory = inventory_of(write_series(tmp_path, box, "odyssey")).drop(
        columns=["nominal_time", "frame_minutes"]
    )
    result = colocate_radar(
        inventory,
        box,
        cache_dir=tmp_path / "weights",
        config=ColocationConfig(block_half_hours=block_half_hours),
    )
    assert {b.path for b in result.bad_frames} == set(inventory["path"])
    assert all("the inventory says" in b.error for b in result.bad_frames)
    assert {b.reason for b in result.bad_frames} == {"inconsistent"}
