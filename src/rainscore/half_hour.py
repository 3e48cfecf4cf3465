"""The IMERG half hour: the one home of its length.

An IMERG map's ``time`` is the start T of its half hour [T, T + 30 min). Every package
(readers, ingestion, colocation) takes the length from here; this module imports nothing
of the project, so the lowest layers (``rainscore.io``) can use it without a cycle.
"""

from __future__ import annotations

import numpy as np

HALF_HOUR_MINUTES = 30
"""Length of an IMERG half hour, minutes."""
HALF_HOUR = np.timedelta64(HALF_HOUR_MINUTES, "m")
"""Length of an IMERG half hour."""
