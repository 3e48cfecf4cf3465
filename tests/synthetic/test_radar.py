"""The radar view of the truth: multiplicative errors, range effects, coverage holes."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer
from scipy import stats

from rainscore.synthetic import SyntheticWorld, WorldConfig
from rainscore.synthetic.config import RadarConfig
from rainscore.synthetic.radar import NODATA, RadarNetwork


def test_radar_error_is_multiplicative(frame_pass):
    log_ratio = frame_pass.radar_log_ratio
    assert log_ratio.size > 10_000
    # Radar / truth: a multiplicative error, lognormal-ish, below one on the whole (range
    # and blockage losses, site calibrations of ±0.7 dB).
    assert 0.55 <= np.exp(np.median(log_ratio)) <= 1.0
    # Once the deterministic factors are removed, what remains is the mean-preserving
    # lognormal noise (sd 0.35, median exp(-0.35²/2)) and the slow drifts of ~1 dB (0.23 in ln).
    residual = log_ratio - frame_pass.radar_expected
    assert np.median(residual) == pytest.approx(-(0.35**2) / 2, abs=0.15)
    assert 0.35 <= residual.std() <= 0.55
    assert abs(stats.skew(residual)) < 0.5  # symmetric in log


def test_radar_underestimates_more_at_long_range(frame_pass):
    r = frame_pass.radar_range_km
    ok = frame_pass.radar_blockage < 0.05
    near = np.median(frame_pass.radar_log_ratio[ok & (r < 60)])
    far = np.median(frame_pass.radar_log_ratio[ok & (r > 120)])
    assert far < near - 0.1


def test_nodata_is_written_exactly_where_there_is_no_coverage(frame_pass):
    assert frame_pass.radar_nodata_matches


@pytest.fixture(scope="module")
def france_network() -> RadarNetwork:
    world = SyntheticWorld(WorldConfig())
    return world.radar_network


def _pixel(network: RadarNetwork, lon: float, lat: float) -> tuple[int, int]:
    grid = network.grid
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon, lat)
    return int((grid.y_max - y) // grid.dy), int((x - grid.x_min) // grid.dx)


@pytest.mark.parametrize(
    ("place", "lon", "lat", "covered"),
    [
        ("Paris", 2.35, 48.85, True),
        ("Lyon", 4.85, 45.76, True),
        ("Toulouse", 1.44, 43.60, True),
        ("Bay of Biscay, 150 km offshore", -2.6, 45.4, False),
        ("English Channel off Cotentin", -1.5, 50.2, False),
        ("Gulf of Lion, 100 km offshore", 4.5, 42.9, False),
    ],
)
def test_coverage_of_the_france_window(france_network, place, lon, lat, covered):
    row, col = _pixel(france_network, lon, lat)
    assert bool(france_network.covered[row, col]) is covered, place


def test_mountains_block_the_beams_behind_them(france_network):
    net = france_network
    # Behind the Alps (Aosta valley, Piedmont) the beams of the French radars are blocked.
    row, col = _pixel(net, 7.5, 45.6)
    assert not net.covered[row, col] or net.blockage[row, col] > 0.3
    # In the Paris basin nothing is in the way.
    row, col = _pixel(net, 2.35, 48.85)
    assert net.blockage[row, col] == 0.0
    assert 0.03 < (net.blockage > 0.1).mean() < 0.3 or (~net.covered).mean() > 0.05
    assert 0.7 < net.covered.mean() < 0.95


def test_observe_quantises_to_hundredths_of_mm_and_flags_nodata(france_network):
    net = france_network
    rate = np.zeros(net.grid.shape, dtype=np.float32)
    row, col = _pixel(net, 2.35, 48.85)
    rate[row, col] = 12.0  # 1 mm in 5 minutes
    config = RadarConfig(noise_log_sd=0.0, clutter_probability=0.0)
    counts = net.observe(
        rate,
        vpr_range_km=1e6,
        drift_db=np.zeros(len(net.sites)),
        config=config,
        rng=np.random.default_rng(0),
    )
    assert counts.dtype == np.uint16
    expected = 12.0 * 5 / 60 / 0.01 * net.static_factor[row, col]
    assert counts[row, col] == round(expected)
    assert np.array_equal(counts == NODATA, ~net.covered)
    assert counts[net.covered].sum() == counts[row, col]


def test_clutter_appears_rarely_near_the_sites(france_network):
    net = france_network
    rng = np.random.default_rng(1)
    dry = np.zeros(net.grid.shape, dtype=np.float32)
    counts = net.observe(dry, 200.0, np.zeros(len(net.sites)), RadarConfig(), rng)
    echoes = (counts > 0) & (counts < NODATA)
    assert 0 < echoes.sum() < 0.001 * net.covered.sum()
    assert net.range_m[echoes].max() < 80e3
