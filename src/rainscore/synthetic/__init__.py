"""A synthetic world in the real file formats: truth rain, radar mosaics and IMERG files.

The world is a scientific instrument whose truth is known: 1 km / 5 min stochastic rain
with regimes, seen through a simulated radar network (Météo-France ODIM HDF5 mosaics) and a
simulated IMERG process (V07 HDF5 files: PMW constellation, morphing, IR blending,
calibration). See ``docs/synthetic.md``. Nothing here imports Kedro.
"""

from rainscore.synthetic.config import (
    REGIMES,
    ImergConfig,
    RadarConfig,
    RainConfig,
    RegimeConfig,
    RegimeRain,
    WindConfig,
    WorldConfig,
)
from rainscore.synthetic.constellation import CONSTELLATION, SENSOR_CODES
from rainscore.synthetic.radar import ARAMIS_SITES
from rainscore.synthetic.world import SyntheticWorld, TruthFrame

__all__ = [
    "ARAMIS_SITES",
    "CONSTELLATION",
    "REGIMES",
    "SENSOR_CODES",
    "ImergConfig",
    "RadarConfig",
    "RainConfig",
    "RegimeConfig",
    "RegimeRain",
    "SyntheticWorld",
    "TruthFrame",
    "WindConfig",
    "WorldConfig",
]
