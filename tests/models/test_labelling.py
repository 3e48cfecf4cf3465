"""Labelling clusters with the target score: medians, IQR, counts, smoothing, fallback, OOD."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from rainscore.models.clustering import ClusterModel
from rainscore.models.labelling import (
    ClusterLabels,
    DistanceOOD,
    LabelConfig,
    fit_labels,
    score_maps,
    weighted_quantiles,
)

LABELS = np.array([0, 0, 0, 1, 1, 2, 1])
SCORES = np.array([1.0, 2.0, 4.0, 10.0, 20.0, 5.0, math.nan])  # the last map: undefined


def test_labels_by_hand() -> None:
    labels = fit_labels(LABELS, SCORES, 4, LabelConfig(min_count=2))
    # Cluster 0: 1, 2, 4 at midpoint positions 1/6, 1/2, 5/6 -> median 2,
    # q25 = 1 + (1/4 - 1/6) / (1/3) × (2 - 1) = 1.25, q75 = 2 + (3/4 - 1/2) / (1/3) × 2 = 3.5.
    # Cluster 1: 10, 20 at 1/4, 3/4 -> median 15, quartiles 10 and 20 (the NaN map is left out).
    # Clusters 2 (one map) and 3 (none): the global median of 1, 2, 4, 5, 10, 20 = 4.5,
    # quartiles by the midpoint rule at 1.5 and 6.5: 2 and 10.
    np.testing.assert_allclose(labels.median, [2.0, 15.0, 4.5, 4.5])
    np.testing.assert_allclose(labels.q25, [1.25, 10.0, 2.0, 2.0])
    np.testing.assert_allclose(labels.q75, [3.5, 20.0, 10.0, 10.0])
    np.testing.assert_array_equal(labels.count, [3, 2, 1, 0])
    np.testing.assert_array_equal(labels.fallback, [False, False, True, True])
    assert labels.global_median == 4.5
    np.testing.assert_allclose(labels.estimate([3, 0, 1]), [4.5, 2.0, 15.0])
    table = labels.to_frame()
    assert list(table.columns) == [
        "cluster", "count", "weight", "median", "q25", "q75", "fallback", "method",
    ]  # fmt: skip
    assert table["count"].tolist() == [3, 2, 1, 0]


def test_weighted_quantiles_match_hazen_with_equal_weights() -> None:
    values = np.random.default_rng(0).normal(size=11)
    levels = [0.0, 0.1, 0.25, 0.5, 0.9, 1.0]
    np.testing.assert_allclose(
        weighted_quantiles(values, np.full(11, 2.5), levels),
        np.quantile(values, levels, method="hazen"),
    )
    # Zero weights drop their values.
    assert weighted_quantiles([1.0, 100.0, 3.0], [1.0, 0.0, 1.0], [0.5])[0] == 2.0
    with pytest.raises(ValueError, match="positive total weight"):
        weighted_quantiles([1.0], [0.0])


def test_som_labels_are_smoothed_by_the_neighbourhood() -> None:
    som = ClusterModel("desom", np.zeros((3, 2)), grid=(1, 3))
    labels = np.array([0, 0, 1])
    scores = np.array([1.0, 3.0, 10.0])
    neighbourhood = som.neighbourhood(1.0)
    result = fit_labels(labels, scores, 3, LabelConfig(min_count=1), neighbourhood=neighbourhood)
    # Unit 1 weighs the maps of unit 0 by b = exp(-1) and its own by 1: values 1, 3, 10 with
    # weights b, b, 1 at midpoint positions b/2 / W, 3b/2 / W, (2b + 1/2) / W, W = 2b + 1.
    b = math.exp(-1)
    total = 2 * b + 1
    p3, p10 = 1.5 * b / total, (2 * b + 0.5) / total
    median = 3 + (0.5 - p3) / (p10 - p3) * 7
    assert result.median[1] == pytest.approx(median)
    assert result.weight[1] == pytest.approx(total)
    # Unit 2 has no map and a weight 2 exp(-4) + exp(-1) < 1: the global median, 3.
    assert result.fallback.tolist() == [False, False, True] and result.median[2] == 3.0
    assert result.count.tolist() == [2, 1, 0]
    # Unit 0: weights 1, 1, b -> the map on unit 1 pulls its median above 2.
    assert 2.0 < result.median[0] < 3.0


def test_calibrated_intervals_and_round_trip() -> None:
    labels = fit_labels(LABELS, SCORES, 4, LabelConfig(min_count=2))
    # Validation: clusters 0, 1, 0, 1 with scores 3, 11, 2.5, 19 -> residuals 1, 4, 0.5, 4;
    # at 80 % the ceil(5 × 0.8) = 4th smallest residual: 4.
    calibrated = labels.calibrate([0, 1, 0, 1], [3.0, 11.0, 2.5, 19.0], coverage=0.8)
    assert calibrated.conformal.quantile == 4.0
    table = calibrated.predict(np.array([0, 2]))
    assert table["lower"].tolist() == [-2.0, 0.5] and table["upper"].tolist() == [6.0, 8.5]
    assert table["q25"].tolist() == [1.25, 2.0] and table["fallback"].tolist() == [False, True]
    with pytest.raises(ValueError, match="calibrate"):
        labels.predict(np.array([0]))
    back = ClusterLabels.from_dict(json.loads(json.dumps(calibrated.to_dict())))
    np.testing.assert_array_equal(back.median, calibrated.median)
    np.testing.assert_array_equal(back.fallback, calibrated.fallback)
    assert back.conformal == calibrated.conformal
    with pytest.raises(ValueError, match="in \\[0, 4\\)"):
        labels.estimate(np.array([4]))


def test_far_map_is_flagged_out_of_distribution() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 2)) + np.array([[0.0, 0.0]] * 100 + [[5.0, 5.0]] * 100)
    cluster = ClusterModel("kmeans", [[0.0, 0.0], [5.0, 5.0]])
    ood = DistanceOOD.fit(cluster.nearest_distance(z), quantile=0.99)
    assert ood.threshold == pytest.approx(np.quantile(cluster.nearest_distance(z), 0.99))
    assigned, _ = cluster.assign(z)
    labels = fit_labels(assigned, z[:, 0], 2, LabelConfig()).calibrate(assigned, z[:, 0], 0.8)
    new = np.array([[0.1, 0.0], [40.0, -30.0]])
    table = score_maps(cluster, labels, ood, new)
    assert table["ood"].tolist() == [False, True]
    assert table["distance"].iloc[1] == pytest.approx(35 * math.sqrt(2))  # from (5, 5)
    assert table["cluster"].tolist() == [0, 1]
    assert DistanceOOD.from_dict(json.loads(json.dumps(ood.to_dict()))) == ood


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="no training map has a defined target score"):
        fit_labels(np.array([0]), np.array([math.nan]), 1, LabelConfig())
    with pytest.raises(ValueError, match="neighbourhood must be"):
        fit_labels(LABELS, SCORES, 4, LabelConfig(), neighbourhood=np.eye(3))
    with pytest.raises(ValueError, match=r"labelling\.min_count"):
        LabelConfig.from_dict({"min_count": 0})
    with pytest.raises(ValueError, match="Unknown labelling parameters"):
        LabelConfig.from_dict({"min_cont": 3})
