"""The one spelling of the project's physical units (DESIGN §3: conventions).

Rain rates are in ``mm/h`` and accumulations in ``mm`` everywhere after the readers: in the
DataArrays they return, the gridded products, the pairs and the scores. Readers convert on
the way in; checks compare ``units`` attributes against these strings.
"""

from __future__ import annotations

RATE_UNITS = "mm/h"
"""Rain rates (IMERG precipitation, radar rain rates, OPERA ``RATE``)."""
ACCUMULATION_UNITS = "mm"
"""Precipitation depths over a period (Météo-France frames, OPERA ``ACRR``, MeteoNet)."""
