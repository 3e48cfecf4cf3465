"""parse_imerg_filename on real name patterns of every run, version and format."""

from __future__ import annotations

import datetime as dt

import pytest

from rainscore.io import ImergFileInfo, ReaderError, parse_imerg_filename
from rainscore.io.imerg_filename import check_run, imerg_filename, normalise_version


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "3B-HHR.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V07B.HDF5",
            ImergFileInfo(
                "final",
                dt.datetime(2018, 1, 1, 0, 0),
                dt.datetime(2018, 1, 1, 0, 29, 59),
                "V07B",
                "HDF5",
            ),
        ),
        (
            "3B-HHR-E.MS.MRG.3IMERG.20180101-S233000-E235959.1410.V06B.RT-H5",
            ImergFileInfo(
                "early",
                dt.datetime(2018, 1, 1, 23, 30),
                dt.datetime(2018, 1, 1, 23, 59, 59),
                "V06B",
                "RT-H5",
            ),
        ),
        (
            "3B-HHR-L.MS.MRG.3IMERG.20150315-S123000-E125959.0750.V03E.RT-H5",
            ImergFileInfo(
                "late",
                dt.datetime(2015, 3, 15, 12, 30),
                dt.datetime(2015, 3, 15, 12, 59, 59),
                "V03E",
                "RT-H5",
            ),
        ),
        (
            "3B-HHR.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V07B.HDF5.nc4",
            ImergFileInfo(
                "final",
                dt.datetime(2018, 1, 1, 0, 0),
                dt.datetime(2018, 1, 1, 0, 29, 59),
                "V07B",
                "HDF5.nc4",
            ),
        ),
    ],
)
def test_real_patterns(name, expected):
    info = parse_imerg_filename(f"/some/folder/{name}")
    assert info == expected
    assert info.product == expected.run.title()
    assert info.major_version == int(expected.version[1:3])
    assert info.is_netcdf_subset == name.endswith(".nc4")


def test_subset_with_sub_suffix():
    info = parse_imerg_filename(
        "3B-HHR.MS.MRG.3IMERG.20180101-S003000-E005959.0030.V06B.HDF5.SUB.nc4"
    )
    assert info.start == dt.datetime(2018, 1, 1, 0, 30)
    assert info.extension == "HDF5.SUB.nc4"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("3B-DAY.MS.MRG.3IMERG.20180101-S000000-E235959.V07B.nc4", "not an IMERG half-hourly"),
        ("3B-HHR.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V07B.tif", "not an IMERG"),
        ("3B-HHR.MS.MRG.3IMERG.20181301-S000000-E002959.0000.V07B.HDF5", "invalid date"),
        ("3B-HHR.MS.MRG.3IMERG.20180101-S000000-E005959.0000.V07B.HDF5", "29 min 59 s"),
        ("3B-HHR.MS.MRG.3IMERG.20180101-S003000-E005959.0000.V07B.HDF5", "expected 0030"),
    ],
)
def test_bad_names(name, message):
    with pytest.raises(ReaderError, match=message) as err:
        parse_imerg_filename(name)
    assert err.value.reason == "bad_name"
    assert name in str(err.value)


@pytest.mark.parametrize(
    ("run", "version", "start", "name"),
    [
        (
            "final",
            "V07B",
            dt.datetime(2024, 6, 10, 0, 30),
            "3B-HHR.MS.MRG.3IMERG.20240610-S003000-E005959.0030.V07B.HDF5",
        ),
        (
            "late",
            "V06B",
            dt.datetime(2018, 1, 1, 23, 30),
            "3B-HHR-L.MS.MRG.3IMERG.20180101-S233000-E235959.1410.V06B.RT-H5",
        ),
        (
            "early",
            "V03E",
            dt.datetime(2015, 4, 1, 0, 0),
            "3B-HHR-E.MS.MRG.3IMERG.20150401-S000000-E002959.0000.V03E.RT-H5",
        ),
    ],
)
def test_names_are_built_as_they_are_parsed(run, version, start, name):
    assert imerg_filename(start, run=run, version=version) == name
    info = parse_imerg_filename(name)
    assert (info.run, info.version, info.start) == (run, version, start)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run": "Final", "version": "V07B"}, "run must be one of"),
        ({"run": "final", "version": "7B"}, "not an IMERG version"),
    ],
)
def test_bad_name_parts_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imerg_filename(dt.datetime(2024, 6, 10), **kwargs)
    with pytest.raises(ValueError, match="HH:00 or HH:30"):
        imerg_filename(dt.datetime(2024, 6, 10, 0, 10), run="final", version="V07B")


def test_run_vocabulary():
    assert check_run("late", parameter="demo.imerg_run") == "late"
    assert check_run("auto", parameter="ingestion.imerg_run", allow_auto=True) == "auto"
    with pytest.raises(ValueError, match=r"demo.imerg_run must be one of .* got 'auto'"):
        check_run("auto", parameter="demo.imerg_run")
    with pytest.raises(ValueError, match="got 'Final'"):
        check_run("Final", parameter="ingestion.imerg_run", allow_auto=True)


@pytest.mark.parametrize(
    ("text", "version"), [("03E", "V03E"), ("V07B", "V07B"), ("v06b", "V06B"), ("07", "V07")]
)
def test_header_versions(text, version):
    assert normalise_version(text) == version


def test_header_version_that_is_not_one():
    assert normalise_version("3IMERGH_7.0") is None
