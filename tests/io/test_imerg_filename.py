"""parse_imerg_filename on real name patterns of every run, version and format."""

from __future__ import annotations

import datetime as dt

import pytest

from rainscore.io import ImergFileInfo, ReaderError, parse_imerg_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "3B-HHR.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V07B.HDF5",
            ImergFileInfo(
                "Final",
                dt.datetime(2018, 1, 1, 0, 0),
                dt.datetime(2018, 1, 1, 0, 29, 59),
                "V07B",
                "F",
                "HDF5",
            ),
        ),
        (
            "3B-HHR-E.MS.MRG.3IMERG.20180101-S233000-E235959.1410.V06B.RT-H5",
            ImergFileInfo(
                "Early",
                dt.datetime(2018, 1, 1, 23, 30),
                dt.datetime(2018, 1, 1, 23, 59, 59),
                "V06B",
                "E",
                "RT-H5",
            ),
        ),
        (
            "3B-HHR-L.MS.MRG.3IMERG.20150315-S123000-E125959.0750.V03E.RT-H5",
            ImergFileInfo(
                "Late",
                dt.datetime(2015, 3, 15, 12, 30),
                dt.datetime(2015, 3, 15, 12, 59, 59),
                "V03E",
                "L",
                "RT-H5",
            ),
        ),
        (
            "3B-HHR.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V07B.HDF5.nc4",
            ImergFileInfo(
                "Final",
                dt.datetime(2018, 1, 1, 0, 0),
                dt.datetime(2018, 1, 1, 0, 29, 59),
                "V07B",
                "F",
                "HDF5.nc4",
            ),
        ),
    ],
)
def test_real_patterns(name, expected):
    info = parse_imerg_filename(f"/some/folder/{name}")
    assert info == expected
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
