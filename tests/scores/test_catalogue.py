"""The catalogue of score columns: one entry per score, looked up from a column name."""

from __future__ import annotations

import math

import pytest

from rainscore.scores import SCORES, has_score_info, score_info


@pytest.mark.parametrize(
    ("column", "name", "family", "direction", "bounded"),
    [
        ("fss_t0.5_w9", "fss", "fss", "higher", True),
        ("csi_t1.0", "csi", "categorical", "higher", True),
        ("far_t1e-05", "far", "categorical", "lower", True),
        ("pearson_wet", "pearson", "continuous", "higher", True),
        ("kge", "kge", "continuous", "higher", False),
        ("rmse", "rmse", "continuous", "lower", False),
        ("me", "me", "continuous", "best_at", False),
        ("frequency_bias_t2.0", "frequency_bias", "categorical", "best_at", False),
        ("sal_s", "sal_s", "sal", "best_at", True),
        ("sal_threshold_obs", "sal_threshold_obs", "sal", "none", False),
        ("hits_t0.1", "hits", "categorical", "none", False),
        ("no_data", "no_data", "flags", "none", True),
    ],
)
def test_lookup_by_column(column, name, family, direction, bounded) -> None:
    info = score_info(column)
    assert info.name == name
    assert (info.family, info.direction, info.bounded) == (family, direction, bounded)
    assert info.ranks_maps == (direction in ("higher", "lower"))
    assert has_score_info(column)


def test_ranges_directions_and_units() -> None:
    assert score_info("ets_t1.0").range == pytest.approx((-1 / 3, 1.0))
    assert score_info("rmse").range == (0.0, math.inf)
    assert score_info("rmse").units == score_info("me_wet").units == "mm/h"
    assert score_info("fss_skilful_scale_t1.0").units == "grid cells"
    assert score_info("hits_t1.0").units == "pixels"
    assert score_info("frequency_bias_t1.0").best == 1.0
    assert score_info("kge").higher_is_better and not score_info("mae").higher_is_better
    for info in SCORES.values():
        lo, hi = info.range
        assert lo < hi, info.name
        assert info.best is None or lo <= info.best <= hi, info.name
        assert (info.best is not None) == (info.direction != "none"), info.name


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ("neural_t1.0", r"'neural' is not a score of the catalogue"),
        ("fss_t0.5", r"fss needs a window"),
        ("csi", r"csi needs a threshold"),
        ("pearson_t1.0", r"pearson has no threshold"),
        ("csi_wet_t1.0", r"csi has no _wet variant"),
    ],
)
def test_unknown_or_malformed_columns_are_refused(column: str, message: str) -> None:
    assert not has_score_info(column)
    with pytest.raises(ValueError, match=message):
        score_info(column)
