"""Readers for raw IMERG and radar files (no Kedro imports in this package).

- :func:`open_imerg` reads IMERG half-hourly files of any version and run over a box;
  :func:`pmw_age` derives the passive-microwave age from them; :func:`parse_imerg_filename`
  parses their names.
- :func:`open_radar` reads Météo-France and other ODIM HDF5 composites and MeteoNet
  archives; :func:`radar_metadata` reads only their attributes, for inventories.
- Every reader raises :class:`ReaderError` (a ``ValueError``) naming the file and the fault.

See ``docs/io.md`` for the variable mapping table and conventions.
"""

from rainscore.io.errors import REASONS, ReaderError
from rainscore.io.imerg import decode_time_units, open_imerg
from rainscore.io.imerg_filename import ImergFileInfo, parse_imerg_filename
from rainscore.io.imerg_variables import IMERG_VARIABLES, ImergVariable
from rainscore.io.meteonet import open_meteonet
from rainscore.io.pmw_age import pmw_age
from rainscore.io.radar import open_radar, radar_metadata
from rainscore.io.radar_field import RadarMetadata

__all__ = [
    "IMERG_VARIABLES",
    "REASONS",
    "ImergFileInfo",
    "ImergVariable",
    "RadarMetadata",
    "ReaderError",
    "decode_time_units",
    "open_imerg",
    "open_meteonet",
    "open_radar",
    "parse_imerg_filename",
    "pmw_age",
    "radar_metadata",
]
