"""The descriptive analysis and the target-score rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rainscore.analysis.descriptive import (
    AnalysisConfig,
    analysis_figures,
    analysis_markdown,
    describe_scores,
)


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.uniform(0, 180, n)
    ir = np.clip(age / 2 + rng.normal(0, 10, n), 0, 100)
    t = pd.date_range("2024-01-01", periods=n, freq="30min")
    good = np.clip(0.9 - age / 250 + rng.normal(0, 0.05, n), 0, 1)  # skill falls with age
    noise = rng.uniform(0, 1, n)  # unrelated to presence
    sparse = np.where(rng.uniform(size=n) < 0.8, np.nan, good)  # strong but rarely defined
    return pd.DataFrame(
        {
            "fss_t1.0_w5": noise,
            "csi_t1.0": good,
            "pearson": sparse,
            "rmse": 1 + age / 100 + rng.normal(0, 0.1, n),  # error grows with age
            "pmw_age_mean": age,
            "ir_influence_mean": ir,
            "hour": t.hour + t.minute / 60,
            "season": "DJF",
        },
        index=pd.Index(t, name="time"),
    )


CONFIG = AnalysisConfig(candidates=("fss_t1.0_w5", "csi_t1.0", "pearson", "rmse"), min_coverage=0.5)


def test_rule_picks_the_score_that_tracks_satellite_presence() -> None:
    analysis = describe_scores(_table(), config=CONFIG)
    rec = analysis.recommendation
    assert rec["score"] == "csi_t1.0"
    ranking = {r["score"]: r for r in rec["ranking"]}
    assert ranking["fss_t1.0_w5"]["presence_signal"] == pytest.approx(0.0, abs=0.15)
    assert ranking["csi_t1.0"]["presence_signal"] > 0.7
    assert 0 < ranking["csi_t1.0"]["signal_se"] < 0.1
    assert ranking["rmse"]["presence_signal"] > 0.7  # error sign handled
    assert not ranking["rmse"]["eligible"]  # unbounded
    assert not ranking["pearson"]["eligible"]  # 20 % coverage < 50 %
    assert analysis.coverage["pearson"] == pytest.approx(0.2, abs=0.05)


def test_preference_order_breaks_near_ties() -> None:
    table = _table()
    table["fss_t1.0_w5"] = table["csi_t1.0"] * 0.9 + 0.05  # same ranks: same signal as CSI
    analysis = describe_scores(table, config=CONFIG)
    assert analysis.recommendation["score"] == "fss_t1.0_w5"  # first in the order
    strict = AnalysisConfig(candidates=("csi_t1.0", "fss_t1.0_w5"), signal_tolerance=0.0)
    assert describe_scores(table, config=strict).recommendation["score"] == "csi_t1.0"


def test_no_eligible_candidate_gives_none() -> None:
    config = AnalysisConfig(candidates=("pearson",), min_coverage=0.5)
    assert describe_scores(_table(), config=config).recommendation["score"] is None


def test_candidates_missing_from_the_table_are_reported() -> None:
    config = AnalysisConfig(candidates=("csi_t1.0", "csi_t3.0"))
    analysis = describe_scores(_table(), config=config)
    assert analysis.recommendation["missing_candidates"] == ["csi_t3.0"]
    with pytest.raises(ValueError, match="None of the candidate scores"):
        describe_scores(_table(), config=AnalysisConfig(candidates=("csi_t3.0",)))


def test_report_and_figures() -> None:
    table = _table()
    analysis = describe_scores(table, config=CONFIG)
    d = analysis.to_dict()
    assert d["n_maps"] == 400
    assert d["correlation"]["csi_t1.0"]["csi_t1.0"] == pytest.approx(1.0)
    figs = analysis_figures(table, analysis, config=CONFIG)
    assert {"distributions", "correlation", "dependence_presence", "by_hour"} <= set(figs)
    md = analysis_markdown(analysis, configured_target="fss_t1.0_w5")
    assert f"Recommended by the rule: **{analysis.recommendation['score']}**" in md
    assert "differs from the recommendation" in md
    assert "![correlation](figures/correlation.png)" in md


@pytest.mark.parametrize(
    ("candidates", "message"),
    [
        (("fss_t0.5_w9", "me"), r"candidates: 'me' cannot rank maps .*'best_at'"),
        (("sal_s",), r"candidates: 'sal_s' cannot rank maps"),
        (("neural",), r"candidates: 'neural' is not a score column"),
        (("fss_t0.5",), r"candidates: 'fss_t0.5' is not a score column: fss needs a window"),
    ],
)
def test_candidates_must_rank_maps(candidates: tuple[str, ...], message: str) -> None:
    """Directions come from the score catalogue: signed scores cannot be candidates."""
    with pytest.raises(ValueError, match=message):
        AnalysisConfig(candidates=candidates)
