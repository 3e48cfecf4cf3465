"""The training split: chronological blocks, gaps, no time in two splits."""

from __future__ import annotations

import pandas as pd
import pytest

from rainscore.models.split import SplitConfig, make_split, split_times

DEMO = SplitConfig.from_dict(
    {"block": "1D", "gap": "3h", "pattern": ["train", "validation", "test"]}
)


def _half_hours(days: float, start: str = "2024-06-10") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=int(days * 48), freq="30min")


def test_demo_override_gives_day_blocks_on_three_days() -> None:
    times = _half_hours(3)
    table = make_split(times, DEMO)
    assert list(table.columns) == ["time", "block", "split"]
    assert table["time"].dtype == "datetime64[ns]" and table["block"].dtype == "int64"
    day = table["time"].dt.day - 10
    assert (table["block"] == day).all()
    counts = table.groupby(["block", "split"]).size().to_dict()
    # first 3 h (6 half hours) of days 2 and 3 are the gap
    assert counts == {
        (0, "train"): 48,
        (1, "gap"): 6,
        (1, "validation"): 42,
        (2, "gap"): 6,
        (2, "test"): 42,
    }
    assert split_times(table, "validation")[0] == pd.Timestamp("2024-06-11T03:00")


def test_default_split_is_chronological_weeks_with_day_gaps() -> None:
    times = _half_hours(70)
    table = make_split(pd.DatetimeIndex(times[::-1]))  # any order in, time order out
    assert table["time"].is_monotonic_increasing
    blocks = table.groupby("block")["time"].agg(["min", "max"])
    assert ((blocks["max"] - blocks["min"]) == pd.Timedelta("7D") - pd.Timedelta("30min")).all()
    pattern = ["train", "train", "train", "validation", "test"]
    for block, rows in table.groupby("block"):
        expected = pattern[block % 5]
        changes = block > 0 and expected != pattern[(block - 1) % 5]
        n_gap = (rows["split"] == "gap").sum()
        assert n_gap == (48 if changes else 0)
        assert set(rows["split"]) - {"gap"} == {expected}
        if changes:  # the gap is the block's first day
            assert rows["time"][rows["split"] == "gap"].max() < rows["time"].min() + pd.Timedelta(
                "1D"
            )
    # no time in two splits, every time in exactly one row
    assert not table["time"].duplicated().any() and len(table) == len(times)
    train, val, test = (split_times(table, s) for s in ("train", "validation", "test"))
    assert (
        not (set(train) & set(val)) and not (set(val) & set(test)) and not (set(train) & set(test))
    )
    # a split change is at least the gap apart
    labelled = table[table["split"] != "gap"].reset_index(drop=True)
    change = labelled["split"].ne(labelled["split"].shift()) & (labelled.index > 0)
    steps = labelled["time"].diff()[change]
    assert (steps >= pd.Timedelta("1D")).all() and len(steps) > 0


def test_split_is_deterministic() -> None:
    times = _half_hours(3)
    pd.testing.assert_frame_equal(make_split(times, DEMO), make_split(times, DEMO))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"block": "1D", "gap": "1D"}, "training.split.gap"),
        ({"block": "-1D"}, "training.split.block"),
        ({"block": "often"}, "training.split.block must be a duration"),
        ({"pattern": ["train", "test"]}, r"missing \['validation'\]"),
        ({"pattern": ["train", "valid", "test"]}, r"unknown splits \['valid'\]"),
        ({"blocks": "1D"}, "Unknown training.split parameters"),
    ],
)
def test_bad_split_parameters_are_named(params: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SplitConfig.from_dict(params)


def test_too_short_a_period_names_the_empty_splits() -> None:
    with pytest.raises(ValueError, match=r"no time to \['validation', 'test'\]"):
        make_split(_half_hours(3))  # three days are one 7-day training block
    with pytest.raises(ValueError, match="repeated times"):
        make_split(pd.DatetimeIndex(["2024-06-10", "2024-06-10"]), DEMO)
    with pytest.raises(ValueError, match="unknown split 'tset'"):
        split_times(make_split(_half_hours(3), DEMO), "tset")
