"""The IMERG runs and half-hourly file names: one vocabulary, names parsed and built here.

Every parameter and attribute that names a run spells it as in :data:`IMERG_RUNS`
(``early``, ``late``, ``final``; ``imerg_run`` in the parameters); :data:`IMERG_PRODUCTS`
gives the product title PPS uses (``Early``…), written in the ``product`` attribute of
the datasets read.

The names follow the PPS convention::

    3B-HHR[-E|-L].MS.MRG.3IMERG.YYYYMMDD-SHHMMSS-EHHMMSS.MMMM.VNNX.<extension>

with ``-E``/``-L`` for the Early/Late runs (no suffix for Final), ``MMMM`` the start in
minutes of the day, ``VNNX`` the product version (``V07B``) and ``<extension>`` one of
``HDF5`` (Final), ``RT-H5`` (Early/Late), possibly followed by ``.nc4`` or ``.SUB.nc4``
for GES DISC netCDF-4 subsets. The version letter is not the run: near-real-time files of
the V03 era are ``V03E`` in both the Early and the Late run.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from rainscore.io.errors import ReaderError

IMERG_RUNS = ("early", "late", "final")
"""The IMERG runs, spelt as in every parameter (``imerg_run``) and attribute."""

IMERG_PRODUCTS = {"early": "Early", "late": "Late", "final": "Final"}
"""Run → product title (the datasets' ``product`` attribute)."""

ALGORITHM_IDS = {"early": "3IMERGHHE", "late": "3IMERGHHL", "final": "3IMERGHH"}
"""Run → ``AlgorithmID`` of the ``FileHeader`` of PPS production files (V05 on).

Near-real-time files of the V03–V04 era (``ProcessingSystem=PPS-NRT``) say
``3IMERGHH`` in both the Early and the Late run.
"""

_RUN_CODES = {"E": "early", "L": "late", None: "final"}
_NAME_CODES = {"early": "-E", "late": "-L", "final": ""}
_EXTENSIONS = {"early": "RT-H5", "late": "RT-H5", "final": "HDF5"}
_NAME_RE = re.compile(
    r"^3B-HHR(?:-(?P<run>[EL]))?\.MS\.MRG\.3IMERG\."
    r"(?P<date>\d{8})-S(?P<start>\d{6})-E(?P<end>\d{6})\."
    r"(?P<minutes>\d{4})\.(?P<version>V\d{2}[A-Z]?)\."
    r"(?P<extension>(?:HDF5|RT-H5|h5|H5)(?:\.SUB)?(?:\.nc4|\.nc)?)$"
)
_VERSION_RE = re.compile(r"^V(?P<major>\d{2})[A-Z]?$")
_HEADER_VERSION_RE = re.compile(r"^V?(?P<version>\d{2}[A-Z]?)$", re.IGNORECASE)


@dataclass(frozen=True)
class ImergFileInfo:
    """What an IMERG half-hourly file name says.

    Attributes:
        run: ``"early"``, ``"late"`` or ``"final"`` (:data:`IMERG_RUNS`).
        start: Start of the half hour (naive datetime, UTC).
        end: Last second of the half hour as written in the name (``HH:29:59``/``HH:59:59``).
        version: Product version as written (``"V07B"``).
        extension: Everything after the version (``"HDF5"``, ``"RT-H5"``, ``"HDF5.nc4"``).
    """

    run: str
    start: dt.datetime
    end: dt.datetime
    version: str
    extension: str

    @property
    def product(self) -> str:
        """The product title of the run (``"Early"``, ``"Late"`` or ``"Final"``)."""
        return IMERG_PRODUCTS[self.run]

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


def normalise_version(text: str) -> str | None:
    """A version as file names write it, from a ``FileHeader`` ``ProductVersion``.

    Near-real-time headers omit the ``V`` (``"03E"``); production headers keep it.

    Returns:
        ``"V03E"`` for ``"03E"`` or ``"V03E"``; ``None`` if ``text`` is no version.
    """
    m = _HEADER_VERSION_RE.match(text.strip())
    return f"V{m['version'].upper()}" if m else None


def check_run(run: str, *, parameter: str, allow_auto: bool = False) -> str:
    """Check a run parameter against the one vocabulary.

    Args:
        run: The value given.
        parameter: The parameter's name for the message (``"ingestion.imerg_run"``).
        allow_auto: Also accept ``"auto"`` (the run with most files).

    Returns:
        ``run``.

    Raises:
        ValueError: If ``run`` is not one of :data:`IMERG_RUNS` (or ``"auto"``).
    """
    allowed = ("auto", *IMERG_RUNS) if allow_auto else IMERG_RUNS
    if run not in allowed:
        raise ValueError(f"{parameter} must be one of {allowed}, got {run!r}")
    return run


def imerg_filename(start: dt.datetime, *, run: str, version: str) -> str:
    """The PPS name of the half-hourly file of ``run`` starting at ``start``.

    Args:
        start: Start of the half hour (UTC, on a half hour).
        run: ``"early"``, ``"late"`` or ``"final"``.
        version: Product version, e.g. ``"V07B"``.

    Returns:
        E.g. ``3B-HHR.MS.MRG.3IMERG.20240610-S003000-E005959.0030.V07B.HDF5`` (Final) or
        ``3B-HHR-L.MS.MRG.3IMERG.20240610-S003000-E005959.0030.V07B.RT-H5`` (Late).

    Raises:
        ValueError: If ``run`` or ``version`` is not one IMERG knows, or ``start`` is not
            on a half hour.
    """
    check_run(run, parameter="run")
    version_number(version)
    if start.minute % 30 or start.second or start.microsecond:
        raise ValueError(f"IMERG half hours start at HH:00 or HH:30, got {start.isoformat()}")
    end = start + dt.timedelta(minutes=29, seconds=59)
    minutes = start.hour * 60 + start.minute
    return (
        f"3B-HHR{_NAME_CODES[run]}.MS.MRG.3IMERG.{start:%Y%m%d}-S{start:%H%M%S}-E{end:%H%M%S}."
        f"{minutes:04d}.{version}.{_EXTENSIONS[run]}"
    )


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
    return ImergFileInfo(
        run=_RUN_CODES[m["run"]],
        start=start,
        end=end,
        version=m["version"],
        extension=m["extension"],
    )
