"""open_imerg on the real samples and on factory files of every version and format."""

from __future__ import annotations

import datetime as dt
import shutil

import h5py
import numpy as np
import pytest
import xarray as xr

from rainscore.grids import DEFAULT_BOX, Box
from rainscore.io import IMERG_VARIABLES, ReaderError, open_imerg

POLE_BOX = Box(lat_min=-90.0, lat_max=-89.0, lon_min=-180.0, lon_max=-179.0)
# 8 × 10 cells in the south-west corner of the France box, where the factories write.
SMALL_BOX = Box(lat_min=42.8, lat_max=43.6, lon_min=-2.8, lon_max=-1.8)
T0 = dt.datetime(2018, 1, 1, 0, 0)
V06 = "3B-HHR.MS.MRG.3IMERG.20000601-S000000-E002959.0000.V06B.HDF5"
V07 = "3B-HHR.MS.MRG.3IMERG.20000601-S000000-E002959.0000.V07A.HDF5"


def _raw(path, name):
    """The sample's raw (lon, lat) array of variable ``name``, transposed to (lat, lon)."""
    with h5py.File(path) as h5:
        return h5[name][0].T


# --------------------------------------------------------------------- real samples


def test_real_v07a_sample(test_data_dir):
    path = test_data_dir / "imerg" / V07
    ds = open_imerg(path, box=POLE_BOX)
    assert ds.sizes == {"time": 1, "lat": 10, "lon": 10}
    assert list(ds["precipitation"].dims) == ["time", "lat", "lon"]
    # Grid/time = 643852800 s since 1980-01-06 is 2000-06-01 00:00, the start of the half hour.
    assert ds.time.values[0] == np.datetime64("2000-06-01T00:00:00", "ns")
    np.testing.assert_array_equal(ds.lat.values, np.round(-89.95 + 0.1 * np.arange(10), 6))
    np.testing.assert_array_equal(ds.lon.values, np.round(-179.95 + 0.1 * np.arange(10), 6))
    assert ds.lat.dtype == np.float64
    assert ds.attrs["product"] == "Final"
    assert ds.attrs["version"] == "V07A"
    assert ds.attrs["source_files"] == [V07]
    assert ds["precipitation"].attrs["units"] == "mm/h"
    assert ds["precipitation"].attrs["source_variable"] == "Grid/precipitation"
    assert ds["ir_influence"].attrs["source_variable"] == "Grid/Intermediate/IRinfluence"
    raw = _raw(path, "Grid/precipitation")
    expected = np.where(raw < -9000, np.nan, raw)
    np.testing.assert_array_equal(ds["precipitation"].values[0], expected)
    # The three southernmost rows (-89.95 … -89.75) are fill, the rest 0 mm/h.
    assert np.isnan(ds["precipitation"].values[0][:3, :]).all()
    assert (ds["precipitation"].values[0][3:, :] == 0).all()
    np.testing.assert_allclose(ds["random_error"].values[0][3:, :], 0.24, rtol=1e-6)
    assert (ds["mw_source"].values == 0).all()  # int16 0 = no PMW, kept as 0
    assert ds["mw_source"].dtype == np.float32
    assert np.isnan(ds["mw_observation_time"].values).all()  # int16 -9999 → NaN
    assert np.isnan(ds["ir_influence"].values).all()
    assert (ds["liquid_probability"].values == 0).all()
    assert set(ds.data_vars) == set(IMERG_VARIABLES)


