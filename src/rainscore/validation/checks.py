"""Checks of the gridded conventions, asserted on the xarray objects themselves.

Each check comes as a triad: ``find_*`` returns the list of :class:`Failure` (empty when
all is well), ``has_*`` says whether there are none, and ``check_*`` raises
:class:`ValidationError` naming the dataset, the check and the offending values.

The conventions (DESIGN §3): dims ``(time, lat, lon)``; ``lat`` ascending; ``lat``/``lon``
float64 and rounded to 1e-6; one ``time`` per half hour, no duplicates, increasing; rain
rates in ``mm/h`` (one spelling). Two gridded datasets to be compared must have identical
coordinates, the same dims order and the same units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from rainscore.grids.imerg import COORD_DECIMALS, IMERG_RES, Box
from rainscore.units import RATE_UNITS

GRID_DIMS = ("time", "lat", "lon")
#: Names of the checks :func:`find_alignment_failures` runs (for the report's checklist).
ALIGNMENT_CHECKS = (
    "lat_float64",
    "lon_float64",
    "lat_rounded",
    "lon_rounded",
    "lat_ascending",
    "lon_step",
    "lat_identical",
    "lon_identical",
    "lat_box",
    "lon_box",
    "time_unique",
    "time_increasing",
    "dims_order",
    "units_spelling",
    "units_equal",
    "dims_equal",
)
_MAX_SHOWN = 5


@dataclass(frozen=True)
class Failure:
    """One failed check.

    Attributes:
        dataset: Catalog name (or label) of the dataset checked.
        check: Name of the check.
        detail: What is wrong, in words.
        offending: A few offending values (JSON-friendly).
    """

    dataset: str
    check: str
    detail: str
    offending: list[Any] = field(default_factory=list)

    def __str__(self) -> str:
        shown = f"; offending values: {self.offending}" if self.offending else ""
        return f"{self.dataset}: {self.check} failed: {self.detail}{shown}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "dataset": self.dataset,
            "check": self.check,
            "detail": self.detail,
            "offending": self.offending,
        }


class ValidationError(ValueError):
    """Raised when checks fail; the message lists every failure."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        lines = "\n".join(f"  - {f}" for f in self.failures)
        super().__init__(f"{len(self.failures)} validation check(s) failed:\n{lines}")


def _values(a: np.ndarray) -> list[Any]:
    """A few values, JSON-friendly."""
    out = []
    for v in np.asarray(a).ravel()[:_MAX_SHOWN]:
        if isinstance(v, np.datetime64):
            out.append(str(pd.Timestamp(v)))
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


def _gridded_variables(obj: xr.Dataset | xr.DataArray) -> dict[str, xr.DataArray]:
    if isinstance(obj, xr.DataArray):
        return {str(obj.name): obj}
    return {str(k): v for k, v in obj.data_vars.items() if {"lat", "lon"} <= set(v.dims)}


def find_convention_failures(obj: xr.Dataset | xr.DataArray, *, name: str) -> list[Failure]:
    """Every way ``obj`` breaks the gridded conventions.

    Args:
        obj: A gridded Dataset or DataArray.
        name: Its catalog name, for the messages.

    Returns:
        The failures (empty if none).
    """
    failures: list[Failure] = []
    for coord in ("lat", "lon"):
        if coord not in obj.coords:
            failures.append(Failure(name, f"{coord}_present", f"no '{coord}' coordinate"))
            continue
        values = obj[coord].values
        if values.dtype != np.float64:
            failures.append(
                Failure(
                    name,
                    f"{coord}_float64",
                    f"coordinate '{coord}' is {values.dtype}, the convention is float64 "
                    "rounded to 1e-6 (rainscore.grids.round_coords)",
                    _values(values),
                )
            )
        else:
            off = np.flatnonzero(np.round(values, COORD_DECIMALS) != values)
            if off.size:
                failures.append(
                    Failure(
                        name,
                        f"{coord}_rounded",
                        f"coordinate '{coord}' is not rounded to 1e-6 at {off.size} cell(s)",
                        _values(values[off]),
                    )
                )
        steps = np.diff(values.astype(np.float64))
        if coord == "lat" and steps.size and (steps <= 0).any():
            failures.append(
                Failure(
                    name,
                    "lat_ascending",
                    "latitudes must be ascending (south to north)",
                    _values(values[:_MAX_SHOWN]),
                )
            )
        elif steps.size and not np.allclose(np.abs(steps), IMERG_RES, atol=1e-6):
            failures.append(
                Failure(
                    name,
                    f"{coord}_step",
                    f"coordinate '{coord}' is not a regular {IMERG_RES}° axis",
                    _values(np.unique(np.round(steps, 6))),
                )
            )
    if "time" in obj.coords and obj["time"].ndim == 1:
        times = pd.DatetimeIndex(obj["time"].values)
        dup = times[times.duplicated()]
        if len(dup):
            failures.append(
                Failure(name, "time_unique", f"{len(dup)} duplicated time(s)", _values(dup.values))
            )
        if not times.is_monotonic_increasing:
            failures.append(Failure(name, "time_increasing", "times are not in increasing order"))
    for var_name, var in _gridded_variables(obj).items():
        spatial = [d for d in var.dims if d in GRID_DIMS]
        expected = [d for d in GRID_DIMS if d in var.dims]
        if spatial != expected or var.dims[-2:] != ("lat", "lon"):
            failures.append(
                Failure(
                    name,
                    "dims_order",
                    f"variable '{var_name}' has dims {var.dims}, expected (..., time, lat, lon)",
                    list(var.dims),
                )
            )
        units = var.attrs.get("units")
        if units in ("mm/hr", "mm hr-1", "mm h-1", "mm/hour", "kg m-2 s-1"):
            failures.append(
                Failure(
                    name,
                    "units_spelling",
                    f"variable '{var_name}' has units {units!r}; rates are spelled {RATE_UNITS!r}",
                    [units],
                )
            )
    return failures


