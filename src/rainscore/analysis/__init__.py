"""Analysis of the per-map scores: context features and the descriptive analysis.

No Kedro imports.
"""

from rainscore.analysis.descriptive import (
    Analysis,
    AnalysisConfig,
    analysis_figures,
    analysis_markdown,
    describe_scores,
    recommend_target,
)
from rainscore.analysis.features import FeatureConfig, map_features, matching_truth
from rainscore.analysis.local_error import local_error_blocks, local_error_maps

__all__ = [
    "Analysis",
    "AnalysisConfig",
    "FeatureConfig",
    "analysis_figures",
    "analysis_markdown",
    "describe_scores",
    "local_error_blocks",
    "local_error_maps",
    "map_features",
    "matching_truth",
    "recommend_target",
]