def test_real_v06b_sample(test_data_dir):
    path = test_data_dir / "imerg" / V06
    ds = open_imerg(path, box=POLE_BOX)
    # Grid/time = 959817600 s since 1970-01-01: the same half hour as the V07A sample.
    assert ds.time.values[0] == np.datetime64("2000-06-01T00:00:00", "ns")
    assert ds.attrs["version"] == "V06B"
    assert ds["precipitation"].attrs["source_variable"] == "Grid/precipitationCal"
    assert ds["mw_precipitation"].attrs["source_variable"] == "Grid/HQprecipitation"
    assert ds["ir_influence"].attrs["source_variable"] == "Grid/IRkalmanFilterWeight"
    assert "Kalman" in ds["ir_influence"].attrs["comment"]
    assert np.isnan(ds["precipitation"].values).all()  # all -9999.9 in this sample
    assert (ds["ir_influence"].values == 0).all()
    assert (ds["mw_source"].values == 0).all()
    assert ds["precipitation"].attrs["units"] == "mm/h"
    assert ds["liquid_probability"].attrs["units"] == "%"


def test_real_sample_partial_box_reads_the_right_cells(test_data_dir):
    path = test_data_dir / "imerg" / V07
    box = Box(lat_min=-89.8, lat_max=-89.5, lon_min=-179.8, lon_max=-179.5)
    ds = open_imerg(path, box=box, variables=["random_error"])
    assert list(ds.data_vars) == ["random_error"]
    np.testing.assert_array_equal(ds.lat.values, [-89.75, -89.65, -89.55])
    np.testing.assert_array_equal(ds.lon.values, [-179.75, -179.65, -179.55])
    raw = _raw(path, "Grid/randomError")[2:5, 2:5]
    np.testing.assert_array_equal(ds["random_error"].values[0], np.where(raw < 0, np.nan, raw))


def test_real_samples_same_half_hour_is_a_duplicate(test_data_dir):
    paths = [test_data_dir / "imerg" / V06, test_data_dir / "imerg" / V07]
    with pytest.raises(ReaderError, match="duplicate time") as err:
        open_imerg(paths, box=POLE_BOX)
    assert err.value.reason == "inconsistent"


def test_box_outside_a_subset_file(test_data_dir):
    with pytest.raises(ReaderError, match=r"covers -89\.95…-89\.05") as err:
        open_imerg(test_data_dir / "imerg" / V07, box=SMALL_BOX)
    assert err.value.reason == "outside_box"
    assert V07 in str(err.value)


# --------------------------------------------------------------------- factory files


def test_v07_global_file_roundtrip(tmp_path, imerg_writer, fields_factory):
    fields = fields_factory((8, 10), seed=1)
    path = imerg_writer(tmp_path, T0, fields=fields)
    ds = open_imerg(path, box=SMALL_BOX)
    assert ds.time.values[0] == np.datetime64(T0, "ns")
    np.testing.assert_array_equal(ds.lat.values, SMALL_BOX.lat)
    np.testing.assert_array_equal(ds.lon.values, SMALL_BOX.lon)
    for name, expected in fields.items():
        np.testing.assert_allclose(ds[name].values[0], expected, rtol=1e-6, err_msg=name)
    assert np.isnan(ds["precipitation"].values[0, 0, 0])
    assert np.isnan(ds["liquid_probability"].values[0, 0, 1])


def test_default_box_reads_only_the_box(tmp_path, imerg_writer, fields_factory, monkeypatch):
    path = imerg_writer(tmp_path, T0, fields=fields_factory((8, 10), seed=2))
    sizes = []
    original = h5py.Dataset.__getitem__

    def spy(self, key):
        out = original(self, key)
        sizes.append((self.name, np.asarray(out).size))
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    ds = open_imerg(path)  # DEFAULT_BOX: 72 × 104
    data_reads = [s for n, s in sizes if n.rsplit("/", 1)[-1] not in ("lat", "lon", "time")]
    assert len(data_reads) == 10
    assert max(data_reads) == 72 * 104
    assert ds["precipitation"].shape == (1, *DEFAULT_BOX.shape)
    # Outside the factory's 8 × 10 block the file holds fill values only.
    assert np.isnan(ds["precipitation"].values[0, 8:, :]).all()


