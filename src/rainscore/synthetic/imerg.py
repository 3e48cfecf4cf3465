"""The synthetic IMERG process at 0.1° / 30 min, from the truth and the PMW overpasses.

1. **PMW retrievals** (``MWprecipitation``): each selected overpass sees the instantaneous
   truth smoothed to the sensor's footprint; rain below ``drizzle_rate`` is mostly missed;
   detected rain is mapped through ``c (R/c)^b`` with ``b < 1`` (``c = crossing_rate``:
   light rain overestimated, heavy rain underestimated) times a spatially correlated,
   mean-preserving lognormal noise whose size depends on the sensor (imagers better than
   sounders).
2. **IR** (``IRprecipitation``): the half-hour truth smeared by a Gaussian of
   ``ir_smoothing_cells``, displaced by a random offset (cloud tops are not above the rain),
   compressed by ``ir_exponent`` and multiplied by a smooth lognormal noise, plus light
   false rain under part of the cloud shield around rain: low correlation, positive bias
   in light rain.
3. **Morphing**: the last PMW field is carried forward half hour by half hour with motion
   vectors that err in speed and direction (slowly varying errors), by bilinear shifts and
   a small Gaussian diffusion per step that smooth it as it ages; Late and Final also carry
   the next PMW field backward and combine both with weights inversely proportional to
   their ages. Early is forward only, its motion
   errors are 30 % larger, and some overpasses arrive too late for it.
4. **Kalman-like IR blending**: the morphed field's expected correlation decays as
   ``q_sensor · exp(−age / morph_timescale_min)``; the IR weight is
   ``ρ_IR² / (ρ_IR² + ρ_morph²)`` (0 where a PMW overpass is in the half hour).
   ``precipitationUncal = (1 − w) morph + w IR``, ``IRinfluence = 100 w``,
   ``precipitationQualityIndex = sqrt(ρ_m² + ρ_IR² − ρ_m² ρ_IR²)``.
5. **Calibration** (``precipitation``): Final multiplies by a smooth monthly gauge ratio
   (truth / uncal, smoothed over ``gauge_smoothing_cells`` and damped by ``gauge_damping``);
   Early and Late by a climatological factor.
6. ``randomError = (0.25 + 0.5 w) (0.3 + P)^0.85`` grows with the rate and the IR share;
   ``probabilityLiquidPrecipitation`` comes from a climatological surface temperature
   (season, latitude, terrain, hour): about 100 % in summer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter, shift

from rainscore.synthetic.config import ImergConfig
from rainscore.synthetic.constellation import CONSTELLATION

MINUTES = 30.0
_NEVER = 1e6  # age (minutes) of a pixel never seen


@dataclass(frozen=True)
class ImergInputs:
    """What the IMERG process sees, per half hour on the box's cells (H, n_lat, n_lon).

    Attributes:
        truth: True half-hour mean rate, mm/h.
        mw_truth: Footprint-smoothed instantaneous truth of the selected overpass (NaN: none).
        mw_satellite: Index into the constellation of the selected overpass (−1: none).
        mw_minute: Minutes into the half hour of that overpass (NaN: none).
        rain_u: Eastward motion of the rain per half hour, m/s (grid axes of the radar).
        rain_v: Northward motion of the rain per half hour, m/s.
        start: Start of half hour 0.
        lat: Cell-centre latitudes (n_lat,).
        lon: Cell-centre longitudes (n_lon,).
        terrain_km: Mean terrain height of each cell, km.
    """

    truth: np.ndarray
    mw_truth: np.ndarray
    mw_satellite: np.ndarray
    mw_minute: np.ndarray
    rain_u: np.ndarray
    rain_v: np.ndarray
    start: np.datetime64
    lat: np.ndarray
    lon: np.ndarray
    terrain_km: np.ndarray


def _smooth_noise(rng: np.random.Generator, shape: tuple, sigma: float) -> np.ndarray:
    """Unit-variance Gaussian noise, smoothed over ``sigma`` cells in the last two axes."""
    noise = rng.standard_normal(shape, dtype=np.float32)
    if sigma > 0:
        noise = gaussian_filter(noise, sigma=(0,) * (len(shape) - 2) + (sigma, sigma))
        noise /= max(float(noise.std()), 1e-12)
    return noise


def _sensor_table(name: str) -> np.ndarray:
    return np.array([getattr(sat.sensor, name) for sat in CONSTELLATION], dtype=np.float32)


def pmw_retrieval(inputs: ImergInputs, config: ImergConfig, rng: np.random.Generator) -> np.ndarray:
    """PMW rain estimates of the selected overpasses (NaN where none), mm/h, float32."""
    have = inputs.mw_satellite >= 0
    sat = np.where(have, inputs.mw_satellite, 0)
    truth = np.where(have, inputs.mw_truth, np.float32(0.0)).astype(np.float32)
    drizzle = config.drizzle_rate
    p_detect = 1.0 / (1.0 + np.exp(-(truth - drizzle) / (0.25 * drizzle)))
    detected = rng.random(truth.shape) < p_detect
    b = _sensor_table("exponent")[sat]
    sigma = _sensor_table("noise_log_sd")[sat] * config.pmw_noise_scale
    noise = _smooth_noise(rng, truth.shape, config.pmw_noise_cells)
    c = config.crossing_rate
    est = c * (np.maximum(truth, 0.0) / c) ** b * np.exp(sigma * noise - 0.5 * sigma**2)
    est = np.where(detected, est, 0.0)
    return np.where(have, est, np.nan).astype(np.float32)


def ir_estimate(inputs: ImergInputs, config: ImergConfig, rng: np.random.Generator) -> np.ndarray:
    """The IR precipitation estimate, mm/h, float32 (H, n_lat, n_lon)."""
    truth = inputs.truth.astype(np.float32)
    sigma = config.ir_smoothing_cells
    smeared = gaussian_filter(truth, sigma=(0, sigma, sigma), mode="nearest")
    # Cloud tops are displaced from the rain below (parallax, tilted anvils).
    offsets = rng.normal(0.0, config.ir_displacement_cells, size=(truth.shape[0], 2))
    for h, offset in enumerate(offsets):
        smeared[h] = shift(smeared[h], offset, order=1, mode="nearest")
    noise = _smooth_noise(rng, truth.shape, 3.0)
    c = config.crossing_rate
    s = config.ir_log_sd
    ir = c * (smeared / c) ** config.ir_exponent * np.exp(s * noise - 0.5 * s * s)
    ir = np.where(smeared > 0.05, ir, 0.0)
    # Light false rain under part of the cloud shield around the rain.
    shield = gaussian_filter((truth > 0.1).astype(np.float32), sigma=(0, 6, 6), mode="nearest")
    cirrus = _smooth_noise(rng, truth.shape, 2.0)
    false_rain = (
        (shield > 0.05) & (ir == 0) & (cirrus > np.quantile(cirrus, 1.0 - config.ir_false_fraction))
    )
    ir = np.where(false_rain, config.ir_false_rate * np.exp(0.5 * cirrus - 0.5), ir)
    return ir.astype(np.float32)


def motion_vectors(
    inputs: ImergInputs, config: ImergConfig, rng: np.random.Generator, error_scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """IMERG's (imperfect) displacement of the rain per half hour, in cells (rows, cols).

    Rows are latitude (ascending), columns longitude. The true motion is converted from
    the radar grid's axes to east/north at the box centre, then given slowly varying
    speed and direction errors.
    """
    n = len(inputs.rain_u)
    lon0 = np.radians(float(np.mean(inputs.lon)))
    lat0 = np.radians(float(np.mean(inputs.lat)))
    east = inputs.rain_u * np.cos(lon0) + inputs.rain_v * np.sin(lon0)
    north = -inputs.rain_u * np.sin(lon0) + inputs.rain_v * np.cos(lon0)
    a = np.exp(-MINUTES / 60.0 / config.motion_error_timescale_h)
    noise = rng.standard_normal((n, 2))
    err = np.empty((n, 2))
    err[0] = noise[0]
    for i in range(1, n):
        err[i] = a * err[i - 1] + np.sqrt(1 - a * a) * noise[i]
    speed_factor = np.maximum(1.0 + error_scale * config.motion_speed_error * err[:, 0], 0.1)
    turn = np.radians(error_scale * config.motion_direction_error_deg * err[:, 1])
    e = speed_factor * (east * np.cos(turn) + north * np.sin(turn))
    nn = speed_factor * (-east * np.sin(turn) + north * np.cos(turn))
    seconds = MINUTES * 60.0
    d_cols = e * seconds / (111320.0 * np.cos(lat0) * 0.1)
    d_rows = nn * seconds / (110950.0 * 0.1)
    return d_rows, d_cols


def _propagate(
    mw: np.ndarray,
    quality: np.ndarray,
    d_rows: np.ndarray,
    d_cols: np.ndarray,
    backward: bool,
    diffusion: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Carry the PMW fields in time; returns (morphed field, age in minutes, source quality).

    Each half-hour step shifts the field bilinearly and smooths it with a Gaussian of
    ``diffusion`` cells, so morphed fields lose fine structure as they age.
    """
    n = mw.shape[0]
    field = np.zeros(mw.shape, dtype=np.float32)
    age = np.full(mw.shape, _NEVER, dtype=np.float32)
    qual = np.zeros(mw.shape, dtype=np.float32)
    order = range(n - 1, -1, -1) if backward else range(n)
    prev = None
    for h in order:
        if prev is None:
            f = np.zeros(mw.shape[1:], dtype=np.float32)
            a = np.full(mw.shape[1:], _NEVER, dtype=np.float32)
            q = np.zeros(mw.shape[1:], dtype=np.float32)
        else:
            # The displacement between half hours h-1 and h (forward) is d[h-1]; backward
            # the field at h+1 moves back by d[h].
            k = h if backward else h - 1
            sign = -1.0 if backward else 1.0
            move = (sign * d_rows[k], sign * d_cols[k])
            f = shift(field[prev], move, order=1, mode="nearest")
            if diffusion > 0:
                f = gaussian_filter(f, diffusion, mode="nearest")
            q = shift(qual[prev], move, order=1, mode="nearest")
            a = shift(age[prev], move, order=0, mode="nearest") + MINUTES
        seen = np.isfinite(mw[h])
        field[h] = np.where(seen, mw[h], f)
        age[h] = np.where(seen, 0.0, np.minimum(a, _NEVER))
        qual[h] = np.where(seen, quality[h], q)
        prev = h
    return field, age, qual


