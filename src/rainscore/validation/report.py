"""Validation reports: what was checked, what failed, in JSON and in Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import xarray as xr

from rainscore.validation.checks import (
    ALIGNMENT_CHECKS,
    Failure,
    ValidationError,
    find_alignment_failures,
)
from rainscore.validation.expectations import ExpectationConfig, validate_gridded


@dataclass
class ValidationReport:
    """The outcome of a validation step.

    Attributes:
        title: What was validated (e.g. ``"colocation inputs"``).
        suites: Per-suite summaries (Great Expectations and xarray checks).
        failures: Every failed check.
    """

    title: str
    suites: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def success(self) -> bool:
        """Whether every check passed."""
        return not self.failures

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "title": self.title,
            "success": self.success,
            "n_failures": len(self.failures),
            "failures": [f.to_dict() for f in self.failures],
            "suites": self.suites,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ValidationReport:
        """Inverse of :meth:`to_dict`."""
        return cls(
            title=d["title"],
            suites=list(d.get("suites", [])),
            failures=[Failure(**f) for f in d.get("failures", [])],
        )

    def to_markdown(self) -> str:
        """A report a person can read."""
        status = "PASSED" if self.success else f"FAILED ({len(self.failures)} check(s))"
        lines = [f"# Validation: {self.title}", "", f"**{status}**", ""]
        if self.failures:
            lines += ["## Failures", "", "| dataset | check | detail | offending values |"]
            lines += ["|---|---|---|---|"]
            for f in self.failures:
                lines.append(f"| {f.dataset} | `{f.check}` | {f.detail} | {f.offending} |")
            lines.append("")
        lines += ["## Checks", ""]
        for suite in self.suites:
            mark = "✓" if suite["success"] else "✗"
            lines += [f"### {mark} {suite['dataset']} — {suite['suite']}", ""]
            for exp in suite["expectations"]:
                m = "✓" if exp["success"] else "✗"
                extra = f" — offending: {exp['offending']}" if not exp["success"] else ""
                lines.append(f"- {m} `{exp['check']}`{extra}")
            lines.append("")
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        """Raise :class:`ValidationError` listing the failures, if any."""
        if self.failures:
            raise ValidationError(self.failures)


def checks_summary(dataset: str, suite: str, checked: list[str], failures: list[Failure]) -> dict:
    """A suite summary for checks run outside Great Expectations (xarray checks)."""
    failed = {f.check: f for f in failures}
    return {
        "dataset": dataset,
        "suite": suite,
        "success": not failures,
        "expectations": [
            {
                "check": name,
                "success": name not in failed,
                "offending": failed[name].offending if name in failed else [],
            }
            for name in checked
        ]
        + [
            {"check": f.check, "success": False, "offending": f.offending}
            for f in failures
            if f.check not in checked
        ],
    }


def validate_colocation_inputs(
    imerg_cube: xr.Dataset,
    radar_on_imerg: xr.Dataset,
    *,
    config: ExpectationConfig,
) -> ValidationReport:
    """Everything checked before IMERG and radar are paired.

    The Great Expectations suites on both products (grid summary, time axis, value ranges)
    and the xarray alignment checks between them (identical coordinates, dims, units, the
    box's cells).

    Args:
        imerg_cube: The IMERG cube (``precipitation``).
        radar_on_imerg: Radar on the IMERG grid (``rain``).
        config: What the suites expect (box, time step, ranges).

    Returns:
        The report; :meth:`ValidationReport.raise_for_failures` stops a run on failures.
    """
    suites, failures = [], []
    for ds, name, variable in (
        (imerg_cube, "imerg_cube", "precipitation"),
        (radar_on_imerg, "radar_on_imerg", "rain"),
    ):
        s, f = validate_gridded(ds, name=name, variable=variable, config=config)
        suites += s
        failures += f
    alignment = find_alignment_failures(
        imerg_cube,
        radar_on_imerg,
        names=("imerg_cube", "radar_on_imerg"),
        variables=("precipitation", "rain"),
        box=config.box,
    )
    suites.append(
        checks_summary(
            "imerg_cube vs radar_on_imerg", "alignment", list(ALIGNMENT_CHECKS), alignment
        )
    )
    return ValidationReport(
        title="colocation: IMERG cube and radar on the IMERG grid",
        suites=suites,
        failures=failures + alignment,
    )
