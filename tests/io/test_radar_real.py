"""open_radar on the real OPERA composites (shared folder) and the MeteoNet sample."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import shutil
import zipfile

import h5py
import numpy as np
import pytest
from pyproj import Transformer

from rainscore.grids import ProjectedGrid
from rainscore.io import ReaderError, open_meteonet, open_radar, radar_metadata

# file → (nominal time, number of pixels above 300 mm/h)
OPERA = {
    "T_PAAH21_C_EUOC_20180824180000.hdf": (dt.datetime(2018, 8, 24, 18, 0), 3),
    "T_PAAH21_C_EUOC_20180824181500.hdf": (dt.datetime(2018, 8, 24, 18, 15), 0),
}
PARIS = (2.35, 48.85)  # lon, lat


@pytest.fixture(scope="module")
def opera_dir(shared_data_dir):
    folder = shared_data_dir / "opera"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


@pytest.mark.parametrize("name", sorted(OPERA))
def test_opera_rate_composite(opera_dir, name):
    path = opera_dir / name
    nominal, n_absurd = OPERA[name]
    da = open_radar(path)
    with h5py.File(path) as h5:
        raw = h5["dataset1/data1/data"][()]
    assert da.shape == (2200, 1900)
    assert da.dims == ("y", "x")
    assert da.attrs["units"] == "mm/h"
    assert da.attrs["quantity"] == "RATE"
    assert da.attrs["kind"] == "odim"
    assert "accumulation_minutes" not in da.attrs
    # time = end of the window (dataset1/what), the nominal time is kept beside it
    end = nominal + dt.timedelta(minutes=5)
    assert da["time"].values == np.datetime64(end, "ns")
    assert da.attrs["start_time"] == (nominal - dt.timedelta(minutes=10)).isoformat()
    assert da.attrs["nominal_time"] == nominal.isoformat()
    # nodata → NaN, undetect → 0, absurd rates masked and counted
    assert int((raw > 300).sum()) == n_absurd
    assert da.attrs["n_impossible"] == n_absurd
    assert int(np.isnan(da.values).sum()) == int((raw == -9999000).sum()) + n_absurd
    assert int((da.values == 0).sum()) == int((raw == -8888000).sum()) + int((raw == 0).sum())
    assert np.nanmax(da.values) <= 300.0
    valid = (raw >= 0) & (raw <= 300)
    np.testing.assert_allclose(da.values[valid], raw[valid], rtol=1e-6)
    # Georeferencing: 2 km LAEA with the upper-left outer corner at (0, 0).
    grid = ProjectedGrid.from_dict(json.loads(da.attrs["grid"]))
    assert (grid.nx, grid.ny, grid.dx, grid.dy) == (1900, 2200, 2000.0, 2000.0)
    assert (grid.x_min, grid.y_max) == (0.0, 0.0)
    assert "+proj=laea" in da.attrs["crs"]
    assert da.x.values[0] == 1000.0 and da.y.values[0] == -1000.0
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(*PARIS)
    col, row = int(x // 2000), int(-y // 2000)
    assert (col, row) == (694, 1376)
    assert abs(da.x.values[col] - x) <= 1000 and abs(da.y.values[row] - y) <= 1000
    assert np.isfinite(da.values[row, col])  # Paris is covered by French radars


def test_opera_metadata_and_max_rate(opera_dir):
    path = opera_dir / "T_PAAH21_C_EUOC_20180824180000.hdf"
    meta = radar_metadata(path)
    assert meta.kind == "odim"
    assert meta.end_time == dt.datetime(2018, 8, 24, 18, 5)
    assert meta.nominal_time == dt.datetime(2018, 8, 24, 18, 0)
    assert meta.accumulation_minutes is None
    assert meta.shape == (2200, 1900)
    strict = open_radar(path, max_rate=100.0)
    assert strict.attrs["n_impossible"] > open_radar(path).attrs["n_impossible"]
    assert np.nanmax(strict.values) <= 100.0


def test_opera_quality_field_by_quantity(opera_dir):
    path = opera_dir / "T_PAAH21_C_EUOC_20180824180000.hdf"
    with pytest.raises(ReaderError, match="quantity 'QIND' is not one the reader converts"):
        open_radar(path, quantity="QIND")  # present, but not a precipitation quantity


# --------------------------------------------------------------------- MeteoNet

METEONET = "rainfall_NW_2016_08.3.npz"


@pytest.fixture(scope="module")
def meteonet(test_data_dir):
    path = test_data_dir / "meteonet" / METEONET
    with np.load(path, allow_pickle=True) as z:  # trusted test file: the reference
        raw, dates = z["data"], list(z["dates"])
    return path, raw, dates, open_radar(path)


def test_meteonet_frames_and_times(meteonet):
    _, _, dates, da = meteonet
    assert da.dims == ("time", "y", "x")
    assert da.shape == (45, 565, 784)
    times = da["time"].values
    assert times[0] == np.datetime64("2016-08-21T00:10", "ns")
    assert times[-1] == np.datetime64("2016-08-31T00:30", "ns")
    np.testing.assert_array_equal(times, np.array(sorted(dates), dtype="datetime64[ns]"))
    contiguous = (times >= np.datetime64("2016-08-28T10:00")) & (
        times <= np.datetime64("2016-08-28T11:10")
    )
    assert contiguous.sum() == 15
    assert da.attrs["start_time"] == "2016-08-21T00:05:00"
    assert da.attrs["end_time"] == "2016-08-31T00:30:00"
    assert da.attrs["accumulation_minutes"] == 5.0


def test_meteonet_coordinates_and_values(meteonet):
    _, raw, _, da = meteonet
    assert da.y.values[0] == 51.891 and da.y.values[-1] == 46.251
    assert da.x.values[0] == -5.837 and da.x.values[-1] == 1.993
    grid = ProjectedGrid.from_dict(json.loads(da.attrs["grid"]))
    assert grid.crs == "EPSG:4326"
    assert (grid.dx, grid.dy, grid.x_min, grid.y_max) == (0.01, 0.01, -5.842, 51.896)
    assert da.attrs["units"] == "mm"
    assert int(np.isnan(da.values).sum()) == int((raw == -1).sum())
    assert da.attrs["n_impossible"] == 0
    np.testing.assert_allclose(np.nansum(da.values), raw[raw >= 0].sum() * 0.01, rtol=1e-5)
    assert np.nanmax(da.values) == pytest.approx(2.54)


def test_meteonet_metadata(test_data_dir):
    meta = radar_metadata(test_data_dir / "meteonet" / METEONET)
    assert meta.kind == "meteonet"
    assert meta.n_frames == 45
    assert meta.shape == (565, 784)
    assert meta.end_time == dt.datetime(2016, 8, 31, 0, 30)
    assert meta.frame_times[0] == dt.datetime(2016, 8, 21, 0, 10)
    assert meta.grid.name == "meteonet-NW-0.01deg"


def test_meteonet_coordinate_file_missing_or_explicit(tmp_path, test_data_dir):
    lonely = tmp_path / METEONET
    shutil.copy(test_data_dir / "meteonet" / METEONET, lonely)
    with pytest.raises(ReaderError, match=r"radar_coords_NW\.npz not found") as err:
        open_radar(lonely)
    assert err.value.reason == "missing_variable"
    coords = test_data_dir / "meteonet" / "radar_coords_NW.npz"
    da = open_meteonet(lonely, coords_path=coords)
    assert da.shape == (45, 565, 784)


def test_meteonet_pickled_code_is_refused(tmp_path, test_data_dir):
    """A crafted ``dates`` array must not run code: only arrays and datetimes are rebuilt."""
    shutil.copy(test_data_dir / "meteonet" / "radar_coords_NW.npz", tmp_path)
    path = tmp_path / METEONET

    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    payload = np.empty(1, dtype=object)
    payload[0] = Exploit()
    with zipfile.ZipFile(path, "w") as zf:
        with zf.open("data.npy", "w") as f:
            np.lib.format.write_array(f, np.zeros((1, 565, 784), np.int16))
        with zf.open("dates.npy", "w") as f:
            np.lib.format.write_array(f, payload, allow_pickle=True)
    with pytest.raises(ReaderError, match=r"builtins\.print is not allowed") as err:
        radar_metadata(path)
    assert err.value.reason == "unreadable"
    assert pickle.loads(pickle.dumps(err.value)).reason == "unreadable"


def test_meteonet_truncated_archive(tmp_path, test_data_dir):
    source = test_data_dir / "meteonet" / METEONET
    shutil.copy(test_data_dir / "meteonet" / "radar_coords_NW.npz", tmp_path)
    path = tmp_path / METEONET
    path.write_bytes(source.read_bytes()[:100_000])
    with pytest.raises(ReaderError) as err:
        open_radar(path)
    assert err.value.reason == "unreadable"
    assert METEONET in str(err.value)