def probability_liquid(inputs: ImergInputs, n: int) -> np.ndarray:
    """Probability of liquid precipitation (%), int16, from a climatological temperature."""
    times = inputs.start + np.arange(n) * np.timedelta64(30, "m")
    doy = (times - times.astype("datetime64[Y]")).astype("timedelta64[D]").astype(float)
    hour = ((times - times.astype("datetime64[D]")) / np.timedelta64(1, "h")).astype(float)
    hour_local = hour + float(np.mean(inputs.lon)) / 15.0
    t_season = 11.5 + 8.5 * np.cos(2 * np.pi * (doy - 200.0) / 365.25)
    t_day = 4.0 * np.cos(2 * np.pi * (hour_local - 15.0) / 24.0)
    temp = (
        (t_season + t_day)[:, None, None]
        - 0.6 * (inputs.lat[None, :, None] - 46.0)
        - 6.5 * inputs.terrain_km[None, :, :]
    )
    return np.rint(100.0 / (1.0 + np.exp(-(temp - 1.5) / 1.2))).astype(np.int16)


def gauge_factor(
    truth: np.ndarray, uncal: np.ndarray, months: np.ndarray, config: ImergConfig
) -> np.ndarray:
    """Final-run calibration: a smooth, damped monthly ratio truth/uncal per calendar month."""
    factor = np.ones(truth.shape, dtype=np.float32)
    sigma = config.gauge_smoothing_cells
    for month in np.unique(months):
        sel = months == month
        t_sum = gaussian_filter(truth[sel].sum(axis=0).astype(np.float64), sigma, mode="nearest")
        u_sum = gaussian_filter(uncal[sel].sum(axis=0).astype(np.float64), sigma, mode="nearest")
        c = 0.1 * float(t_sum.mean()) + 1e-6
        ratio = np.clip(((t_sum + c) / (u_sum + c)) ** config.gauge_damping, 0.5, 2.0)
        factor[sel] = ratio.astype(np.float32)
    return factor


