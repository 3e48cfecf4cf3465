"""Near-real-time (PPS-NRT) IMERG files: the run is in the file name, not in AlgorithmID.

PPS near-real-time files of the V03–V04 era carry the generic ``AlgorithmID=3IMERGHH``
with ``ProcessingSystem=PPS-NRT`` and a ``ProductVersion`` without its ``V`` (``03E``);
Early and Late files share the version (``V03E`` is both). The reader takes the run from
the file name (or the header's ``FileName``) and still refuses real contradictions.
"""

from __future__ import annotations

import datetime as dt

import h5py
import numpy as np
import pytest

from rainscore.grids import Box
from rainscore.io import ReaderError, open_imerg
from rainscore.io.hdf5 import parse_header

SMALL_BOX = Box(lat_min=42.8, lat_max=43.6, lon_min=-2.8, lon_max=-1.8)
T0 = dt.datetime(2015, 4, 1, 23, 30)


def _set_header(path, **changes: str) -> None:
    """Rewrite FileHeader entries (``ProcessingSystem="PPS-NRT"``; ``None`` drops one)."""
    with h5py.File(path, "a") as h5:
        header = parse_header(h5.attrs["FileHeader"].decode())
        header.update(changes)
        text = "".join(f"{k}={v};\n" for k, v in header.items() if v is not None)
        h5.attrs["FileHeader"] = np.bytes_(text)


def _nrt_file(folder, writer, fields, *, run: str, **header: str):
    """A V03E real-time file as PPS wrote it: 2-D arrays, generic AlgorithmID."""
    path = writer(folder, T0, fields=fields, run=run, version="V03E", two_d=True)
    genuine = {
        "AlgorithmID": "3IMERGHH",
        "DOIshortName": "3IMERGHH",
        "ProcessingSystem": "PPS-NRT",
        "ProductVersion": "03E",
    }
    _set_header(path, **(genuine | header))
    return path


@pytest.mark.parametrize(("run", "product"), [("E", "Early"), ("L", "Late")])
def test_genuine_v03e_realtime_file_is_read(tmp_path, imerg_writer, fields_factory, run, product):
    fields = fields_factory((8, 10), seed=21)
    path = _nrt_file(tmp_path, imerg_writer, fields, run=run)
    assert path.name == f"3B-HHR-{run}.MS.MRG.3IMERG.20150401-S233000-E235959.1410.V03E.RT-H5"
    ds = open_imerg(path, box=SMALL_BOX)
    assert ds.attrs["product"] == product
    assert ds.attrs["version"] == "V03E"
    assert ds.time.values[0] == np.datetime64(T0, "ns")
    np.testing.assert_allclose(ds["precipitation"].values[0], fields["precipitation"], rtol=1e-6)


def test_renamed_realtime_file_takes_its_run_from_the_header_file_name(
    tmp_path, imerg_writer, fields_factory
):
    path = _nrt_file(tmp_path, imerg_writer, fields_factory((8, 10), seed=22), run="L")
    renamed = path.rename(tmp_path / "granule.h5")
    ds = open_imerg(renamed, box=SMALL_BOX)
    assert ds.attrs["product"] == "Late"
    assert ds.attrs["version"] == "V03E"


def test_renamed_realtime_file_without_any_name_is_refused(tmp_path, imerg_writer, fields_factory):
    path = _nrt_file(tmp_path, imerg_writer, fields_factory((8, 10), seed=23), run="E")
    _set_header(path, FileName=None)
    renamed = path.rename(tmp_path / "granule.h5")
    with pytest.raises(ReaderError, match="Early or Late") as err:
        open_imerg(renamed, box=SMALL_BOX)
    assert err.value.reason == "unknown_version"


def test_near_real_time_file_named_final_is_refused(tmp_path, imerg_writer, fields_factory):
    path = imerg_writer(tmp_path, T0, fields=fields_factory((8, 10), seed=24), version="V03E")
    _set_header(path, AlgorithmID="3IMERGHH", ProcessingSystem="PPS-NRT", ProductVersion="03E")
    with pytest.raises(ReaderError, match="Final run but FileHeader") as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "inconsistent"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"AlgorithmID": "3IMERGHHE"}, "Late run but FileHeader AlgorithmID=3IMERGHHE"),
        ({"ProcessingSystem": "PPS"}, "Late run but FileHeader AlgorithmID=3IMERGHH"),
        ({"ProductVersion": "04A"}, "version V03E but FileHeader ProductVersion=04A"),
    ],
)
def test_real_contradictions_are_still_refused(
    tmp_path, imerg_writer, fields_factory, header, message
):
    path = _nrt_file(tmp_path, imerg_writer, fields_factory((8, 10), seed=25), run="L", **header)
    with pytest.raises(ReaderError, match=message) as err:
        open_imerg(path, box=SMALL_BOX)
    assert err.value.reason == "inconsistent"
