"""Budgets and long-record statistics of the synthetic world (slow: run with ``-m slow``)."""

from __future__ import annotations

import numpy as np
import pytest

from rainscore.grids.regrid import AreaWeights
from rainscore.synthetic import SyntheticWorld, WorldConfig

pytestmark = pytest.mark.slow


def test_default_demo_world_fits_its_size_budget(tmp_path):
    # Its time is measured by benchmarks/bench_synthetic.py, not asserted here.
    manifest = SyntheticWorld(WorldConfig()).write(tmp_path, progress=False)
    counts = manifest["kind"].value_counts()
    assert counts["radar"] == 864 and counts["imerg"] == 144
    assert manifest["bytes"].sum() <= 500e6


def test_long_record_wet_fraction_is_plausible_for_france():
    # Thirty summer days of truth on the default box, no files: 0.1° half-hour cells
    # raining >= 0.1 mm/h about 5–15 % of the time.
    world = SyntheticWorld(WorldConfig(days=30, seed=1))
    weights = AreaWeights.build(world.radar_grid, world.config.box)
    regridder = weights.regridder()
    wet, acc, rates = [], 0.0, []
    for i, frame in enumerate(world.truth_frames()):
        acc = acc + regridder.regrid(frame.rate)[0] / 6.0
        if i % 6 == 5:
            wet.append((acc >= 0.1).mean())
            acc = 0.0
        if i % 12 == 0:
            rates.append(frame.rate[frame.rate >= 0.1][::10])
    assert 0.05 <= np.mean(wet) <= 0.15
    rates = np.concatenate(rates)
    assert 10.0 <= np.percentile(rates, 99) <= 30.0
