"""Typed configuration of the synthetic world, parsed once from Kedro parameters.

Every knob has a default that gives a plausible summer world over France; the top level
(:class:`WorldConfig`) holds what a user usually changes (start, length, seed, IMERG run),
the nested dataclasses hold the physics. ``WorldConfig.from_dict`` accepts nested mappings
(the YAML of ``parameters_demo.yml``) and rejects unknown keys by name.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rainscore.grids import DEFAULT_BOX, Box
from rainscore.io.imerg_filename import check_run

REGIMES = ("dry", "stratiform_front", "scattered_convection", "orographic")
"""Rain regimes, in the order of their integer codes (0…3)."""


@dataclass(frozen=True)
class RegimeRain:
    """Rain-field parameters of one regime (blended linearly between regimes).

    Attributes:
        wet_fraction: Fraction of 1 km pixels that rain in the domain before the regime's
            envelopes (front band, orography) are added.
        median_rate: Median rate of raining pixels, mm/h.
        log_sd: Standard deviation of ln(rate) over raining pixels.
        spectral_slope: β, slope of the power spectrum ``P(k) ∝ k^-β`` of the Gaussian field
            at scales below ``break_km`` (≈ 3 for stratiform rain).
        large_scale_slope: Slope between ``break_km`` and ``outer_scale_km`` (shallower for
            convection: cells clustered in mesoscale areas).
        break_km: Scale break between the two slopes.
        outer_scale_km: Above this scale the spectrum flattens.
        lifetime_10km_min: Lagrangian lifetime of 10 km structures, minutes; other scales
            scale as ``(L / 10 km) ** RainConfig.lifetime_exponent``.
        speed_factor: Multiplies the wind speed (convection moves slower).
        vpr_range_km: Range at which radar underestimation reaches ``1/e``
            (``exp(-(r/L)²)``): short for shallow stratiform rain, long for deep convection.
    """

    wet_fraction: float
    median_rate: float
    log_sd: float
    spectral_slope: float
    large_scale_slope: float
    break_km: float
    outer_scale_km: float
    lifetime_10km_min: float
    speed_factor: float = 1.0
    vpr_range_km: float = 300.0


def _dry() -> RegimeRain:
    return RegimeRain(0.004, 0.4, 0.6, 3.5, 2.1, 15.0, 200.0, 20.0, 1.0, 300.0)


def _stratiform() -> RegimeRain:
    return RegimeRain(0.16, 0.9, 0.85, 3.1, 3.1, 30.0, 300.0, 25.0, 1.1, 190.0)


def _convective() -> RegimeRain:
    return RegimeRain(0.05, 2.2, 1.1, 3.5, 2.1, 15.0, 300.0, 15.0, 0.6, 420.0)


def _orographic() -> RegimeRain:
    return RegimeRain(0.07, 1.2, 0.9, 3.2, 2.6, 25.0, 200.0, 25.0, 1.0, 220.0)


@dataclass(frozen=True)
class RainConfig:
    """The truth rain field: regimes' parameters, envelopes and scale-dependent dynamics.

    Attributes:
        dry: Parameters of the dry regime (isolated light showers).
        stratiform_front: Parameters of the stratiform front regime.
        scattered_convection: Parameters of the convective regime (at its diurnal peak).
        orographic: Parameters of the orographic regime.
        lifetime_exponent: Lifetime of a structure of size L is ``τ10 (L/10 km)^α``.
        front_width_km: e-folding half width of the frontal rain band.
        front_amplitude: Shift of the Gaussian field at the band's axis (standard units).
        front_suppression: Shift subtracted away from the band (clear air around fronts).
        front_speed_factor: Band speed as a fraction of the wind speed along its normal.
        orographic_lift: Shift per km of terrain height in the orographic regime.
        upslope_lift: Shift per m/s of terrain-forced vertical wind ``U·∇h`` in the
            orographic regime (negative on lee sides: rain shadow).
        convective_terrain_lift: Shift per km of terrain height in the convective regime.
        terrain_rate_gain: Rates are multiplied by ``1 + gain × height_km`` (all regimes).
        diurnal_peak_hour: Local solar hour of the convective maximum.
        diurnal_minimum: Convective wet fraction at night relative to the peak.
        max_rate: Cap of the 5-minute rate, mm/h.
    """

    dry: RegimeRain = field(default_factory=_dry)
    stratiform_front: RegimeRain = field(default_factory=_stratiform)
    scattered_convection: RegimeRain = field(default_factory=_convective)
    orographic: RegimeRain = field(default_factory=_orographic)
    lifetime_exponent: float = 0.8
    front_width_km: float = 130.0
    front_amplitude: float = 1.6
    front_suppression: float = 0.5
    front_speed_factor: float = 0.8
    orographic_lift: float = 0.8
    upslope_lift: float = 1.0
    convective_terrain_lift: float = 0.5
    terrain_rate_gain: float = 0.2
    diurnal_peak_hour: float = 15.5
    diurnal_minimum: float = 0.12
    max_rate: float = 250.0

    def regime(self, name: str) -> RegimeRain:
        """The parameters of the regime called ``name``."""
        return getattr(self, name)


@dataclass(frozen=True)
class RegimeConfig:
    """The seasonal Markov chain of regimes (one state per half hour).

    Frequencies are the long-run fractions of time in each regime, in the order of
    :data:`REGIMES`, for mid-summer and mid-winter (interpolated with a cosine in between).

    Attributes:
        summer_frequency: Long-run time fractions in mid-July.
        winter_frequency: Long-run time fractions in mid-January.
        mean_duration_h: Mean duration of an episode of each regime, hours.
        blend_hours: Half width of the window over which parameters blend at transitions.
        initial: Regime of the first half hour (``None``: drawn from the frequencies).
    """

    summer_frequency: tuple[float, float, float, float] = (0.50, 0.16, 0.24, 0.10)
    winter_frequency: tuple[float, float, float, float] = (0.40, 0.35, 0.05, 0.20)
    mean_duration_h: tuple[float, float, float, float] = (30.0, 14.0, 10.0, 12.0)
    blend_hours: float = 1.5
    initial: str | None = None

    def __post_init__(self) -> None:
        for name in ("summer_frequency", "winter_frequency", "mean_duration_h"):
            value = getattr(self, name)
            if len(value) != len(REGIMES) or min(value) < 0:
                raise ValueError(f"regimes.{name} must hold {len(REGIMES)} values >= 0: {value}")
        if self.initial is not None and self.initial not in REGIMES:
            raise ValueError(f"regimes.initial must be one of {REGIMES}, got {self.initial!r}")


@dataclass(frozen=True)
class WindConfig:
    """The steering wind: uniform over the domain, slowly turning (Ornstein–Uhlenbeck).

    Attributes:
        mean_speed: Median speed, m/s.
        speed_log_sd: Standard deviation of ln(speed).
        mean_direction_deg: Mean direction the wind comes FROM (meteorological, degrees).
        direction_sd_deg: Standard deviation of the direction.
        timescale_h: Decorrelation time of speed and direction.
        min_speed: Lower clip, m/s.
        max_speed: Upper clip, m/s.
    """

    mean_speed: float = 9.0
    speed_log_sd: float = 0.35
    mean_direction_deg: float = 250.0
    direction_sd_deg: float = 45.0
    timescale_h: float = 30.0
    min_speed: float = 2.0
    max_speed: float = 25.0


@dataclass(frozen=True)
class RadarConfig:
    """The radar network's view of the truth and the files' storage.

    Attributes:
        noise_log_sd: Standard deviation of the multiplicative lognormal noise per pixel
            and frame (mean-preserving).
        calibration_sd_db: Standard deviation of each site's fixed calibration offset, dB.
        drift_sd_db: Standard deviation of each site's drifting offset, dB.
        drift_timescale_h: Decorrelation time of the drift.
        max_range_km: Farthest range used by the composite.
        sea_range_km: Farthest range over sea (beyond it pixels are ``nodata``).
        elevation_deg: Lowest elevation angle of the beam.
        beamwidth_deg: Beam width.
        blocked_fraction: Beam-blockage fraction above which a pixel is ``nodata``.
        max_beam_height_km: Beam height (above sea level) above which a pixel is ``nodata``.
        clutter_fraction: Fraction of covered pixels that are clutter-prone.
        clutter_probability: Probability that a clutter pixel echoes in a given frame.
        clutter_median_rate: Median of clutter echoes, mm/h.
        gzip_level: Deflate level of the data arrays.
        chunk: Chunk edge (pixels) of the data arrays.
    """

    noise_log_sd: float = 0.35
    calibration_sd_db: float = 0.7
    drift_sd_db: float = 1.0
    drift_timescale_h: float = 6.0
    max_range_km: float = 240.0
    sea_range_km: float = 100.0
    elevation_deg: float = 0.6
    beamwidth_deg: float = 1.0
    blocked_fraction: float = 0.6
    max_beam_height_km: float = 4.0
    clutter_fraction: float = 2e-4
    clutter_probability: float = 0.15
    clutter_median_rate: float = 4.0
    gzip_level: int = 2
    chunk: int = 256


@dataclass(frozen=True)
class ImergConfig:
    """The IMERG process: PMW retrievals, morphing, IR blending and calibration.

    Attributes:
        drizzle_rate: PMW retrievals miss rain below about this rate (mm/h).
        crossing_rate: PMW retrievals overestimate below and underestimate above this rate.
        pmw_noise_scale: Multiplies every sensor's retrieval noise.
        pmw_noise_cells: Correlation length (Gaussian sd, cells) of the retrieval noise:
            errors depend on the scene, so they are coherent over tens of km.
        ir_smoothing_cells: Gaussian smoothing (0.1° cells) of the IR view of the rain.
        ir_displacement_cells: Random displacement (sd, cells) of the IR view of the rain.
        ir_log_sd: Multiplicative noise of the IR estimate (spatially smooth).
        ir_exponent: Compression of the IR estimate (``rate ** exponent``).
        ir_false_rate: Median of the light rain IR places under dry cloud (mm/h).
        ir_false_fraction: Fraction of dry cells (near rain) where IR places rain.
        ir_correlation: Expected correlation of IR with the truth (Kalman weight).
        morph_timescale_min: e-folding time of the morphed field's correlation.
        morph_diffusion_cells: Gaussian smoothing (cells) applied at each half-hour morphing
            step.
        motion_speed_error: Relative error of the motion vectors' speed (sd).
        motion_direction_error_deg: Error of their direction (sd, degrees).
        motion_error_timescale_h: Decorrelation time of those errors.
        early_missing_fraction: Fraction of PMW overpasses that miss the Early run.
        climatological_factor: Calibration factor of Early/Late ``precipitation``.
        gauge_damping: Exponent applied to the monthly gauge ratio in the Final run.
        gauge_smoothing_cells: Smoothing (cells) of the monthly gauge ratio.
        gzip_level: Deflate level of the data arrays.
    """

    drizzle_rate: float = 0.2
    crossing_rate: float = 3.0
    pmw_noise_scale: float = 1.2
    pmw_noise_cells: float = 2.5
    ir_smoothing_cells: float = 2.5
    ir_displacement_cells: float = 1.5
    ir_log_sd: float = 1.1
    ir_exponent: float = 0.6
    ir_false_rate: float = 0.5
    ir_false_fraction: float = 0.15
    ir_correlation: float = 0.3
    morph_timescale_min: float = 70.0
    morph_diffusion_cells: float = 0.7
    motion_speed_error: float = 0.25
    motion_direction_error_deg: float = 20.0
    motion_error_timescale_h: float = 6.0
    early_missing_fraction: float = 0.1
    climatological_factor: float = 0.95
    gauge_damping: float = 0.5
    gauge_smoothing_cells: float = 6.0
    gzip_level: int = 1


RADAR_PRODUCTS = ("meteofrance", "odyssey", "nimbus")
"""Radar products the synthetic world writes (``WorldConfig.radar_product``)."""


@dataclass(frozen=True)
class WorldConfig:
    """Everything that defines a synthetic world; the same config and seed give the same files.

    Attributes:
        start: First half hour (UTC, ISO 8601, on a half-hour boundary).
        days: Length of the world in days (rounded to whole half hours).
        seed: Seed of every random stream.
        imerg_run: ``"final"``, ``"late"`` or ``"early"`` (the one run vocabulary,
            :data:`~rainscore.io.imerg_filename.IMERG_RUNS`).
        imerg_version: Version string in IMERG file names and headers (e.g. ``"V07B"``).
        radar_product: The radar files written (:data:`RADAR_PRODUCTS`): ``"meteofrance"``
            (5-minute accumulations, 1 km), or OPERA 15-minute rate composites (2 km LAEA)
            ``"odyssey"`` (observation window nominal − 10 … + 5 min) or ``"nimbus"``
            (start = end); see :mod:`rainscore.synthetic.opera_file`.
        box: The analysis box (IMERG cells of the truth and of the IMERG arrays written).
        margin_km: Radar window = box plus this margin on the 1 km Météo-France grid (and
            on the OPERA grid).
        spinup_hours: Simulated (not written) before the start and after the end, so that
            the first and last IMERG files have PMW history on both sides.
        rain: Truth rain parameters.
        regimes: Regime Markov chain.
        wind: Steering wind.
        radar: Radar observation and files.
        imerg: IMERG process and files.
    """

    start: str = "2024-06-10T00:00"
    days: float = 3.0
    seed: int = 20240610
    imerg_run: str = "final"
    imerg_version: str = "V07B"
    radar_product: str = "meteofrance"
    box: Box = DEFAULT_BOX
    margin_km: float = 32.0
    spinup_hours: float = 4.0
    rain: RainConfig = field(default_factory=RainConfig)
    regimes: RegimeConfig = field(default_factory=RegimeConfig)
    wind: WindConfig = field(default_factory=WindConfig)
    radar: RadarConfig = field(default_factory=RadarConfig)
    imerg: ImergConfig = field(default_factory=ImergConfig)

    def __post_init__(self) -> None:
        check_run(self.imerg_run, parameter="imerg_run")
        if self.radar_product not in RADAR_PRODUCTS:
            raise ValueError(
                f"radar_product must be one of {RADAR_PRODUCTS}, got {self.radar_product!r}"
            )
        if not (isinstance(self.imerg_version, str) and self.imerg_version.startswith("V")):
            raise ValueError(f"imerg_version must look like 'V07B', got {self.imerg_version!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not self.days > 0:
            raise ValueError(f"days must be > 0, got {self.days!r}")
        if self.n_half_hours < 1:
            raise ValueError(f"days={self.days} is shorter than one half hour")
        if self.margin_km < 0 or self.spinup_hours < 0:
            raise ValueError("margin_km and spinup_hours must be >= 0")
        start = self.start_time
        if (start - start.astype("datetime64[D]")) % np.timedelta64(30, "m"):
            raise ValueError(f"start must be on a half-hour boundary (HH:00 or HH:30): {start}")

    @property
    def start_time(self) -> np.datetime64:
        """``start`` as ``datetime64[s]`` (UTC)."""
        try:
            return np.datetime64(str(self.start).replace("Z", ""), "s")
        except ValueError:
            raise ValueError(f"start {self.start!r} is not an ISO 8601 date-time") from None

    @property
    def n_half_hours(self) -> int:
        """Number of half hours (IMERG files) written."""
        return round(float(self.days) * 48)

    @property
    def end_time(self) -> np.datetime64:
        """End of the last half hour written."""
        return self.start_time + np.timedelta64(30 * self.n_half_hours, "m")

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> WorldConfig:
        """Build the configuration from (nested) Kedro parameters.

        ``box`` may be a :class:`~rainscore.grids.Box` or a mapping; nested sections
        (``rain``, ``regimes``, ``wind``, ``radar``, ``imerg``) are mappings of their fields.

        Raises:
            ValueError: On an unknown key (named with its path) or an invalid value.
        """
        return _from_mapping(cls, params, "world")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly nested mapping (inverse of :meth:`from_dict`)."""
        out = dataclasses.asdict(self)
        out["box"] = self.box.to_dict()
        return json.loads(json.dumps(out))


