"""open_radar / radar_metadata on Météo-France and generic ODIM files from the factory."""

from __future__ import annotations

import datetime as dt
import json

import h5py
import numpy as np
import pytest

from rainscore.grids import METEOFRANCE_1KM, METEOFRANCE_500M, METEOFRANCE_PROJ, ProjectedGrid
from rainscore.io import RadarMetadata, ReaderError, open_radar, radar_metadata

END = dt.datetime(2023, 1, 1, 12, 5)
NAME = "MFRADAR_LAMEEAU_5MIN_1KM_202301011205.h5"
WINDOW = METEOFRANCE_1KM.window(slice(600, 640), slice(700, 750))  # 40 × 50 km
LAEA = ProjectedGrid(
    crs="+proj=laea +lat_0=55.0 +lon_0=10.0 +x_0=1950000.0 +y_0=-2100000.0 +units=m +ellps=WGS84",
    nx=12,
    ny=10,
    x_min=1_000_000.0,
    y_max=-2_000_000.0,
    dx=2000.0,
    dy=2000.0,
)


def _mf_raw(seed: int = 0) -> np.ndarray:
    """Window values in 1/100 mm: three rows outside coverage, one absurd pixel."""
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 300, WINDOW.shape).astype(np.uint16)
    raw[:3, :] = 65535
    raw[10, 10] = 5000  # 50 mm in 5 min = 600 mm/h
    return raw


@pytest.fixture
def mf_window(tmp_path, odim_writer):
    raw = _mf_raw()
    return odim_writer(tmp_path / NAME, raw, grid=WINDOW, end=END), raw


def test_meteofrance_window_roundtrip(mf_window):
    path, raw = mf_window
    da = open_radar(path)
    assert da.dims == ("y", "x")
    assert da.shape == (40, 50)
    expected = np.where(raw == 65535, np.nan, raw * 0.01)
    expected[10, 10] = np.nan
    np.testing.assert_allclose(da.values, expected, rtol=1e-6)
    assert da.attrs["n_impossible"] == 1
    assert da.attrs["n_negative"] == 0
    assert da.attrs["units"] == "mm"
    assert da.attrs["accumulation_minutes"] == 5.0
    assert da.attrs["start_time"] == "2023-01-01T12:00:00"
    assert da.attrs["end_time"] == "2023-01-01T12:05:00"
    assert da["time"].values == np.datetime64("2023-01-01T12:05:00", "ns")
    assert da.attrs["kind"] == "meteofrance"
    assert da.attrs["quantity"] == "ACRR"
    assert da.attrs["crs"] == METEOFRANCE_PROJ
    assert da.attrs["source_file"] == str(path)
    grid = ProjectedGrid.from_dict(json.loads(da.attrs["grid"]))
    assert grid == WINDOW  # snapped onto the Météo-France lattice, name included
    assert da.attrs["grid_id"] == WINDOW.grid_id
    # Pixel centres: column 700 of the 1 km grid is 700.5 km east of its western edge.
    assert da.x.values[0] == pytest.approx(-619652.0 + 700500.0)
    assert da.y.values[0] == pytest.approx(-3526818.0 - 600500.0)
    assert np.all(np.diff(da.y.values) == -1000.0)  # rows north to south


def test_meteofrance_metadata_reads_no_data(mf_window, monkeypatch):
    path, _ = mf_window

    def refuse(self, key):
        raise AssertionError(f"data read from {self.name}")

    monkeypatch.setattr(h5py.Dataset, "__getitem__", refuse)
    meta = radar_metadata(path)
    assert isinstance(meta, RadarMetadata)
    assert meta.kind == "meteofrance"
    assert meta.end_time == END
    assert meta.start_time == END - dt.timedelta(minutes=5)
    assert meta.accumulation_minutes == 5.0
    assert (meta.quantity, meta.units) == ("ACRR", "mm")
    assert meta.grid == WINDOW
    assert meta.shape == (40, 50)
    assert meta.frame_times == (END,)
    row = meta.as_row()
    assert row["grid_id"] == WINDOW.grid_id
    assert (row["ny"], row["nx"], row["n_frames"]) == (40, 50, 1)