@pytest.mark.parametrize(("run", "product"), [("E", "Early"), ("L", "Late")])
def test_v06_realtime_file(tmp_path, imerg_writer, fields_factory, run, product):
    fields = fields_factory((8, 10), seed=3)
    path = imerg_writer(tmp_path, T0, fields=fields, run=run, version="V06B")
    assert path.name.endswith(".V06B.RT-H5")
    ds = open_imerg(path, box=SMALL_BOX)
    assert ds.attrs["product"] == product
    np.testing.assert_allclose(ds["mw_precipitation"].values[0], fields["mw_precipitation"])
    np.testing.assert_allclose(ds["ir_influence"].values[0], fields["ir_influence"])


def test_v05_two_dimensional_early_file(tmp_path, imerg_writer, fields_factory):
    """V03–V05 real-time files: (lon, lat) arrays, no time dimension and no time variable."""
    fields = fields_factory((8, 10), seed=4)
    start = dt.datetime(2018, 1, 1, 13, 30)
    path = imerg_writer(tmp_path, start, fields=fields, run="E", version="V05B", two_d=True)
    assert path.name == "3B-HHR-E.MS.MRG.3IMERG.20180101-S133000-E135959.0810.V05B.RT-H5"
    ds = open_imerg(path, box=SMALL_BOX)
    assert ds.sizes == {"time": 1, "lat": 8, "lon": 10}
    assert ds.time.values[0] == np.datetime64(start, "ns")  # from FileHeader
    assert ds.attrs["product"] == "Early"
    assert ds.attrs["version"] == "V05B"
    np.testing.assert_allclose(ds["precipitation"].values[0], fields["precipitation"], rtol=1e-6)


def test_v04_without_coordinates_or_time_uses_the_lattice_and_name(
    tmp_path, imerg_writer, fields_factory
):
    fields = fields_factory((8, 10), seed=5)
    path = imerg_writer(tmp_path, T0, fields=fields, version="V04A", two_d=True, with_coords=False)
    with h5py.File(path, "a") as h5:
        del h5.attrs["FileHeader"]  # time and run can only come from the name now
    ds = open_imerg(path, box=SMALL_BOX)
    assert ds.time.values[0] == np.datetime64(T0, "ns")
    assert ds.attrs["version"] == "V04A"
    np.testing.assert_allclose(ds["mw_source"].values[0], fields["mw_source"])


@pytest.mark.parametrize("groups", [False, True])
def test_nc4_subset(tmp_path, imerg_nc4_writer, fields_factory, groups):
    """GES DISC subsets: float32 coords covering more than the box, lat descending."""
    lat = np.round(43.75 - 0.1 * np.arange(14), 2)  # 43.75 … 42.45, north to south
    lon = np.round(-3.15 + 0.1 * np.arange(16), 2)  # -3.15 … -1.65
    full = fields_factory((14, 16), seed=6)
    path = imerg_nc4_writer(tmp_path, T0, fields=full, lat=lat, lon=lon, groups=groups)
    assert path.name.endswith(".V07B.HDF5.nc4")
    ds = open_imerg(path, box=SMALL_BOX)
    np.testing.assert_array_equal(ds.lat.values, SMALL_BOX.lat)
    assert ds.time.values[0] == np.datetime64(T0, "ns")  # 1970-based units this time
    rows = [int(np.argmin(np.abs(lat - v))) for v in SMALL_BOX.lat]
    cols = [int(np.argmin(np.abs(lon - v))) for v in SMALL_BOX.lon]
    for name in ("precipitation", "mw_source", "ir_influence"):
        expected = full[name][np.ix_(rows, cols)]
        np.testing.assert_allclose(ds[name].values[0], expected, rtol=1e-6, err_msg=name)


def test_several_files_sorted_on_time(tmp_path, imerg_writer, fields_factory):
    starts = [T0 + dt.timedelta(minutes=30 * k) for k in (2, 0, 1)]
    paths = [
        imerg_writer(tmp_path, s, fields=fields_factory((8, 10), seed=10 + k))
        for k, s in enumerate(starts)
    ]
    ds = open_imerg(paths, box=SMALL_BOX, variables=["precipitation"], progress=False)
    expected_times = np.array([T0 + dt.timedelta(minutes=30 * k) for k in range(3)], "M8[ns]")
    np.testing.assert_array_equal(ds.time.values, expected_times)
    assert ds.attrs["source_files"] == [paths[1].name, paths[2].name, paths[0].name]
    np.testing.assert_allclose(
        ds["precipitation"].values[0], fields_factory((8, 10), seed=11)["precipitation"]
    )


