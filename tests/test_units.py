"""One spelling of the units: every module that checks or converts units uses rainscore.units."""

from __future__ import annotations

from rainscore import units
from rainscore.colocate import frames
from rainscore.io import radar_field
from rainscore.scores import pairing
from rainscore.validation import checks


def test_units_have_one_home() -> None:
    assert (units.RATE_UNITS, units.ACCUMULATION_UNITS) == ("mm/h", "mm")
    assert radar_field.RATE_UNITS is units.RATE_UNITS
    assert radar_field.ACCUMULATION_UNITS is units.ACCUMULATION_UNITS
    assert checks.RATE_UNITS is units.RATE_UNITS
    assert pairing.RAIN_RATE_UNITS is units.RATE_UNITS
    assert frames.KIND_OF_UNITS == {
        units.ACCUMULATION_UNITS: "accumulation",
        units.RATE_UNITS: "rate",
    }
