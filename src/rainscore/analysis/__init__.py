"""Analysis of the per-map scores: context features and the descriptive analysis.

No Kedro imports.
"""

from rainscore.analysis.features import FeatureConfig, map_features

__all__ = ["FeatureConfig", "map_features"]