def test_result_is_netcdf_serialisable(tmp_path, imerg_writer):
    ds = open_imerg(imerg_writer(tmp_path, T0), box=SMALL_BOX)
    ds.to_netcdf(tmp_path / "cube.nc", engine="h5netcdf")
    back = xr.open_dataset(tmp_path / "cube.nc", engine="h5netcdf").load()
    # netCDF stores a one-element list attribute as a plain string.
    assert back.attrs.pop("source_files") == ds.attrs["source_files"][0]
    expected = ds.copy()
    expected.attrs.pop("source_files")
    xr.testing.assert_identical(back, expected)


# --------------------------------------------------------------------- bad files


def test_empty_file(tmp_path, name_factory):
    path = tmp_path / name_factory(T0)
    path.write_bytes(b"")
    with pytest.raises(ReaderError, match=r"empty \(0 bytes\)") as err:
        open_imerg(path)
    assert err.value.reason == "empty"
    assert err.value.path == str(path)


def test_not_hdf5(tmp_path, name_factory):
    path = tmp_path / name_factory(T0)
    path.write_text("<html>404 Not Found</html>")
    with pytest.raises(ReaderError, match="no HDF5 signature") as err:
        open_imerg(path)
    assert err.value.reason == "unreadable"


def test_truncated_file(tmp_path, imerg_writer, fields_factory):
    path = imerg_writer(tmp_path, T0, fields=fields_factory((8, 10), seed=7))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReaderError) as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "unreadable"
    assert path.name in str(err.value)


def test_time_inside_disagrees_with_name(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, inside_start=T0 + dt.timedelta(minutes=30))
    with pytest.raises(ReaderError, match="disagrees with the file name") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "time_mismatch"
    assert "2018-01-01T00:30:00" in str(err.value)
    assert path.name in str(err.value)


def test_missing_intermediate_group(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, skip_groups=("Grid/Intermediate",))
    with pytest.raises(ReaderError, match="no group 'Grid/Intermediate'") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "missing_group"


def test_missing_grid_group(tmp_path, name_factory):
    path = tmp_path / name_factory(T0)
    with h5py.File(path, "w") as h5:
        h5.create_group("Swath")
    with pytest.raises(ReaderError, match="no group 'Grid'") as err:
        open_imerg(path)
    assert err.value.reason == "missing_group"


def test_unknown_version(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, version="V08A")
    with pytest.raises(ReaderError, match="'V08A' is not supported") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "unknown_version"


def test_version_in_header_disagrees_with_name(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, header_version="V06B")
    with pytest.raises(ReaderError, match="says version V07B but FileHeader") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "inconsistent"


def test_run_in_header_disagrees_with_name(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, header_run="E")
    with pytest.raises(ReaderError, match="Early run") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "inconsistent"


def test_mixed_runs_are_refused(tmp_path, imerg_writer):
    a = imerg_writer(tmp_path, T0, run="E")
    b = imerg_writer(tmp_path, T0 + dt.timedelta(minutes=30), run="F")
    with pytest.raises(ReaderError, match="read one run at a time"):
        open_imerg([a, b], box=SMALL_BOX)


def test_variable_missing_from_an_original(tmp_path, imerg_writer, fields_factory):
    """V06/V07 PPS files always hold the ten variables: one missing is a damaged file."""
    fields = fields_factory((8, 10), seed=8)
    del fields["ir_influence"]
    path = imerg_writer(tmp_path, T0, fields=fields)
    for variables in (None, ["precipitation", "ir_influence"]):
        with pytest.raises(ReaderError, match="Grid/Intermediate/IRinfluence") as err:
            open_imerg(path, box=SMALL_BOX, variables=variables)
        assert err.value.reason == "missing_variable"
    ds = open_imerg(path, box=SMALL_BOX, variables=["precipitation"])
    assert list(ds.data_vars) == ["precipitation"]


