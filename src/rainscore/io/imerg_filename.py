"""IMERG half-hourly file names: product, run, version and half hour.

The names follow the PPS convention::

    3B-HHR[-E|-L].MS.MRG.3IMERG.YYYYMMDD-SHHMMSS-EHHMMSS.MMMM.VNNX.<extension>

with ``-E``/``-L`` for the Early/Late runs (no suffix for Final), ``MMMM`` the start in
minutes of the day, ``VNNX`` the product version (``V07B``) and ``<extension>`` one of
``HDF5`` (Final), ``RT-H5`` (Early/Late), possibly followed by ``.nc4`` or ``.SUB.nc4``
for GES DISC netCDF-4 subsets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from rainscore.io.errors import ReaderError

PRODUCTS = {"E": "Early", "L": "Late", "F": "Final"}

_NAME_RE = re.compile(
    r"^3B-HHR(?:-(?P<run>[EL]))?\.MS\.MRG\.3IMERG\."
    r"(?P<date>\d{8})-S(?P<start>\d{6})-E(?P<end>\d{6})\."
    r"(?P<minutes>\d{4})\.(?P<version>V\d{2}[A-Z]?)\."
    r"(?P<extension>(?:HDF5|RT-H5|h5|H5)(?:\.SUB)?(?:\.nc4|\.nc)?)$"
)
_VERSION_RE = re.compile(r"^V(?P<major>\d{2})[A-Z]?$")


@dataclass(frozen=True)
class ImergFileInfo:
    """What an IMERG half-hourly file name says.

    Attributes:
        product: ``"Early"``, ``"Late"`` or ``"Final"``.
        start: Start of the half hour (naive datetime, UTC).
        end: Last second of the half hour as written in the name (``HH:29:59``/``HH:59:59``).
        version: Product version as written (``"V07B"``).
        run: ``"E"``, ``"L"`` or ``"F"``.
        extension: Everything after the version (``"HDF5"``, ``"RT-H5"``, ``"HDF5.nc4"``).
    """

    product: str
    start: dt.datetime
    end: dt.datetime
    version: str
    run: str
    extension: str

    @property
    def major_version(self) -> int:
        """The version number without its letter (7 for ``V07B``)."""
        return version_number(self.version)

    @property
    def is_netcdf_subset(self) -> bool:
        """Whether the file is a GES DISC netCDF-4 subset rather than a PPS original."""
        return self.extension.endswith((".nc4", ".nc"))


def version_number(version: str) -> int:
    """The major number of an IMERG version string (``"V06B"`` → 6).

    Raises:
        ValueError: If the string is not of the form ``VNN`` or ``VNNX``.
    """
    m = _VERSION_RE.match(version)
    if m is None:
        raise ValueError(f"{version!r} is not an IMERG version string like 'V07B'")
    return int(m["major"])


def parse_imerg_filename(path: str | PathLike) -> ImergFileInfo:
    """Parse the name of an IMERG half-hourly file (Early, Late, Final, any version).

    Only the base name is used; the file need not exist.

    Args:
        path: File path or name, e.g.
            ``3B-HHR-E.MS.MRG.3IMERG.20180101-S000000-E002959.0000.V05B.RT-H5``.

    Returns:
        The parsed :class:`ImergFileInfo`.

    Raises:
        ReaderError: ``bad_name`` if the name does not follow the PPS convention, or if its
            parts disagree (end not 29 min 59 s after start, minutes-of-day field wrong).
    """
    name = Path(path).name
    m = _NAME_RE.match(name)
    if m is None:
        raise ReaderError(
            path,
            "bad_name",
            f"file name {name!r} is not an IMERG half-hourly name like "
            "'3B-HHR[-E|-L].MS.MRG.3IMERG.YYYYMMDD-SHHMMSS-EHHMMSS.MMMM.V07B.HDF5|RT-H5[.nc4]'",
        )
    try:
        start = dt.datetime.strptime(m["date"] + m["start"], "%Y%m%d%H%M%S")
        end = dt.datetime.strptime(m["date"] + m["end"], "%Y%m%d%H%M%S")
    except ValueError as err:
        raise ReaderError(
            path, "bad_name", f"file name {name!r} has an invalid date: {err}"
        ) from None
    if end - start != dt.timedelta(minutes=29, seconds=59):
        raise ReaderError(
            path,
            "bad_name",
            f"file name {name!r}: end E{m['end']} is not 29 min 59 s after start S{m['start']}",
        )
    minutes = start.hour * 60 + start.minute
    if int(m["minutes"]) != minutes:
        raise ReaderError(
            path,
            "bad_name",
            f"file name {name!r}: minutes-of-day field {m['minutes']} disagrees with "
            f"start S{m['start']} (expected {minutes:04d})",
        )
    run = m["run"] or "F"
    return ImergFileInfo(
        product=PRODUCTS[run],
        start=start,
        end=end,
        version=m["version"],
        run=run,
        extension=m["extension"],
    )