def simulate_imerg(
    inputs: ImergInputs, config: ImergConfig, run: str, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Every IMERG variable for every half hour of the inputs.

    Args:
        inputs: Truth, PMW overpasses and motion per half hour.
        config: IMERG parameters.
        run: ``"early"``, ``"late"`` or ``"final"``.
        rng: Random generator.

    Returns:
        Mapping from the V07 variable names to arrays (H, n_lat, n_lon); float32 variables
        hold NaN where the product has its fill value.
    """
    n = inputs.truth.shape[0]
    have = inputs.mw_satellite >= 0
    sat = np.where(have, inputs.mw_satellite, 0)
    quality = np.where(have, _sensor_table("quality")[sat], 0.0).astype(np.float32)
    codes = np.array([s.sensor.code for s in CONSTELLATION], dtype=np.int16)

    mw = pmw_retrieval(inputs, config, rng)
    ir = ir_estimate(inputs, config, rng)
    d_rows, d_cols = motion_vectors(inputs, config, rng, 1.3 if run == "early" else 1.0)

    tau = config.morph_timescale_min
    diffusion = config.morph_diffusion_cells
    fwd, age_f, q_f = _propagate(mw, quality, d_rows, d_cols, False, diffusion)
    rho_f = q_f * np.exp(-age_f / tau)
    if run == "early":
        morph, rho_m = fwd, rho_f
    else:
        bwd, age_b, q_b = _propagate(mw, quality, d_rows, d_cols, True, diffusion)
        rho_b = q_b * np.exp(-age_b / tau)
        total = age_f + age_b
        w_f = np.where(total > 0, age_b / np.maximum(total, 1e-6), 1.0)
        w_f = np.where(age_f >= _NEVER, 0.0, np.where(age_b >= _NEVER, 1.0, w_f))
        morph = w_f * fwd + (1.0 - w_f) * bwd
        rho_m = np.sqrt(rho_f**2 + rho_b**2 - rho_f**2 * rho_b**2)
    rho_ir2 = config.ir_correlation**2
    w_ir = np.where(have, 0.0, rho_ir2 / (rho_ir2 + rho_m**2)).astype(np.float32)
    uncal = np.where(have, mw, (1.0 - w_ir) * morph + w_ir * ir).astype(np.float32)
    qi = np.sqrt(rho_m**2 + rho_ir2 - rho_m**2 * rho_ir2).astype(np.float32)

    if run == "final":
        times = inputs.start + np.arange(n) * np.timedelta64(30, "m")
        months = times.astype("datetime64[M]").astype(int)
        precip = uncal * gauge_factor(inputs.truth, uncal, months, config)
    else:
        precip = uncal * np.float32(config.climatological_factor)
    random_error = (0.25 + 0.5 * w_ir) * (0.3 + precip) ** 0.85

    minute = np.where(have, np.floor(np.nan_to_num(inputs.mw_minute)), -9999)
    return {
        "precipitation": precip.astype(np.float32),
        "randomError": random_error.astype(np.float32),
        "probabilityLiquidPrecipitation": probability_liquid(inputs, n),
        "precipitationQualityIndex": qi,
        "MWprecipitation": mw,
        "MWprecipSource": np.where(have, codes[sat], 0).astype(np.int16),
        "MWobservationTime": minute.astype(np.int16),
        "IRprecipitation": ir,
        "IRinfluence": np.rint(100.0 * w_ir).astype(np.int16),
        "precipitationUncal": uncal,
    }
