"""Score and context figures come from the descriptive analysis, restricted to the target."""

import pytest

from rainscore.analysis import AnalysisConfig
from rainscore.analysis.descriptive import describe_scores
from rainscore.reporting.scores import analysis_from_dict, score_figures
from rainscore.testing import fake_map_scores

CONFIG = AnalysisConfig(candidates=("fss_t0.5_w9", "csi_t1.0", "rmse"), n_bootstrap=0, n_bins=2)


@pytest.fixture(scope="module")
def table():
    return fake_map_scores(12, seed=2)


def test_figures_sections_and_target_only_context(table):
    analysis = describe_scores(table, config=CONFIG).to_dict()
    figures = score_figures(table, analysis, config=CONFIG, target="csi_t1.0")
    names = {f.name: f.section for f in figures}
    assert names["score_distributions"] == "scores"
    assert names["score_correlation"] == "scores"
    assert names["score_vs_presence"] == "context"
    assert {"score_by_season", "score_by_hour", "score_by_true_regime"} <= set(names)
    presence = next(f for f in figures if f.name == "score_vs_presence").figure
    panels = [ax for ax in presence.axes if ax.get_visible()]
    assert all(ax.get_ylabel() == "median csi_t1.0" for ax in panels)
    assert panels[0].get_xlabel() == "mean PMW age (min)"
    distributions = next(f for f in figures if f.name == "score_distributions").figure
    visible = [ax for ax in distributions.axes if ax.get_visible()]
    assert len(visible) == 3
    assert {ax.get_ylabel() for ax in visible} == {"number of maps"}
    assert visible[2].get_xlabel() == "rmse (mm/h)"


def test_missing_analysis_keys_named():
    with pytest.raises(ValueError, match="grouped"):
        analysis_from_dict({"n_maps": 1})