@pytest.mark.parametrize(("offset", "snapped"), [(0.4, True), (300.0, False)])
def test_snapping_to_the_meteofrance_lattice(tmp_path, odim_writer, offset, snapped):
    shifted = ProjectedGrid(
        crs=METEOFRANCE_PROJ,
        nx=WINDOW.nx,
        ny=WINDOW.ny,
        x_min=WINDOW.x_min + offset,
        y_max=WINDOW.y_max - offset,
        dx=1000.0,
        dy=1000.0,
    )
    path = odim_writer(tmp_path / NAME, _mf_raw(), grid=shifted, end=END)
    grid = radar_metadata(path).grid
    if snapped:
        assert grid == WINDOW
    else:
        assert grid.x_min == pytest.approx(WINDOW.x_min + offset, abs=0.01)
        assert grid.y_max == pytest.approx(WINDOW.y_max - offset, abs=0.01)


@pytest.mark.parametrize("grid", [METEOFRANCE_1KM, METEOFRANCE_500M])
def test_meteofrance_without_where_is_the_full_grid_by_shape(tmp_path, odim_writer, grid):
    raw = np.zeros(grid.shape, dtype=np.uint16)
    raw[0, 0] = 65535
    path = odim_writer(tmp_path / NAME, raw, grid=None, end=END)
    da = open_radar(path, expected_grid=grid)
    assert da.attrs["grid_id"] == grid.grid_id
    assert da.shape == grid.shape
    assert np.isnan(da.values[0, 0])
    assert np.nansum(da.values) == 0.0


def test_file_attributes_win_over_defaults(tmp_path, odim_writer):
    raw = np.array([[0, 1, 7, 254, 255]] * 3, dtype=np.uint16)
    grid = METEOFRANCE_1KM.window(slice(0, 3), slice(0, 5))
    path = odim_writer(
        tmp_path / NAME,
        raw,
        grid=grid,
        end=END,
        start=END - dt.timedelta(minutes=15),
        gain=0.1,
        offset=0.5,
        nodata=255,
        undetect=254,
    )
    da = open_radar(path)
    np.testing.assert_allclose(da.values[0], [0.5, 0.6, 1.2, 0.0, np.nan], rtol=1e-6)
    assert da.attrs["accumulation_minutes"] == 15.0


def test_generic_odim_reflectivity_with_zr(tmp_path, odim_writer):
    raw = np.full(LAEA.shape, 130, dtype=np.uint8)  # 0.5 × 130 − 32 = 33 dBZ
    raw[0, 0], raw[0, 1] = 0, 255  # undetect, nodata
    kwargs = dict(grid=LAEA, end=END, quantity="DBZH", gain=0.5, offset=-32.0)
    path = odim_writer(
        tmp_path / "composite.h5", raw, **kwargs, nodata=255, undetect=0, source="ORG:247"
    )
    da = open_radar(path)
    assert da.attrs["kind"] == "odim"
    assert da.attrs["units"] == "mm/h"
    assert "accumulation_minutes" not in da.attrs
    # Marshall–Palmer: R = (10^(33/10) / 200)^(1/1.6) = 4.2108 mm/h
    assert da.values[5, 5] == pytest.approx(4.2108, abs=1e-4)
    assert da.values[0, 0] == 0.0
    assert np.isnan(da.values[0, 1])
    other = open_radar(path, zr=(300.0, 1.4))
    assert other.values[5, 5] == pytest.approx((10**3.3 / 300.0) ** (1 / 1.4), rel=1e-6)
    assert ProjectedGrid.from_dict(json.loads(da.attrs["grid"])).grid_id == LAEA.grid_id