def test_unexpected_units(tmp_path, imerg_writer):
    path = imerg_writer(tmp_path, T0, units_override={"precipitation": "mm/day"})
    with pytest.raises(ReaderError, match="units 'mm/day'"):
        open_imerg(path, box=SMALL_BOX)


def test_unknown_variable_name(test_data_dir):
    with pytest.raises(ValueError, match="unknown variable name"):
        open_imerg(test_data_dir / "imerg" / V07, box=POLE_BOX, variables=["precipitationCal"])


def test_renamed_file_still_read_from_its_header(tmp_path, test_data_dir):
    path = tmp_path / "imerg_sample.h5"
    shutil.copy(test_data_dir / "imerg" / V07, path)
    ds = open_imerg(path, box=POLE_BOX)
    assert ds.attrs["version"] == "V07A"
    assert ds.time.values[0] == np.datetime64("2000-06-01T00:00:00", "ns")


def test_v07_layout_labelled_v06(tmp_path, imerg_writer, name_factory):
    path = imerg_writer(tmp_path, T0, name=name_factory(T0, version="V06B"), header_version="V06B")
    with pytest.raises(ReaderError, match="V06B file has no variable 'Grid/precipitationCal'"):
        open_imerg(path, box=SMALL_BOX)


def test_subset_with_a_few_variables(tmp_path, imerg_nc4_writer, fields_factory):
    fields = fields_factory((8, 10), seed=9)
    only = {k: fields[k] for k in ("mw_source", "mw_observation_time")}
    path = imerg_nc4_writer(
        tmp_path, T0, fields=only, lat=SMALL_BOX.lat, lon=SMALL_BOX.lon, groups=True
    )
    ds = open_imerg(path, box=SMALL_BOX)
    assert list(ds.data_vars) == ["mw_source", "mw_observation_time"]
    np.testing.assert_array_equal(ds["mw_source"].values[0], fields["mw_source"])


def test_every_truncation_is_a_reader_error(tmp_path, imerg_writer):
    """Cut a file at many lengths: always a ReaderError naming the file, never a crash."""
    source = imerg_writer(tmp_path, T0)
    data = source.read_bytes()
    (tmp_path / "cut").mkdir()
    cut = tmp_path / "cut" / source.name
    sizes = np.linspace(8, len(data) - 1, 25).astype(int)
    for size in sizes:
        cut.write_bytes(data[:size])
        with pytest.raises(ReaderError) as err:
            open_imerg(cut, box=SMALL_BOX)
        assert err.value.reason == "unreadable", size
        assert cut.name in str(err.value)


def test_corrupt_bytes_never_give_silent_wrong_values(tmp_path, imerg_writer, fields_factory):
    """Overwrite 64 bytes at many places: a ReaderError, or exactly the original values
    (the damage is somewhere the reader does not look, e.g. another chunk)."""
    source = imerg_writer(tmp_path, T0, fields=fields_factory((8, 10), seed=12))
    reference = open_imerg(source, box=SMALL_BOX)
    data = source.read_bytes()
    (tmp_path / "bad").mkdir()
    bad = tmp_path / "bad" / source.name
    rng = np.random.default_rng(0)
    errors = []
    for offset in np.linspace(0, len(data) - 64, 30).astype(int):
        damaged = bytearray(data)
        damaged[offset : offset + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
        bad.write_bytes(bytes(damaged))
        try:
            ds = open_imerg(bad, box=SMALL_BOX)
        except ReaderError as err:
            errors.append(str(err))
            continue
        xr.testing.assert_identical(ds.drop_attrs(), reference.drop_attrs())
    assert len(errors) >= 5
    assert all(bad.name in e for e in errors)
