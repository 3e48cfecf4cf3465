"""read_radar_frames: open_radar's values and attrs without the DataArray, and the
colocation engine reading through it."""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.colocate import colocate_radar
from rainscore.grids import METEOFRANCE_1KM, Box
from rainscore.io import open_radar, radar_metadata
from rainscore.io.radar import read_radar_frames
from rainscore.io.radar_field import RadarFrames

FILE_GRID = METEOFRANCE_1KM.window(slice(700, 760), slice(800, 870))
BOX = Box(lat_min=47.1, lat_max=47.5, lon_min=2.5, lon_max=3.3)
START = dt.datetime(2023, 1, 1, 12, 0)


@pytest.fixture
def mf_files(tmp_path, odim_writer):
    """Six 5-minute Météo-France files (one half hour), a nodata band, one absurd pixel."""
    rng = np.random.default_rng(11)
    paths = []
    for k in range(1, 7):
        end = START + dt.timedelta(minutes=5 * k)
        raw = rng.integers(0, 300, FILE_GRID.shape).astype(np.uint16)
        raw[:5, :] = 65535
        raw[30, 30] = 5000  # 600 mm/h: masked, counted
        name = f"MFRADAR_LAMEEAU_5MIN_1KM_{end:%Y%m%d%H%M}.h5"
        paths.append(odim_writer(tmp_path / name, raw, grid=FILE_GRID, end=end, chunks=(16, 16)))
    return paths


@pytest.mark.parametrize("window", [None, (slice(4, 50), slice(10, 61))])
def test_read_radar_frames_is_open_radar_without_the_dataarray(mf_files, window):
    frames = read_radar_frames(mf_files[0], window=window)
    da = open_radar(mf_files[0], window=window)
    assert isinstance(frames, RadarFrames)
    assert frames.values.dtype == np.float32
    np.testing.assert_array_equal(frames.values.view(np.uint32), da.values.view(np.uint32))
    assert frames.attrs == da.attrs
    assert frames.attrs["n_impossible"] == 1
    np.testing.assert_array_equal(frames.times, np.array(["2023-01-01T12:05"], "datetime64[ns]"))
    xr.testing.assert_identical(frames.to_dataarray(), da)


def test_engine_reads_without_dataarrays_and_gives_the_same_half_hour(mf_files, tmp_path):
    inventory = pd.DataFrame([radar_metadata(p).as_row() for p in mf_files]).assign(status="ok")
    cache = tmp_path / "weights"

    def dataarray_reader(path, **kwargs):  # not open_radar: the engine takes its DataArray
        return open_radar(path, **kwargs)

    slow = colocate_radar(inventory, BOX, cache_dir=cache, reader=dataarray_reader)
    built = []
    original = RadarFrames.to_dataarray

    def spy(self):
        built.append(self)
        return original(self)

    RadarFrames.to_dataarray = spy
    try:
        for reader in (None, functools.partial(open_radar, max_rate=300.0), open_radar):
            lean = colocate_radar(inventory, BOX, cache_dir=cache, reader=reader)
            xr.testing.assert_identical(lean.dataset, slow.dataset)
            assert lean.bad_frames == slow.bad_frames
    finally:
        RadarFrames.to_dataarray = original
    assert built == []  # open_radar (or a partial of it) went through read_radar_frames
    assert int(slow.dataset["n_frames"].sum()) == 6
    assert int(slow.dataset["n_impossible"].sum()) == 6
    assert np.isfinite(slow.dataset["rain"].values).any()