def test_generic_odim_hourly_accumulation_limit(tmp_path, odim_writer):
    raw = np.tile([250.0, 350.0, -5.0, -9999.0], (LAEA.ny, 1))
    grid = ProjectedGrid(LAEA.crs, 4, LAEA.ny, LAEA.x_min, LAEA.y_max, 2000.0, 2000.0)
    path = odim_writer(
        tmp_path / "acrr.h5",
        raw,
        grid=grid,
        end=END,
        start=END - dt.timedelta(hours=1),
        gain=1.0,
        nodata=-9999.0,
        source="ORG:247",
    )
    da = open_radar(path)
    assert da.attrs["accumulation_minutes"] == 60.0
    # 300 mm/h over one hour allows 300 mm: 350 mm and -5 mm are impossible.
    np.testing.assert_array_equal(da.values[0], [250.0, np.nan, np.nan, np.nan])
    assert da.attrs["n_impossible"] == 2 * LAEA.ny


def test_name_time_disagrees_with_time_inside(tmp_path, odim_writer):
    path = odim_writer(
        tmp_path / "MFRADAR_LAMEEAU_5MIN_1KM_202301011210.h5", _mf_raw(), grid=WINDOW, end=END
    )
    for reader in (open_radar, radar_metadata):
        with pytest.raises(ReaderError, match=r"name \(2023-01-01T12:10:00\) disagrees") as err:
            reader(path)
        assert err.value.reason == "time_mismatch"


def test_grid_different_from_expected(mf_window):
    path, _ = mf_window
    with pytest.raises(ReaderError, match="does not match the expected grid") as err:
        open_radar(path, expected_grid=METEOFRANCE_1KM)
    assert err.value.reason == "grid_mismatch"
    assert open_radar(path, expected_grid=WINDOW).shape == (40, 50)


def test_corners_disagreeing_with_size(mf_window):
    path, _ = mf_window
    with h5py.File(path, "a") as h5:
        h5["where"].attrs["LR_lon"] = h5["where"].attrs["LR_lon"] + 0.5
    with pytest.raises(ReaderError, match="corners disagree") as err:
        radar_metadata(path)
    assert err.value.reason == "inconsistent"


def test_size_disagreeing_with_array(mf_window):
    path, _ = mf_window
    with h5py.File(path, "a") as h5:
        h5["where"].attrs["xsize"] = np.int64(51)
    with pytest.raises(ReaderError, match=r"xsize=51, ysize=40 disagree .* shape \(40, 50\)"):
        open_radar(path)


def test_unusable_projection(mf_window):
    path, _ = mf_window
    with h5py.File(path, "a") as h5:
        h5["where"].attrs["projdef"] = np.bytes_("+proj=nonsense +units=m")
    with pytest.raises(ReaderError, match=r"where/projdef '\+proj=nonsense") as err:
        open_radar(path)
    assert err.value.reason == "inconsistent"


def test_missing_dataset_group(tmp_path):
    path = tmp_path / NAME
    with h5py.File(path, "w") as h5:
        h5.create_group("what").attrs["date"] = np.bytes_("20230101")
    with pytest.raises(ReaderError, match="no /dataset1 group") as err:
        open_radar(path)
    assert err.value.reason == "missing_group"
    assert NAME in str(err.value)


def test_accumulation_without_start_in_generic_odim(tmp_path, odim_writer):
    path = odim_writer(tmp_path / "acrr.h5", np.zeros(LAEA.shape), grid=LAEA, end=END, source="X")
    with h5py.File(path, "a") as h5:
        del h5["dataset1/what"].attrs["startdate"]
    with pytest.raises(ReaderError, match="period is unknown") as err:
        radar_metadata(path)
    assert err.value.reason == "missing_attribute"


def test_unknown_quantity(tmp_path, odim_writer):
    path = odim_writer(
        tmp_path / "q.h5", np.zeros(LAEA.shape), grid=LAEA, end=END, quantity="VRADH"
    )
    with pytest.raises(ReaderError, match=r"found dataset1/data1:VRADH") as err:
        open_radar(path)
    assert err.value.reason == "unknown_quantity"


