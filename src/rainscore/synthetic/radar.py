"""The radar network's view of the truth: coverage, beam blockage, range effects and noise.

Each pixel of the radar window is served by the site of best quality
``(1 − blockage) · exp(−(range / 200 km)²)``. Blockage is the fraction of the lowest beam
(elevation ``elevation_deg``, width ``beamwidth_deg``, 4/3 Earth radius refraction) hidden
by the synthetic terrain anywhere along the path from the site (computed on a 4 km grid and
interpolated). A pixel is ``nodata`` (65535) when no site serves it within ``max_range_km``,
when it lies at sea beyond ``sea_range_km``, when its beam is blocked beyond
``blocked_fraction``, or when the beam is higher than ``max_beam_height_km`` above sea
level (it overshoots the rain: behind the Alps, where even the mountain-top radars look
over the crest, and at the far edge of the network).

A covered raining pixel reads

    truth × exp(−(r / L)²) × sqrt(1 − blockage) × 10^((c_s + d_s(t)) / 10) × exp(σ ε − σ²/2),

with ``L`` the regime's ``vpr_range_km`` (beam overshooting shallow rain and the bright band:
underestimation grows with range), a fixed calibration offset ``c_s`` of each site and a
slowly drifting one ``d_s(t)`` (AR(1), a few hours: attenuation, wet radome, VPR changes —
errors coherent over a radar's whole domain, which do not average out at 0.1°), and a
mean-preserving lognormal noise per pixel and frame. A few clutter-prone pixels near the
sites echo now and then. Values are 5-minute accumulations quantised to 0.01 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer
from scipy.ndimage import map_coordinates

from rainscore.grids import ProjectedGrid
from rainscore.synthetic.config import RadarConfig
from rainscore.synthetic.terrain import land_mask, ridge_height

NODATA = 65535
GAIN_MM = 0.01
FRAME_MINUTES = 5.0
_EFFECTIVE_EARTH_RADIUS_M = 4.0 / 3.0 * 6371e3
_QUALITY_RANGE_M = 200e3
_COARSE = 4


@dataclass(frozen=True)
class RadarSite:
    """A weather radar.

    Attributes:
        name: Site name.
        lon: Longitude, degrees east.
        lat: Latitude, degrees north.
        altitude_m: Antenna altitude, metres.
    """

    name: str
    lon: float
    lat: float
    altitude_m: float


ARAMIS_SITES: tuple[RadarSite, ...] = (
    RadarSite("Abbeville", 1.83, 50.13, 70.0),
    RadarSite("Arcis-sur-Aube", 4.17, 48.46, 130.0),
    RadarSite("Avesnes", 3.93, 50.12, 250.0),
    RadarSite("Blaisy-Haut", 4.78, 47.36, 600.0),
    RadarSite("Bollène", 4.78, 44.32, 330.0),
    RadarSite("Bordeaux", -0.69, 44.83, 60.0),
    RadarSite("Bourges", 2.36, 47.06, 160.0),
    RadarSite("Cherves", 0.02, 46.71, 150.0),
    RadarSite("Collobrières", 6.33, 43.22, 680.0),
    RadarSite("Falaise", -0.16, 48.93, 300.0),
    RadarSite("Grèzes", 1.60, 44.58, 400.0),
    RadarSite("Momuy", -0.61, 43.62, 140.0),
    RadarSite("Montancy", 7.00, 47.36, 900.0),
    RadarSite("Mont Colombis", 6.22, 44.51, 1730.0),
    RadarSite("Moucherotte", 5.63, 45.14, 1900.0),
    RadarSite("Mont Vial", 7.15, 43.90, 1500.0),
    RadarSite("Nancy", 6.24, 48.72, 280.0),
    RadarSite("Nîmes", 4.50, 43.81, 80.0),
    RadarSite("Opoul", 2.86, 42.92, 590.0),
    RadarSite("Plabennec", -4.43, 48.46, 110.0),
    RadarSite("Sembadel", 3.69, 45.29, 1110.0),
    RadarSite("Toulouse", 1.38, 43.57, 160.0),
    RadarSite("Trappes", 2.01, 48.77, 190.0),
    RadarSite("Treillières", -1.64, 47.34, 50.0),
)
"""Approximate positions of Météo-France ARAMIS radars (real-ish, ±10 km)."""


@dataclass(frozen=True)
class RadarNetwork:
    """Static radar properties of every pixel of a window.

    Attributes:
        grid: The radar window.
        site: Index of the serving site (−1: none), int16 (ny, nx).
        range_m: Distance to the serving site, float32.
        blockage: Blocked fraction of the beam of the serving site, float32.
        covered: Pixels with valid data.
        static_factor: ``sqrt(1 − blockage) × 10^(c_s / 10)``, float32.
        clutter: Flat indices of clutter-prone pixels.
        sites: The sites.
        calibration_db: Calibration offset of each site, dB.
    """

    grid: ProjectedGrid
    site: np.ndarray
    range_m: np.ndarray
    blockage: np.ndarray
    covered: np.ndarray
    static_factor: np.ndarray
    clutter: np.ndarray
    sites: tuple[RadarSite, ...]
    calibration_db: np.ndarray

    @classmethod
    def build(
        cls,
        grid: ProjectedGrid,
        config: RadarConfig,
        rng: np.random.Generator,
        sites: tuple[RadarSite, ...] = ARAMIS_SITES,
        lonlat: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> RadarNetwork:
        """Compute coverage, blockage and range of every pixel of ``grid``.

        Args:
            grid: The radar window (1 km Météo-France grid or a window of it).
            config: Radar parameters.
            rng: Random generator (calibration offsets, clutter pixels).
            sites: The radar sites.
            lonlat: ``grid.lonlat()`` if already computed.

        Returns:
            The network's static maps.
        """
        to_xy = Transformer.from_crs("EPSG:4326", grid.pyproj_crs, always_xy=True)
        sx, sy = to_xy.transform([s.lon for s in sites], [s.lat for s in sites])
        sx, sy = np.asarray(sx), np.asarray(sy)
        max_range = config.max_range_km * 1e3

        # Terrain on a coarse grid extending the window by the maximum range.
        step = _COARSE * grid.dx
        pad = int(np.ceil(max_range / step)) + 1
        ex = grid.x_min + step * (np.arange(-pad, int(np.ceil(grid.nx / _COARSE)) + pad) + 0.5)
        ey = grid.y_max - step * (np.arange(-pad, int(np.ceil(grid.ny / _COARSE)) + pad) + 0.5)
        to_ll = Transformer.from_crs(grid.pyproj_crs, "EPSG:4326", always_xy=True)
        elon, elat = to_ll.transform(*np.meshgrid(ex, ey))
        terrain = ridge_height(elon, elat, grid).astype(np.float64)
        site_alt = np.maximum(
            [s.altitude_m for s in sites],
            map_coordinates(terrain, _frac_index(ex, ey, sx, sy), order=1) + 30.0,
        )

        # Coarse pixel centres of the window.
        cx = ex[pad : pad + int(np.ceil(grid.nx / _COARSE))]
        cy = ey[pad : pad + int(np.ceil(grid.ny / _COARSE))]
        cxx, cyy = np.meshgrid(cx, cy)
        n_sites = len(sites)
        blockage = np.ones((n_sites, *cxx.shape), dtype=np.float32)
        quality = np.zeros((n_sites, *cxx.shape), dtype=np.float32)
        samples = np.linspace(0.02, 1.0, 48)
        el = np.radians(config.elevation_deg)
        half_bw = np.radians(config.beamwidth_deg) / 2.0
        for i in range(n_sites):
            r = np.hypot(cxx - sx[i], cyy - sy[i])
            near = r <= max_range
            if not near.any():
                continue
            px = sx[i] + samples[:, None] * (cxx[near] - sx[i])
            py = sy[i] + samples[:, None] * (cyy[near] - sy[i])
            dist = samples[:, None] * r[near]
            ground = map_coordinates(terrain, _frac_index(ex, ey, px, py), order=1)
            beam = site_alt[i] + dist * np.tan(el) + dist**2 / (2 * _EFFECTIVE_EARTH_RADIUS_M)
            width = np.maximum(dist * np.tan(half_bw), 1.0)
            hidden = np.clip((ground - (beam - width)) / (2.0 * width), 0.0, 1.0)
            b = hidden.max(axis=0)
            blockage[i][near] = b
            quality[i][near] = (1.0 - b) * np.exp(-((r[near] / _QUALITY_RANGE_M) ** 2))

        best = np.argmax(quality, axis=0)
        best = np.where(quality.max(axis=0) > 0, best, -1)

        # Fine pixels: serving site from the nearest coarse pixel, exact range, blockage
        # interpolated bilinearly from that site's coarse map.
        rows = np.minimum(np.arange(grid.ny) // _COARSE, len(cy) - 1)
        cols = np.minimum(np.arange(grid.nx) // _COARSE, len(cx) - 1)
        site = best[rows[:, None], cols[None, :]].astype(np.int16)
        xx, yy = np.meshgrid(grid.x, grid.y)
        safe = np.maximum(site, 0)
        range_m = np.hypot(xx - sx[safe], yy - sy[safe]).astype(np.float32)
        fr = np.clip((np.arange(grid.ny) + 0.5) / _COARSE - 0.5, 0, len(cy) - 1)
        fc = np.clip((np.arange(grid.nx) + 0.5) / _COARSE - 0.5, 0, len(cx) - 1)
        r0 = np.minimum(fr.astype(int), len(cy) - 2)[:, None]
        c0 = np.minimum(fc.astype(int), len(cx) - 2)[None, :]
        wr = (fr[:, None] - r0).astype(np.float32)
        wc = (fc[None, :] - c0).astype(np.float32)
        b = blockage[safe, r0, c0] * (1 - wr) * (1 - wc)
        b += blockage[safe, r0 + 1, c0] * wr * (1 - wc)
        b += blockage[safe, r0, c0 + 1] * (1 - wr) * wc
        b += blockage[safe, r0 + 1, c0 + 1] * wr * wc

        lon, lat = lonlat if lonlat is not None else grid.lonlat()
        land = land_mask(lon, lat)
        beam_m = (
            site_alt[safe] + range_m * np.tan(el) + range_m**2 / (2 * _EFFECTIVE_EARTH_RADIUS_M)
        )
        covered = (
            (site >= 0)
            & (range_m <= max_range)
            & (land | (range_m <= config.sea_range_km * 1e3))
            & (b < config.blocked_fraction)
            & (beam_m <= config.max_beam_height_km * 1e3)
        )
        calibration_db = rng.normal(0.0, config.calibration_sd_db, n_sites)
        static = np.sqrt(np.clip(1.0 - b, 0.0, 1.0)) * 10.0 ** (calibration_db[safe] / 10.0)
        candidates = np.flatnonzero(covered & (range_m < 80e3))
        n_clutter = round(config.clutter_fraction * covered.sum())
        clutter = np.sort(
            rng.choice(candidates, size=min(n_clutter, candidates.size), replace=False)
        )
        return cls(
            grid=grid,
            site=np.where(covered, site, -1).astype(np.int16),
            range_m=range_m,
            blockage=b.astype(np.float32),
            covered=covered,
            static_factor=np.where(covered, static, 0.0).astype(np.float32),
            clutter=clutter.astype(np.int64),
            sites=tuple(sites),
            calibration_db=calibration_db,
        )

    def observe(
        self,
        rate: np.ndarray,
        vpr_range_km: float,
        drift_db: np.ndarray,
        config: RadarConfig,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """The radar's 5-minute accumulation of one truth frame, in 0.01 mm counts.

        Args:
            rate: True rate (mm/h) on the window, (ny, nx).
            vpr_range_km: Range scale of the underestimation for the current regime mix.
            drift_db: Current calibration drift of each site, dB.
            config: Radar parameters.
            rng: Random generator (noise and clutter).

        Returns:
            ``uint16`` counts (ny, nx); 65535 where not covered.
        """
        out = np.where(self.covered, np.uint16(0), np.uint16(NODATA))
        flat_rate = rate.ravel()
        wet = np.flatnonzero(flat_rate)
        wet = wet[self.covered.ravel()[wet]]
        sigma = np.float32(config.noise_log_sd)
        exponent = rng.standard_normal(wet.size, dtype=np.float32)
        exponent *= sigma
        exponent -= np.float32(0.5) * sigma * sigma
        r = self.range_m.ravel()[wet] * np.float32(1.0 / (vpr_range_km * 1e3))
        exponent -= r * r
        exponent += (np.log(10.0) / 10.0 * drift_db).astype(np.float32)[self.site.ravel()[wet]]
        counts = np.exp(exponent)
        counts *= self.static_factor.ravel()[wet]
        counts *= flat_rate[wet]
        counts *= np.float32(FRAME_MINUTES / 60.0 / GAIN_MM)
        flat = out.ravel()
        flat[wet] = np.clip(np.rint(counts), 0, NODATA - 1).astype(np.uint16)
        echo = rng.random(self.clutter.size) < config.clutter_probability
        if echo.any():
            clutter_rate = config.clutter_median_rate * np.exp(
                0.8 * rng.standard_normal(int(echo.sum()))
            )
            idx = self.clutter[echo]
            clutter_counts = np.rint(clutter_rate * (FRAME_MINUTES / 60.0 / GAIN_MM))
            flat[idx] = np.maximum(flat[idx], np.clip(clutter_counts, 0, NODATA - 1))
        return out


def calibration_drift(
    n_sites: int, n_frames: int, config: RadarConfig, rng: np.random.Generator
) -> np.ndarray:
    """Drifting calibration offsets (dB) of every site at every frame, AR(1), (frames, sites)."""
    a = np.exp(-FRAME_MINUTES / 60.0 / config.drift_timescale_h)
    noise = rng.standard_normal((n_frames, n_sites)) * config.drift_sd_db
    drift = np.empty((n_frames, n_sites))
    drift[0] = noise[0]
    for i in range(1, n_frames):
        drift[i] = a * drift[i - 1] + np.sqrt(1.0 - a * a) * noise[i]
    return drift


def _frac_index(ex: np.ndarray, ey: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fractional (row, col) indices of points (x, y) in the regular grid of centres ex, ey."""
    col = (np.asarray(x) - ex[0]) / (ex[1] - ex[0])
    row = (np.asarray(y) - ey[0]) / (ey[1] - ey[0])
    return np.stack([row, col])
