"""The files of a synthetic world have the real layouts, read with h5py only."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py
import numpy as np
import pytest
from pyproj import Transformer

from rainscore.atomic import atomic_path
from rainscore.grids import METEOFRANCE_1KM, imerg_global_lat, imerg_global_lon
from rainscore.synthetic.imerg_file import VARIABLES, imerg_relpath

RADAR_NAME = re.compile(r"MFRADAR_LAMEEAU_5MIN_1KM_(\d{12})\.h5")
FINAL_NAME = re.compile(r"3B-HHR\.MS\.MRG\.3IMERG\.(\d{8})-S(\d{6})-E(\d{6})\.(\d{4})\.V07B\.HDF5")


def _attrs(obj: h5py.HLObject) -> dict:
    return {k: v for k, v in obj.attrs.items() if k not in ("DIMENSION_LIST", "REFERENCE_LIST")}


def test_manifest_lists_every_file_with_its_size(small_world):
    m = small_world.manifest
    assert list(m.columns) == ["kind", "path", "time", "bytes"]
    assert m["kind"].value_counts().to_dict() == {"radar": 288, "imerg": 48, "truth": 1, "world": 1}
    for row in m.itertuples():
        assert (small_world.root / row.path).stat().st_size == row.bytes
    files = {
        p.relative_to(small_world.root).as_posix()
        for p in small_world.root.rglob("*")
        if p.is_file()
    }
    assert files == set(m["path"])  # nothing else, no temporary file left behind


def test_radar_files_are_stamped_at_the_end_of_each_5_minutes(small_world):
    radar = small_world.manifest.query("kind == 'radar'")
    stamps = [RADAR_NAME.fullmatch(p.rsplit("/", 1)[1]).group(1) for p in radar["path"]]
    assert stamps[0] == "202406100605" and stamps[-1] == "202406110600"
    times = radar["time"].to_numpy()
    assert np.all(np.diff(times) == np.timedelta64(5, "m"))
    assert radar["path"].iloc[0] == "radar/2024/06/10/MFRADAR_LAMEEAU_5MIN_1KM_202406100605.h5"
    # The file of 00:00 belongs to the day it is stamped with.
    assert "radar/2024/06/11/MFRADAR_LAMEEAU_5MIN_1KM_202406110000.h5" in set(radar["path"])


def test_radar_file_has_the_meteofrance_odim_layout(small_world):
    world = small_world.world
    path = small_world.root / "radar/2024/06/10/MFRADAR_LAMEEAU_5MIN_1KM_202406101230.h5"
    grid = world.radar_grid
    with h5py.File(path, "r") as f:
        assert f.attrs["Conventions"] == b"ODIM_H5/V2_1"
        what = _attrs(f["what"])
        assert what == {
            "object": b"COMP",
            "version": b"H5rad 2.1",
            "date": b"20240610",
            "time": b"123000",
            "source": b"ORG:85",
        }
        where = f["where"].attrs
        assert where["projdef"] == (
            b"+proj=stere +lat_0=90 +lon_0=0 +lat_ts=45 +ellps=WGS84 +units=m +no_defs"
        )
        assert where["xsize"].dtype == np.int64 and where["xsize"] == grid.nx
        assert where["ysize"].dtype == np.int64 and where["ysize"] == grid.ny
        assert where["xscale"].dtype == np.float64 and where["xscale"] == 1000.0
        assert where["yscale"] == 1000.0
        to_ll = Transformer.from_crs(grid.crs, "EPSG:4326", always_xy=True)
        for corner, (x, y) in {
            "UL": (grid.x_min, grid.y_max),
            "UR": (grid.x_max, grid.y_max),
            "LL": (grid.x_min, grid.y_min),
            "LR": (grid.x_max, grid.y_min),
        }.items():
            lon, lat = to_ll.transform(x, y)
            assert where[f"{corner}_lon"] == pytest.approx(lon, abs=1e-9)
            assert where[f"{corner}_lat"] == pytest.approx(lat, abs=1e-9)
        assert b"synthetic" in f["how"].attrs["comment"].lower()
        ds_what = _attrs(f["dataset1/what"])
        assert ds_what["product"] == b"COMP" and ds_what["quantity"] == b"ACRR"
        assert (ds_what["startdate"], ds_what["starttime"]) == (b"20240610", b"122500")
        assert (ds_what["enddate"], ds_what["endtime"]) == (b"20240610", b"123000")
        assert (ds_what["gain"], ds_what["offset"]) == (0.01, 0.0)
        assert (ds_what["nodata"], ds_what["undetect"]) == (65535.0, 0.0)
        data = f["dataset1/data1/data"]
        assert data.dtype == np.uint16 and data.shape == (grid.ny, grid.nx)
        assert data.compression == "gzip" and data.chunks is not None
        assert data.attrs["CLASS"] == b"IMAGE"
        values = data[...]
    covered = values < 65535  # 65535: no coverage (beams too high at the window's edge)
    assert 0.8 < covered.mean() < 1.0
    assert (values == 0).any() and values[covered].max() > 0


def test_radar_window_is_where_it_says_on_the_1km_mosaic(small_world):
    grid = small_world.world.radar_grid
    box = small_world.world.config.box
    expected = METEOFRANCE_1KM.window_covering(*box.boundary(), margin=32_000)
    assert grid.to_dict() | {"name": ""} == expected.to_dict() | {"name": ""}
    rows, cols = grid.locate(METEOFRANCE_1KM)
    assert (rows.stop - rows.start, cols.stop - cols.start) == (grid.ny, grid.nx)


def test_imerg_names_follow_the_real_pattern(small_world):
    imerg = small_world.manifest.query("kind == 'imerg'")
    names = [p.rsplit("/", 1)[1] for p in imerg["path"]]
    first = FINAL_NAME.fullmatch(names[0])
    assert first.groups() == ("20240610", "060000", "062959", "0360")
    assert names[1] == "3B-HHR.MS.MRG.3IMERG.20240610-S063000-E065959.0390.V07B.HDF5"
    assert names[-1] == "3B-HHR.MS.MRG.3IMERG.20240611-S053000-E055959.0330.V07B.HDF5"
    assert imerg["path"].iloc[-1].startswith("imerg/2024/06/11/")


@pytest.mark.parametrize(
    ("run", "name"),
    [
        ("final", "3B-HHR.MS.MRG.3IMERG.20240610-S233000-E235959.1410.V07B.HDF5"),
        ("late", "3B-HHR-L.MS.MRG.3IMERG.20240610-S233000-E235959.1410.V07B.RT-H5"),
        ("early", "3B-HHR-E.MS.MRG.3IMERG.20240610-S233000-E235959.1410.V07B.RT-H5"),
    ],
)
def test_imerg_filename_of_each_run(run, name):
    path = imerg_relpath(np.datetime64("2024-06-10T23:30"), run, "V07B")
    assert path == Path("imerg", "2024", "06", "10", name)


def test_imerg_file_has_the_v07_layout(small_world):
    box = small_world.world.config.box
    path = next((small_world.root / "imerg").rglob("*S120000*"))
    with h5py.File(path, "r") as f:
        header = dict(
            line.split("=", 1) for line in f.attrs["FileHeader"].decode().split(";\n") if line
        )
        assert header["FileName"] == path.name
        assert header["StartGranuleDateTime"] == "2024-06-10T12:00:00.000Z"
        assert header["StopGranuleDateTime"] == "2024-06-10T12:29:59.999Z"
        assert header["ProductVersion"] == "V07B"
        assert header["AlgorithmID"] == "3IMERGHH"
        assert b"Origin=SOUTHWEST" in f["Grid"].attrs["GridHeader"]
        time = f["Grid/time"]
        assert time.dtype == np.int32
        assert time.attrs["units"] == b"seconds since 1980-01-06 00:00:00 UTC"
        start = np.datetime64("1980-01-06T00:00:00") + np.timedelta64(int(time[0]), "s")
        assert start == np.datetime64("2024-06-10T12:00:00")
        assert (f["Grid/time_bnds"][0, 1] - f["Grid/time_bnds"][0, 0]) == 1800
        np.testing.assert_allclose(f["Grid/lat"][...], imerg_global_lat(), atol=1e-5)
        np.testing.assert_allclose(f["Grid/lon"][...], imerg_global_lon(), atol=1e-5)
        assert f["Grid/lat"].dtype == np.float32 and f["Grid/lat_bnds"].shape == (1800, 2)
        for spec in VARIABLES:
            ds = f[spec.path]
            assert ds.shape == (1, 3600, 1800)
            assert ds.dtype == np.dtype(spec.dtype)
            assert ds.chunks == ((1, 145, 1800) if spec.dtype == "f4" else (1, 291, 1800))
            assert ds.compression == "gzip"
            assert ds.fillvalue == spec.fill and ds.attrs["_FillValue"] == spec.fill
            assert ds.attrs["DimensionNames"] == b"time,lon,lat"
            assert [d[0].name for d in ds.dims] == ["/Grid/time", "/Grid/lon", "/Grid/lat"]
            # Only the chunks holding the box are stored; the rest of the globe is fill.
            assert ds.id.get_num_chunks() == 1
            assert ds[0, 0, 0] == spec.fill and ds[0, 3599, 1799] == spec.fill
            assert ds[0, box.lon_index.start - 1, box.lat_index.start] == spec.fill
            inside = ds[0, box.lon_index, box.lat_index]
            assert inside.shape == (box.shape[1], box.shape[0])
            if spec.name not in ("MWprecipitation", "MWobservationTime"):
                assert (inside != spec.fill).all(), spec.name
        assert f["Grid/precipitation"].attrs["units"] == b"mm/hr"


def test_imerg_structure_matches_a_real_v07_file(small_world, shared_data_dir):
    real = (
        shared_data_dir / "imerg" / "3B-HHR.MS.MRG.3IMERG.20000601-S000000-E002959.0000.V07A.HDF5"
    )
    ours = next((small_world.root / "imerg").rglob("*.HDF5"))

    def describe(path):
        out = {}
        with h5py.File(path, "r") as f:
            out["/"] = sorted(f.attrs)

            def visit(name, obj):
                attrs = _attrs(obj)
                kind = (
                    f"dataset {obj.dtype} ndim={obj.ndim}"
                    if isinstance(obj, h5py.Dataset)
                    else "group"
                )
                out[name] = (kind, {k: v for k, v in attrs.items() if k not in ("GridHeader",)})

            f.visititems(visit)
        return out

    a, b = describe(real), describe(ours)
    assert a.keys() == b.keys()
    for name in a:
        if name == "/":
            assert a[name] == b[name]
            continue
        assert a[name][0] == b[name][0], name
        assert a[name][1].keys() == b[name][1].keys(), name
        for key, value in a[name][1].items():
            np.testing.assert_array_equal(b[name][1][key], value, err_msg=f"{name} @{key}")


def test_truth_file_is_on_the_box_cells(small_world):
    truth = small_world.truth
    box = small_world.world.config.box
    assert truth["rain"].dims == ("time", "lat", "lon")
    assert truth["rain"].attrs["units"] == "mm/h"
    np.testing.assert_array_equal(truth["lat"].values, box.lat)
    np.testing.assert_array_equal(truth["lon"].values, box.lon)
    assert truth["lat"].dtype == np.float64
    assert truth.time.values[0] == np.datetime64("2024-06-10T06:00")
    assert np.all(np.diff(truth.time.values) == np.timedelta64(30, "m"))
    assert truth["regime"].attrs["flag_meanings"] == (
        "dry stratiform_front scattered_convection orographic"
    )
    config = json.loads(truth.attrs["world_config"])
    assert config["seed"] == 2 and config["box"] == box.to_dict()
    assert json.loads(truth.attrs["radar_grid"])["nx"] == small_world.world.radar_grid.nx
    world = json.loads((small_world.root / "world.json").read_text())
    assert world["counts"]["radar_files"] == 288 and world["counts"]["imerg_files"] == 48


def _crash_while_writing(target):
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash while writing")


def test_atomic_path_leaves_no_file_when_writing_fails(tmp_path):
    target = tmp_path / "sub" / "file.h5"
    with pytest.raises(RuntimeError, match="crash while writing"):
        _crash_while_writing(target)
    assert not target.exists()
    assert list((tmp_path / "sub").iterdir()) == []
    with atomic_path(target) as tmp:
        assert tmp.name.startswith(".") and tmp.parent == target.parent
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
