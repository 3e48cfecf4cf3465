"""Validation of the gridded products: xarray convention and alignment checks, and Great
Expectations suites on tabular views. No Kedro imports."""

from rainscore.validation.checks import (
    Failure,
    ValidationError,
    check_alignment,
    check_conventions,
    find_alignment_failures,
    find_convention_failures,
    has_alignment,
    has_conventions,
)
from rainscore.validation.expectations import (
    ExpectationConfig,
    ScoreSuiteConfig,
    ValueRange,
    validate_gridded,
    validate_map_scores,
)
from rainscore.validation.report import (
    ValidationReport,
    checks_summary,
    validate_colocation_inputs,
)
from rainscore.validation.validators import GriddedConventions

__all__ = [
    "ExpectationConfig",
    "Failure",
    "GriddedConventions",
    "ScoreSuiteConfig",
    "ValidationError",
    "ValidationReport",
    "ValueRange",
    "check_alignment",
    "check_conventions",
    "checks_summary",
    "find_alignment_failures",
    "find_convention_failures",
    "has_alignment",
    "has_conventions",
    "validate_colocation_inputs",
    "validate_gridded",
    "validate_map_scores",
]
