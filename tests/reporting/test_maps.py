"""Example maps: chosen among wet maps by the target score, three panels with units."""

import numpy as np
import pandas as pd
import pytest

from rainscore.analysis.local_error import local_error_maps
from rainscore.grids.imerg import Box
from rainscore.reporting.maps import (
    choose_examples,
    example_map_figures,
    grid_box,
    target_distribution_figure,
    wet_maps,
)
from rainscore.testing import fake_map_scores, fake_pairs

TARGET = "fss_t0.5_w9"


def _table() -> pd.DataFrame:
    times = pd.date_range("2024-06-10", periods=6, freq="30min", name="time")
    return pd.DataFrame(
        {
            TARGET: [0.5, np.nan, 0.9, 0.1, 0.7, 0.95],
            "rmse": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "too_dry": [False, False, False, False, False, True],
        },
        index=times,
    )


def test_wet_maps_best_first_without_dry_or_undefined():
    ranked = wet_maps(_table(), TARGET)
    assert ranked.tolist() == [0.9, 0.7, 0.5, 0.1]


def test_error_scores_rank_lowest_first():
    assert wet_maps(_table(), "rmse").tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_best_median_worst():
    table = _table()
    examples = choose_examples(table, TARGET, 3)
    assert [label for label, _ in examples] == ["best", "median", "worst"]
    assert [table.loc[t, TARGET] for _, t in examples] == [0.9, 0.5, 0.1]
    assert [label for label, _ in choose_examples(table, TARGET, 4)] == [
        "best",
        "rank 2 of 4",
        "rank 3 of 4",
        "worst",
    ]
    assert choose_examples(table.iloc[[1]], TARGET, 3) == []


def test_unknown_target_named():
    with pytest.raises(KeyError, match=r"'csi_t9\.0'"):
        wet_maps(_table(), "csi_t9.0")


def test_example_figures_have_three_labelled_panels():
    box = Box(lat_min=45.0, lat_max=46.0, lon_min=0.0, lon_max=1.5)
    pairs = fake_pairs(4, box=box, seed=3)
    errors = local_error_maps(pairs, threshold=0.5, window=3)
    table = fake_map_scores(4, box=box, seed=3)
    examples = choose_examples(table, TARGET, 2)
    figures = example_map_figures(pairs, errors, table, examples, target=TARGET)
    assert [f.name for f in figures] == ["example_map_best", "example_map_worst"]
    fig = figures[0].figure
    maps = [ax for ax in fig.axes if ax.get_xlabel() == "longitude (°E)"]
    assert len(maps) == 3
    assert maps[0].get_ylabel() == "latitude (°N)"
    labels = {ax.get_ylabel() for ax in fig.axes}
    assert "rain rate (mm/h)" in labels and "IMERG − radar event fraction (1)" in labels
    best = table[TARGET].max()
    assert f"{TARGET} = {best:.2f}" in fig._suptitle.get_text()
    np.testing.assert_allclose(maps[0].get_xlim(), (0.0, 1.5), atol=1e-9)
    assert all(f.section == "maps" for f in figures)


def test_grid_box_from_cell_centres():
    pairs = fake_pairs(1, box=Box(lat_min=45.0, lat_max=46.0, lon_min=0.0, lon_max=1.5))
    box = grid_box(pairs["imerg"])
    assert box.lat_min == pytest.approx(45.0) and box.lon_max == pytest.approx(1.5)


def test_target_distribution_marks_examples():
    table = _table()
    figure = target_distribution_figure(table, TARGET, choose_examples(table, TARGET, 3))
    ax = figure.figure.axes[0]
    assert ax.get_ylabel() == "number of maps" and ax.get_xlabel() == TARGET
    assert sorted(line.get_xdata()[0] for line in ax.lines) == [0.1, 0.5, 0.9]
    assert "4 wet maps of 6" in ax.get_title()
