"""A small synthetic world written once per test session, and one pass over its truth frames.

The world covers 3° × 4° (30 × 40 IMERG cells, a 400 × 370 km radar window) for one summer
day starting with a stratiform front; the seed is fixed, so every measured value below is
deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rainscore.grids.regrid import AreaWeights
from rainscore.synthetic import SyntheticWorld, WorldConfig
from rainscore.synthetic.diagnostics import (
    log_rain,
    radial_spectrum_slope,
    read_imerg_cube,
    read_radar,
)
from rainscore.synthetic.radar_file import radar_relpath

SMALL_WORLD = {
    "start": "2024-06-10T06:00",
    "days": 1,
    "seed": 2,
    "box": {"lat_min": 44.0, "lat_max": 47.0, "lon_min": 1.5, "lon_max": 5.5},
    "regimes": {"initial": "stratiform_front"},
}


@dataclass
class WrittenWorld:
    """A world and what it wrote."""

    world: SyntheticWorld
    root: Path
    manifest: pd.DataFrame
    truth: xr.Dataset
    imerg: xr.Dataset


@dataclass
class FramePass:
    """What one pass over the truth frames of the small world measured."""

    half_hour_means: np.ndarray  # (time, lat, lon) regridded means of six frames
    wet_rates: np.ndarray  # sample of 1 km rates >= 0.1 mm/h
    wet_fractions: np.ndarray  # per frame, 1 km pixels >= 0.1 mm/h
    slopes: np.ndarray  # spectral slope of log-rain, frames with >= 5 % wet pixels
    radar_log_ratio: np.ndarray  # ln(radar / truth), covered pixels with truth >= 1 mm/h
    radar_expected: np.ndarray  # ln of the deterministic factor (calibration, blockage, range)
    radar_range_km: np.ndarray  # range of those pixels
    radar_blockage: np.ndarray  # beam blockage of those pixels
    radar_nodata_matches: bool  # 65535 exactly where the network has no coverage


@pytest.fixture(scope="session")
def small_config() -> WorldConfig:
    """Configuration of the small world."""
    return WorldConfig.from_dict(SMALL_WORLD)


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory, small_config: WorldConfig):
    """The small world, written once."""
    root = tmp_path_factory.mktemp("small-world")
    world = SyntheticWorld(small_config)
    manifest = world.write(root, progress=False)
    truth = xr.load_dataset(root / "truth" / "truth.nc", engine="h5netcdf")
    imerg = read_imerg_cube(sorted((root / "imerg").rglob("3B-HHR*")), small_config.box)
    return WrittenWorld(world, root, manifest, truth, imerg)


@pytest.fixture(scope="session")
def frame_pass(small_world: WrittenWorld) -> FramePass:
    """One pass over the small world's truth frames, regenerated from its config."""
    world = small_world.world
    weights = AreaWeights.build(world.radar_grid, world.config.box)
    regridder = weights.regridder()
    network = world.radar_network
    means, acc = [], 0.0
    wet_rates, wet_fractions, slopes = [], [], []
    log_ratio, expected, ranges, blockage = [], [], [], []
    nodata_ok = True
    for i, frame in enumerate(world.truth_frames()):
        rate = frame.rate
        acc = acc + regridder.regrid(rate)[0] / 6.0
        if i % 6 == 5:
            means.append(acc)
            acc = 0.0
        wet = rate >= 0.1
        wet_fractions.append(wet.mean())
        wet_rates.append(rate[wet][::5])
        if wet.mean() >= 0.05 and i % 6 == 0:
            slopes.append(radial_spectrum_slope(log_rain(rate), 1.0))
        if i % 12 == 0:
            name = small_world.root / radar_relpath(frame.end)
            radar, _, end = read_radar(name)
            assert end == frame.end
            nodata_ok &= bool(np.array_equal(np.isnan(radar), ~network.covered))
            sel = network.covered & (rate >= 1.0) & (radar > 0)
            log_ratio.append(np.log(radar[sel] / rate[sel]))
            vpr = (network.range_m[sel] / (frame.params.vpr_range_km * 1e3)) ** 2
            expected.append(np.log(network.static_factor[sel]) - vpr)
            ranges.append(network.range_m[sel] / 1e3)
            blockage.append(network.blockage[sel])
    return FramePass(
        half_hour_means=np.array(means),
        wet_rates=np.concatenate(wet_rates),
        wet_fractions=np.array(wet_fractions),
        slopes=np.array(slopes),
        radar_log_ratio=np.concatenate(log_ratio),
        radar_expected=np.concatenate(expected),
        radar_range_km=np.concatenate(ranges),
        radar_blockage=np.concatenate(blockage),
        radar_nodata_matches=nodata_ok,
    )
