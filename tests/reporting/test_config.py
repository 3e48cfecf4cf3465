"""The reporting parameters: defaults, bad values and unknown keys named."""

from pathlib import Path

import pytest
import yaml

from rainscore.param_sections import SECTIONS, ParameterError, validate_parameters
from rainscore.reporting.config import ReportConfig

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


def test_project_parameters_parse():
    params = yaml.safe_load((CONF / "parameters_reporting.yml").read_text())
    assert ReportConfig.from_dict(params["reporting"]) == ReportConfig()
    assert "reporting" in SECTIONS


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dpis": 100}, "dpis"),
        ({"dpi": 5}, r"reporting\.dpi must be in \[20, 600\], got 5"),
        ({"n_examples": -1}, r"reporting\.n_examples must be >= 0, got -1"),
        ({"coastlines": "yes"}, "reporting.coastlines"),
    ],
)
def test_bad_values_named(params, message):
    with pytest.raises(ValueError, match=message):
        ReportConfig.from_dict(params)


def test_validate_parameters_names_the_reporting_key():
    with pytest.raises(ParameterError, match="n_exemples"):
        validate_parameters({"reporting": {"n_exemples": 3}})
