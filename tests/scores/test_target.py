"""The target score parsed once from ``params:target``."""

from __future__ import annotations

import pytest

from rainscore.scores import ScoreConfig, TargetConfig


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"score": "fss_t0.5_w9"}, (0.5, 9)),
        ({"score": "fss_t0.5_w9", "threshold": 0.5, "window": 9}, (0.5, 9)),
        ({"score": "csi_t1.0", "window": 5}, (1.0, 5)),
        ({"score": "pearson", "threshold": 2.0, "window": 3}, (2.0, 3)),
    ],
)
def test_local_errors_follow_the_target_score(params: dict, expected: tuple) -> None:
    target = TargetConfig.from_dict(params)
    assert (target.local_threshold, target.local_window) == expected
    assert target.score == params["score"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"score": "fss_t0.5_w9", "window": 5}, r"target.window is 5 but the target score"),
        ({"score": "csi_t1.0"}, r"'csi_t1.0' has no window: set target.window"),
        ({"score": "pearson", "threshold": 1.0, "window": 4}, r"target.window .* got 4"),
        ({"score": "pearson", "threshold": 1.0, "window": True}, r"target.window .* got True"),
        ({"score": "pearson", "threshold": 0.0, "window": 3}, r"target.threshold .* got 0.0"),
        ({"score": "fss_t0.5_w9", "windw": 5}, r"Unknown target parameters \['windw'\]"),
        ({"score": ""}, r"target.score must be a score column name"),
        ({"score": "fss_t0.5"}, r"target.score: 'fss_t0.5' is not a score column: fss needs a"),
        ({"score": "neural_t1.0"}, r"target.score: 'neural_t1.0' is not a score column"),
    ],
)
def test_invalid_targets_are_refused(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TargetConfig.from_dict(params)


def test_default_target() -> None:
    assert TargetConfig.from_dict(None) == TargetConfig(score="fss_t0.5_w9")


def test_the_target_must_be_a_column_the_scores_compute() -> None:
    scores = ScoreConfig(thresholds=(0.5, 1.0), windows=(1, 9), families=("fss", "continuous"))
    TargetConfig(score="fss_t0.5_w9").check_computed_by(scores)
    TargetConfig(score="pearson_wet", threshold=1.0, window=3).check_computed_by(scores)
    with pytest.raises(ValueError, match=r"2.0 is not in scoring.scores.thresholds \[0.5, 1.0\]"):
        TargetConfig(score="fss_t2.0_w9").check_computed_by(scores)
    with pytest.raises(ValueError, match=r"family 'categorical' is not in scoring.scores.families"):
        TargetConfig(score="csi_t1.0", window=5).check_computed_by(scores)
