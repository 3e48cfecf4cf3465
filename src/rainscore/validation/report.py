"""Validation reports: what was checked, what failed, in JSON and in Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rainscore.validation.checks import Failure, ValidationError


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