def test_no_georeferencing_and_not_a_meteofrance_shape(tmp_path, odim_writer):
    path = odim_writer(tmp_path / NAME, np.zeros((20, 30), np.uint16), grid=None, end=END)
    with pytest.raises(ReaderError, match="no where/projdef") as err:
        open_radar(path)
    assert err.value.reason == "missing_attribute"


def test_empty_truncated_and_foreign_files(tmp_path, mf_window):
    path, _ = mf_window
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(ReaderError, match="empty") as err:
        open_radar(empty)
    assert err.value.reason == "empty"
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ReaderError) as err:
        open_radar(truncated)
    assert err.value.reason == "unreadable"
    assert "truncated.h5" in str(err.value)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a radar file")
    with pytest.raises(ReaderError, match="neither an HDF5 file") as err:
        radar_metadata(foreign)
    assert err.value.reason == "unknown_format"


def test_negative_values_are_masked_and_counted_apart(mf_window):
    path, raw = mf_window
    with h5py.File(path, "r+") as h5:
        h5["dataset1/what"].attrs["gain"] = -0.01
    da = open_radar(path)
    wet = int(np.count_nonzero((raw > 0) & (raw != 65535)))
    assert da.attrs["n_negative"] == wet
    assert da.attrs["n_impossible"] == wet
    assert int(np.count_nonzero(da.values == 0)) == int(np.count_nonzero(raw == 0))


def test_a_chunk_that_fails_to_decompress_is_corrupt_data(tmp_path, odim_writer):
    path = odim_writer(tmp_path / NAME, _mf_raw(), grid=WINDOW, end=END)
    with h5py.File(path, "r") as h5:
        info = h5["dataset1/data1/data"].id.get_chunk_info(0)
    with open(path, "r+b") as f:
        f.seek(info.byte_offset + info.size // 4)
        f.write(b"\xff" * (info.size // 2))
    radar_metadata(path)  # the attributes are intact
    with pytest.raises(ReaderError, match="cannot be read or decompressed") as caught:
        open_radar(path)
    assert caught.value.reason == "corrupt_data"


def test_group_cache_finds_objects_through_their_links(tmp_path):
    from rainscore.io.hdf5 import GroupCache

    path = tmp_path / "links.h5"
    with h5py.File(path, "w") as h5:
        h5.create_group("dataset1/data1/what").attrs["gain"] = 0.5
        h5.create_dataset("dataset1/data1/data", data=np.zeros((2, 3), np.uint16))
        h5["dataset1/dangling"] = h5py.SoftLink("/nowhere")
    with h5py.File(path, "r") as h5:
        cache = GroupCache(h5)
        assert cache.children("") == ["dataset1"]
        assert cache.children("dataset1") == ["dangling", "data1"]
        assert cache.children("dataset1/data1") == ["data", "what"]
        assert cache.number("dataset1/data1/what", "gain") == 0.5
        assert cache.dataset("dataset1/data1/data").shape == (2, 3)
        for absent in ("what", "dataset1/what", "dataset2/data1/what", "dataset1/dangling"):
            assert cache.group(absent) is None
            assert cache.number(absent, "gain") is None
        assert cache.group("dataset1/data1/data") is None  # a dataset, not a group
        assert cache.dataset("dataset1/data1/what") is None
        assert cache.children("dataset2") == []


def test_a_file_read_without_chunk_cache_can_be_open_elsewhere_at_the_same_time(mf_window):
    from rainscore.io.hdf5 import open_hdf5

    path, raw = mf_window
    with open_hdf5(path, chunk_cache=False) as lean, h5py.File(path, "r") as other:
        assert lean["dataset1/data1/data"].shape == other["dataset1/data1/data"].shape
    with h5py.File(path, "r") as other, open_hdf5(path, chunk_cache=False) as lean:
        assert lean["dataset1/data1/data"].shape == other["dataset1/data1/data"].shape
    with h5py.File(path, "r") as other:
        assert open_radar(path).shape == raw.shape == other["dataset1/data1/data"].shape
