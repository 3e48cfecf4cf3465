"""open_radar(window=...) and the decoding of stored counts, against plain references."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
import xarray as xr

from rainscore.grids import METEOFRANCE_1KM, ProjectedGrid
from rainscore.io import ReaderError, open_radar

END = dt.datetime(2023, 1, 1, 12, 5)
NAME = "MFRADAR_LAMEEAU_5MIN_1KM_202301011205.h5"
FILE_GRID = METEOFRANCE_1KM.window(slice(600, 640), slice(700, 750))  # 40 × 50 km
LAEA = ProjectedGrid(
    crs="+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84",
    nx=30,
    ny=20,
    x_min=1_000_000.0,
    y_max=-2_000_000.0,
    dx=2000.0,
    dy=2000.0,
)
ROWS, COLS = slice(7, 31), slice(12, 45)


@pytest.fixture
def mf_file(tmp_path, odim_writer):
    """A Météo-France window in 1/100 mm: a nodata band, absurd pixels in and out of
    ``(ROWS, COLS)``."""
    rng = np.random.default_rng(3)
    raw = rng.integers(0, 400, FILE_GRID.shape).astype(np.uint16)
    raw[:9, :] = 65535
    raw[10, 20] = raw[25, 40] = 5000  # 600 mm/h: inside the window
    raw[2, 2] = raw[35, 5] = 4000  # outside it
    return odim_writer(tmp_path / NAME, raw, grid=FILE_GRID, end=END, chunks=(16, 16))


def test_window_read_is_the_full_read_sliced(mf_file):
    full = open_radar(mf_file)
    part = open_radar(mf_file, window=(ROWS, COLS))
    expected = full.isel(y=ROWS, x=COLS)
    xr.testing.assert_identical(part.drop_attrs(), expected.drop_attrs())
    np.testing.assert_array_equal(part.values.view(np.uint32), expected.values.view(np.uint32))
    assert full.attrs["n_impossible"] == 4
    assert part.attrs["n_impossible"] == 2  # counted on the window
    window_grid = FILE_GRID.window(ROWS, COLS)
    assert ProjectedGrid.from_dict(json.loads(part.attrs["grid"])) == window_grid
    assert part.attrs["grid_id"] == window_grid.grid_id
    assert part.attrs["file_grid_id"] == full.attrs["grid_id"] == FILE_GRID.grid_id
    assert part.attrs["window"] == [7, 31, 12, 45]
    assert part.x.values[0] == pytest.approx(-619652.0 + (700 + 12 + 0.5) * 1000.0)
    assert part.y.values[0] == pytest.approx(-3526818.0 - (600 + 7 + 0.5) * 1000.0)
    same = {k: v for k, v in full.attrs.items() if k not in ("grid", "grid_id", "n_impossible")}
    assert {k: part.attrs[k] for k in same} == same


@pytest.mark.parametrize(
    "window",
    [
        (slice(None), slice(None)),
        (slice(0, 40), slice(49, 50)),
        (slice(np.int64(3), None), slice(None, 4)),
    ],
)
def test_windows_at_the_edges(mf_file, window):
    full = open_radar(mf_file)
    part = open_radar(mf_file, window=window)
    xr.testing.assert_identical(part.drop_attrs(), full.isel(y=window[0], x=window[1]).drop_attrs())


@pytest.mark.parametrize(
    ("window", "why"),
    [
        ((slice(0, 41), slice(0, 10)), "past the last row"),
        ((slice(5, 5), slice(0, 10)), "empty"),
        ((slice(-3, None), slice(0, 10)), "negative"),
        ((slice(0, 10, 2), slice(0, 10)), "step"),
        ((slice(0, 10),), "one slice"),
        ((0, slice(0, 10)), "an index"),
        ((slice(0.5, 10), slice(0, 10)), "a float bound"),
    ],
)
def test_a_bad_window_is_refused_naming_the_file(mf_file, window, why):
    with pytest.raises(ReaderError, match=r"window=.* is not \(rows, cols\) slices") as err:
        open_radar(mf_file, window=window)
    assert err.value.reason == "bad_window", why
    assert err.value.path == str(mf_file)
    assert "40 × 50 raster" in str(err.value)


def test_expected_grid_is_the_whole_file_grid(mf_file):
    part = open_radar(mf_file, window=(ROWS, COLS), expected_grid=FILE_GRID)
    assert part.shape == (24, 33)
    with pytest.raises(ReaderError, match="does not match the expected grid") as err:
        open_radar(mf_file, window=(ROWS, COLS), expected_grid=FILE_GRID.window(ROWS, COLS))
    assert err.value.reason == "grid_mismatch"


def test_meteonet_window(test_data_dir):
    path = test_data_dir / "meteonet" / "rainfall_NW_2016_08.3.npz"
    full = open_radar(path)
    part = open_radar(path, window=(slice(100, 300), slice(50, 400)))
    xr.testing.assert_identical(
        part.drop_attrs(), full.isel(y=slice(100, 300), x=slice(50, 400)).drop_attrs()
    )
    grid = ProjectedGrid.from_dict(json.loads(full.attrs["grid"]))
    assert part.attrs["grid_id"] == grid.window(slice(100, 300), slice(50, 400)).grid_id
    assert part.attrs["file_grid_id"] == grid.grid_id
    with pytest.raises(ReaderError, match="565 × 784 raster") as err:
        open_radar(path, window=(slice(0, 600), slice(0, 10)))
    assert err.value.reason == "bad_window"


def reference_decode(raw, *, gain, offset, nodata, undetect, reflectivity, limit, zr):
    """The decoding as documented, in float64, written out plainly."""
    values = raw.astype(np.float64) * gain + offset
    if reflectivity:
        with np.errstate(over="ignore", invalid="ignore"):
            values = (10.0 ** (values / 10.0) / zr[0]) ** (1.0 / zr[1])
    if undetect is not None:
        values[raw == undetect] = 0.0
    bad = ~np.isfinite(values)
    if nodata is not None:
        bad |= raw == nodata
    values[bad] = np.nan
    with np.errstate(invalid="ignore"):
        impossible = (values > limit) | (values < 0)
    values[impossible] = np.nan
    return values.astype(np.float32), int(impossible.sum())


CASES = {
    "meteofrance counts": ("uint16", "ACRR", 0.01, 0.0, 65535, None),
    "counts with undetect 0": ("uint16", "ACRR", 0.01, 0.0, 65535, 0),
    "counts with an offset": ("uint16", "ACRR", 0.013, 0.37, 65535, 7),
    "negative gain": ("uint16", "ACRR", -0.01, 30.0, 65535, None),
    "big-endian counts": (">u2", "ACRR", 0.01, 0.0, 65535, None),
    "signed counts": ("int16", "ACRR", 0.003, 1.0, -1, -32768),
    "8-bit rates": ("uint8", "RATE", 2.0, 0.0, 255, 0),
    "8-bit reflectivity": ("uint8", "DBZH", 0.5, -32.0, 255, 0),
    "signed 8-bit reflectivity": ("int8", "TH", 0.5, 10.0, -128, None),
    "32-bit counts": ("int32", "ACRR", 0.001, 0.0, -100000, None),
    "float rates": ("float32", "RATE", 1.0, 0.0, -9999.0, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("max_rate", [300.0, 40.0])
def test_decoding_equals_the_float64_reference_bit_for_bit(tmp_path, odim_writer, case, max_rate):
    dtype, quantity, gain, offset, nodata, undetect = CASES[case]
    rng = np.random.default_rng(11)
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        raw = (rng.standard_normal(LAEA.shape) * 200.0).astype(dtype)
    elif dtype.itemsize > 2:
        raw = rng.integers(-50_000, 100_000, LAEA.shape).astype(dtype)
    else:  # every code is possible: the decoding table is used whole
        info = np.iinfo(dtype)
        raw = rng.integers(info.min, int(info.max) + 1, LAEA.shape).astype(dtype)
    raw.flat[::17] = nodata
    if undetect is not None:
        raw.flat[5::23] = undetect
    path = odim_writer(
        tmp_path / "field.h5",
        raw,
        grid=LAEA,
        end=END,
        quantity=quantity,
        gain=gain,
        offset=offset,
        nodata=nodata,
        undetect=undetect,
        source="ORG:247",
    )
    zr = (300.0, 1.4)
    da = open_radar(path, max_rate=max_rate, zr=zr)
    limit = max_rate * 5.0 / 60.0 if quantity == "ACRR" else max_rate
    expected, n_impossible = reference_decode(
        raw.astype(dtype.newbyteorder("=")),
        gain=gain,
        offset=offset,
        nodata=nodata,
        undetect=undetect,
        reflectivity=quantity in ("DBZH", "TH"),
        limit=limit,
        zr=zr,
    )
    assert da.dtype == np.float32
    np.testing.assert_array_equal(da.values.view(np.uint32), expected.view(np.uint32))
    assert da.attrs["n_impossible"] == n_impossible
    assert 0 < np.isnan(expected).mean() < 1
    part = open_radar(path, max_rate=max_rate, zr=zr, window=(slice(3, 17), slice(4, 29)))
    np.testing.assert_array_equal(part.values.view(np.uint32), expected[3:17, 4:29].view(np.uint32))
