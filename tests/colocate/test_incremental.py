"""Which half hours of the previous output a rerun keeps (resume_time, continued)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr

from rainscore.colocate import ColocationPlan, continued, plan_colocation, resume_time

T0 = dt.datetime(2023, 6, 1, 12, 0)


@pytest.fixture
def plan(series, box, tmp_path) -> ColocationPlan:
    """Three hours of 5-minute frames: six half hours, 12:00–14:30 (no file is read)."""
    for k in range(1, 37):
        series.add(T0 + dt.timedelta(minutes=5 * k), 0.5)
    return plan_colocation(series.inventory(), box, cache_dir=tmp_path / "weights")


def _previous(plan: ColocationPlan, n_frames: list[int], **attrs) -> xr.Dataset:
    return xr.Dataset(
        {"n_frames": ("time", np.array(n_frames, np.int16))},
        coords={"time": plan.times[: len(n_frames)]},
        attrs={**plan.empty().attrs, **attrs},
    )


def test_the_half_hours_after_the_last_complete_one_are_colocated(plan) -> None:
    assert resume_time(_previous(plan, [6, 6, 6, 6]), plan) == plan.times[3]  # the last again
    assert resume_time(_previous(plan, [6, 4, 6, 5, 3]), plan) == plan.times[3]
    assert resume_time(_previous(plan, [6, 6, 6, 6, 6, 6]), plan) == plan.times[5]


@pytest.mark.parametrize(
    ("n_frames", "attrs"),
    [
        ([5, 4], {}),  # no complete half hour
        ([6], {}),  # only one half hour: it is colocated again
        ([6, 6, 6], {"lag_minutes": 30}),
        ([6, 6, 6], {"frame_minutes": 10}),
        ([6, 6, 6], {"box": '{"lat_min": 0}'}),
    ],
)
def test_nothing_is_kept(plan, n_frames, attrs) -> None:
    assert resume_time(_previous(plan, n_frames, **attrs), plan) is None


def test_a_previous_output_that_does_not_start_the_period_is_not_kept(plan) -> None:
    later = _previous(plan, [6, 6, 6]).assign_coords(time=plan.times[1:4])
    assert resume_time(later, plan) is None
    longer = plan.starting_at(plan.times[2])  # this run starts after the previous one
    assert resume_time(_previous(plan, [6, 6, 6]), longer) is None
    assert resume_time(None, plan) is None


def test_the_continued_period_is_the_kept_half_hours_then_the_colocated_ones(plan) -> None:
    previous = _previous(plan, [6, 6, 6, 2])
    colocated = _previous(plan, [6, 6, 6, 6, 6, 6]).isel(time=slice(3, None))
    whole = continued(previous, 3, colocated)
    assert whole["time"].values.tolist() == plan.times.tolist()
    assert whole["n_frames"].values.tolist() == [6] * 6
    assert continued(previous, 0, colocated) is colocated
    with pytest.raises(ValueError, match="5 half hours of the previous radar_on_imerg kept"):
        continued(previous, 5, colocated)