def _from_mapping(cls: type, params: Any, where: str, base: Any = None) -> Any:
    """Instantiate dataclass ``cls`` from a mapping, recursing into dataclass fields.

    Keys absent from ``params`` keep the value they have in ``base`` (or the field's
    default), so nested sections may be given partially.
    """
    if isinstance(params, cls):
        return params
    if cls is Box:
        return Box.from_dict(params)
    if not isinstance(params, dict):
        raise ValueError(f"{where}: expected a mapping, got {type(params).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; known keys are {sorted(fields)}")
    kwargs = {}
    for name, value in params.items():
        hint = hints[name]
        if isinstance(hint, type) and (dataclasses.is_dataclass(hint) or hint is Box):
            default = _default(fields[name]) if base is None else getattr(base, name)
            kwargs[name] = _from_mapping(hint, value, f"{where}.{name}", default)
        elif typing.get_origin(hint) is tuple and isinstance(value, list | tuple):
            kwargs[name] = tuple(float(v) for v in value)
        elif hint in (float, int) and value is not None:
            kwargs[name] = hint(value)
        else:
            kwargs[name] = value
    if base is not None:
        return dataclasses.replace(base, **kwargs)
    return cls(**kwargs)


def _default(f: dataclasses.Field) -> Any:
    """The default value of a dataclass field (``None`` if it has none)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    if f.default is not dataclasses.MISSING:
        return f.default
    return None
