"""The synthetic IMERG: published facts against the truth, and consistent quality fields."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rainscore.grids import DEFAULT_BOX
from rainscore.synthetic import CONSTELLATION
from rainscore.synthetic.config import ImergConfig
from rainscore.synthetic.constellation import compute_overpasses, make_orbits
from rainscore.synthetic.diagnostics import imerg_vs_truth, pmw_revisit
from rainscore.synthetic.imerg import ImergInputs, simulate_imerg

PMW_CODES = {3, 5, 7, 9, 11}  # AMSR2, SSMIS, MHS, GMI, ATMS


@pytest.fixture(scope="module")
def facts(small_world) -> dict[str, float]:
    return imerg_vs_truth(small_world.imerg, small_world.truth)


def test_correlation_with_the_truth_is_in_the_published_range(facts):
    assert 0.3 <= facts["r_all"] <= 0.7
    assert 0.3 <= facts["r_map_median"] <= 0.75


def test_light_rain_is_overestimated_and_intense_rain_underestimated(facts):
    assert facts["ratio_0.1_1"] > 1.2  # truth 0.1–1 mm/h
    assert facts["ratio_5_inf"] < 0.8  # truth >= 5 mm/h
    assert facts["wet_area_ratio"] > 1.2  # IMERG rains on a larger area


def test_skill_is_ordered_by_pmw_presence_and_age(facts):
    # PMW in the half hour > morphed (IR influence < 50 %) > IR-dominated.
    assert facts["r_pmw"] > facts["r_morph"] + 0.02
    assert facts["r_morph"] > facts["r_ir"] + 0.05
    # Same story with the truth's PMW age (nearest overpass, both directions for Final).
    assert facts["r_age_0_0"] > facts["r_age_1_60"] > facts["r_age_61_180"]
    # The IR estimate alone is poor.
    assert facts["r_ir_only"] < 0.45
    assert facts["frac_ir_dominated"] > 0.02


def test_quality_fields_are_consistent(small_world):
    im = small_world.imerg
    src = im["MWprecipSource"].values
    pmw = src > 0
    assert set(np.unique(src[pmw])) <= PMW_CODES
    minute = im["MWobservationTime"].values
    assert ((minute[pmw] >= 0) & (minute[pmw] <= 29)).all()
    assert (minute[~pmw] == -9999).all()
    mw = im["MWprecipitation"].values
    assert np.isfinite(mw[pmw]).all() and (mw[pmw] >= 0).all()
    assert np.isnan(mw[~pmw]).all()
    ir_influence = im["IRinfluence"].values
    assert (ir_influence[pmw] == 0).all()
    assert ir_influence.min() >= 0 and ir_influence.max() <= 100
    uncal = im["precipitationUncal"].values
    np.testing.assert_array_equal(uncal[pmw], mw[pmw])
    qi = im["precipitationQualityIndex"].values
    assert qi.min() >= 0 and qi.max() <= 1
    assert qi[pmw].mean() > qi[~pmw].mean()
    assert stats.spearmanr(ir_influence[~pmw], qi[~pmw]).statistic < -0.8
    error = im["randomError"].values
    precip = im["precipitation"].values
    assert (error > 0).all()
    assert stats.spearmanr(precip.ravel(), error.ravel()).statistic > 0.8
    liquid = im["probabilityLiquidPrecipitation"].values
    assert liquid.min() >= 0 and np.median(liquid) >= 99  # June
    assert np.isfinite(im["IRprecipitation"].values).all()


def test_final_calibration_is_a_mild_smooth_factor(small_world):
    im = small_world.imerg
    uncal = im["precipitationUncal"].values
    precip = im["precipitation"].values
    wet = uncal > 0.2
    factor = precip[wet] / uncal[wet]
    assert factor.min() >= 0.5 and factor.max() <= 2.0
    assert 0.7 <= np.median(factor) <= 1.3


def test_truth_pmw_age_matches_the_files(small_world):
    truth, im = small_world.truth, small_world.imerg
    src = im["MWprecipSource"].values
    age = truth["pmw_age"].values
    np.testing.assert_array_equal(age == 0, src > 0)
    np.testing.assert_array_equal(truth["pmw_sensor"].values[src > 0], src[src > 0])
    # Forward age recomputed from the files alone (observation minute, floored in the file).
    minutes = (im.time.values - im.time.values[0]) / np.timedelta64(1, "m")
    last = np.full(src.shape[1:], np.nan)
    for h in range(len(minutes)):
        seen = src[h] > 0
        derived = np.where(seen, 0.0, minutes[h] - last)
        ok = np.isfinite(derived)
        np.testing.assert_allclose(derived[ok], age[h][ok], atol=1.0)
        last = np.where(seen, minutes[h] + im["MWobservationTime"].values[h], last)


def test_ir_influence_grows_with_the_time_to_the_nearest_overpass(small_world):
    truth, im = small_world.truth, small_world.imerg
    age = np.fmin(truth["pmw_age"].values, truth["pmw_age_backward"].values)
    no_pmw = (im["MWprecipSource"].values == 0) & np.isfinite(age)
    rho = stats.spearmanr(age[no_pmw], im["IRinfluence"].values[no_pmw]).statistic
    assert rho > 0.7


def test_pmw_revisit_seen_in_the_files(small_world):
    revisit = pmw_revisit(small_world.imerg)
    assert 0.2 <= revisit["frac_half_hours_observed"] <= 0.6
    assert 45 <= revisit["mean_gap_min"] <= 150


def test_constellation_revisits_mid_latitudes_every_hour_or_two():
    lon, lat = np.meshgrid(DEFAULT_BOX.lon[::8], DEFAULT_BOX.lat[::8])
    origin = np.datetime64("2024-06-10T00:00", "s")
    orbits = make_orbits(CONSTELLATION, origin, np.random.default_rng(0))
    passes = compute_overpasses(orbits, lon.ravel(), lat.ravel(), 0.0, 5 * 86400.0)
    gaps = []
    for cell in range(lon.size):
        t = np.sort(passes.time[passes.cell == cell])
        gaps.append(np.diff(t) / 60.0)
    gaps = np.concatenate(gaps)
    assert 50 <= gaps.mean() <= 120  # minutes
    assert gaps.max() < 8 * 60
    per_day = len(passes.time) / lon.size / 5
    assert 14 <= per_day <= 30
    seen = {CONSTELLATION[s].sensor.code for s in np.unique(passes.satellite)}
    assert seen == PMW_CODES


def _toy_inputs(n: int = 12) -> ImergInputs:
    """Uniform 2 mm/h truth, PMW overpasses (GMI) at half hours 2 and 8 over every cell."""
    shape = (n, 8, 10)
    truth = np.full(shape, 2.0, dtype=np.float32)
    sat = np.full(shape, -1, dtype=np.int8)
    sat[[2, 8]] = 0
    return ImergInputs(
        truth=truth,
        mw_truth=np.where(sat >= 0, 2.0, np.nan).astype(np.float32),
        mw_satellite=sat,
        mw_minute=np.where(sat >= 0, 10.0, np.nan).astype(np.float32),
        rain_u=np.zeros(n),
        rain_v=np.zeros(n),
        start=np.datetime64("2024-06-10T00:00", "s"),
        lat=np.linspace(45.05, 45.75, 8),
        lon=np.linspace(2.05, 2.95, 10),
        terrain_km=np.zeros(shape[1:]),
    )


@pytest.mark.parametrize("run", ["early", "late", "final"])
def test_runs_morph_in_the_directions_of_the_real_product(run):
    fields = simulate_imerg(_toy_inputs(), ImergConfig(), run, np.random.default_rng(0))
    influence = fields["IRinfluence"].mean(axis=(1, 2))
    assert influence[2] == influence[8] == 0  # PMW present
    if run == "early":
        assert influence[0] == 100 and influence[1] == 100  # nothing seen yet
        assert influence[7] > influence[3] > 0  # forward age 150 min > 30 min
    else:
        assert influence[0] < 100  # the next overpass is used backward
        assert influence[7] < influence[5]  # 30 min before the next overpass
        assert influence[5] > influence[3]  # mid-gap is the worst
    uncal, precip = fields["precipitationUncal"], fields["precipitation"]
    if run == "final":
        assert not np.allclose(precip, uncal)
    else:
        np.testing.assert_allclose(precip, uncal * ImergConfig().climatological_factor, rtol=1e-6)
    np.testing.assert_array_equal(fields["MWprecipSource"][2], 9)
    np.testing.assert_array_equal(fields["MWobservationTime"][8], 10)