def has_conventions(obj: xr.Dataset | xr.DataArray) -> bool:
    """Whether ``obj`` follows the gridded conventions."""
    return not find_convention_failures(obj, name="data")


def check_conventions(obj: xr.Dataset | xr.DataArray, *, name: str) -> None:
    """Raise :class:`ValidationError` if ``obj`` breaks the gridded conventions."""
    failures = find_convention_failures(obj, name=name)
    if failures:
        raise ValidationError(failures)


def find_alignment_failures(
    a: xr.Dataset | xr.DataArray,
    b: xr.Dataset | xr.DataArray,
    *,
    names: tuple[str, str],
    variables: tuple[str, str] | None = None,
    box: Box | None = None,
) -> list[Failure]:
    """Every way two gridded datasets fail to be comparable cell by cell.

    Coordinates must be identical (not merely close: a float32 round trip or a half-cell
    shift would make ``xr.align`` drop or mismatch cells), dims in the same order, and the
    compared variables in the same units. With ``box``, both must be exactly its cells.

    Args:
        a: First dataset (e.g. the IMERG cube).
        b: Second dataset (e.g. radar on the IMERG grid).
        names: Their catalog names, for the messages.
        variables: Names of the variables compared (in ``a`` and ``b``) for the units check.
        box: The analysis box both must cover exactly.

    Returns:
        The failures (empty if none).
    """
    failures = find_convention_failures(a, name=names[0]) + find_convention_failures(
        b, name=names[1]
    )
    pair = f"{names[0]} vs {names[1]}"
    for coord in ("lat", "lon"):
        if coord not in a.coords or coord not in b.coords:
            continue
        va, vb = a[coord].values, b[coord].values
        if va.shape != vb.shape or not np.array_equal(va, vb):
            n = min(va.size, vb.size)
            diff = np.flatnonzero(va[:n] != vb[:n]) if n else np.array([], int)
            shown = (
                [[float(va[i]), float(vb[i])] for i in diff[:_MAX_SHOWN]]
                if diff.size
                else [[va.size, vb.size]]
            )
            failures.append(
                Failure(
                    pair,
                    f"{coord}_identical",
                    f"'{coord}' coordinates differ ({va.size} vs {vb.size} cells, "
                    f"{diff.size} differing); shown as [{names[0]}, {names[1]}]",
                    shown,
                )
            )
        if box is not None:
            expected = box.lat if coord == "lat" else box.lon
            for label, v in ((names[0], va), (names[1], vb)):
                if v.shape != expected.shape or not np.allclose(v, expected, atol=1e-6):
                    failures.append(
                        Failure(
                            label,
                            f"{coord}_box",
                            f"'{coord}' is not the box's {expected.size} cells "
                            f"{expected[0]}…{expected[-1]}",
                            _values(v[:2]) + _values(v[-1:]),
                        )
                    )
    if variables is not None:
        va_name, vb_name = variables
        ua = a[va_name].attrs.get("units") if va_name in a.variables else None
        ub = b[vb_name].attrs.get("units") if vb_name in b.variables else None
        if ua != ub:
            failures.append(
                Failure(
                    pair,
                    "units_equal",
                    f"'{va_name}' is in {ua!r} but '{vb_name}' is in {ub!r}",
                    [ua, ub],
                )
            )
        else:
            da, db = a[va_name], b[vb_name]
            if tuple(d for d in da.dims if d in GRID_DIMS) != tuple(
                d for d in db.dims if d in GRID_DIMS
            ):
                failures.append(
                    Failure(
                        pair,
                        "dims_equal",
                        f"'{va_name}' has dims {da.dims} but '{vb_name}' has {db.dims}",
                        [list(da.dims), list(db.dims)],
                    )
                )
    return failures


def has_alignment(a: xr.Dataset | xr.DataArray, b: xr.Dataset | xr.DataArray) -> bool:
    """Whether ``a`` and ``b`` can be compared cell by cell."""
    return not find_alignment_failures(a, b, names=("a", "b"))


def check_alignment(
    a: xr.Dataset | xr.DataArray,
    b: xr.Dataset | xr.DataArray,
    *,
    names: tuple[str, str],
    variables: tuple[str, str] | None = None,
    box: Box | None = None,
) -> None:
    """Raise :class:`ValidationError` unless ``a`` and ``b`` are aligned (see ``find_``)."""
    failures = find_alignment_failures(a, b, names=names, variables=variables, box=box)
    if failures:
        raise ValidationError(failures)
