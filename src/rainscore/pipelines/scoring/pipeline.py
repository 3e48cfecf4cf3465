"""The ``scoring`` pipeline."""

from kedro.pipeline import Node, Pipeline

from rainscore.pipelines.scoring.nodes import (
    accept_scores,
    analyse_scores,
    compute_features,
    compute_local_errors,
    join_scores_and_features,
    score_pairs,
    validate_scores,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``scoring`` pipeline."""
    return Pipeline(
        [
            Node(
                func=score_pairs,
                inputs=["colocated_pairs", "params:scoring", "params:execution"],
                outputs="map_score_values",
                name="score_pairs",
            ),
            Node(
                func=compute_features,
                inputs=["colocated_pairs", "demo_truth_optional", "params:scoring"],
                outputs="map_features",
                name="compute_features",
            ),
            Node(
                func=join_scores_and_features,
                inputs=["map_score_values", "map_features"],
                outputs="map_scores_unchecked",
                name="join_scores_and_features",
            ),
            Node(
                func=compute_local_errors,
                inputs=["colocated_pairs", "params:target", "params:scoring"],
                outputs="local_error_maps",
                name="compute_local_errors",
            ),
            Node(
                func=validate_scores,
                inputs=["map_scores_unchecked", "params:scoring", "params:target"],
                outputs=["map_scores_validation", "map_scores_validation_report"],
                name="validate_scores",
                tags=["validation"],
            ),
            Node(
                func=accept_scores,
                inputs=["map_scores_unchecked", "map_scores_validation"],
                outputs="map_scores",
                name="accept_scores",
                tags=["validation"],
            ),
            Node(
                func=analyse_scores,
                inputs=["map_scores", "params:scoring", "params:target"],
                outputs=["scoring_analysis", "scoring_figures", "scoring_report"],
                name="analyse_scores",
            ),
        ],
        tags=["scoring"],
        namespace="scoring",
        prefix_datasets_with_namespace=False,
    )
