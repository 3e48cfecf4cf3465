"""The synthetic world: truth rain, radar and IMERG files written in the real formats.

``SyntheticWorld(config).write(root)`` streams the 1 km / 5 min truth frame by frame (memory
does not grow with the length of the world), writes one radar mosaic per frame, accumulates
the 0.1° half-hourly truth and the PMW overpasses, then runs the IMERG process and writes one
IMERG file per half hour, the truth file and ``world.json``::

    root/radar/YYYY/MM/DD/MFRADAR_LAMEEAU_5MIN_1KM_YYYYMMDDHHMM.h5   (HHMM = end)
    root/imerg/YYYY/MM/DD/3B-HHR[-E|-L].MS.MRG.3IMERG.…V07B.HDF5|RT-H5
    root/truth/truth.nc
    root/world.json

The simulation starts ``spinup_hours`` before the first half hour written and ends as long
after the last one, so the IMERG morphing has PMW history on both sides.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.ndimage import gaussian_filter
from tqdm.auto import tqdm

import rainscore
from rainscore.grids import METEOFRANCE_1KM, ProjectedGrid
from rainscore.grids.regrid import AreaWeights
from rainscore.synthetic.atomic import atomic_path
from rainscore.synthetic.config import REGIMES, WorldConfig
from rainscore.synthetic.constellation import (
    CONSTELLATION,
    Overpasses,
    compute_overpasses,
    make_orbits,
)
from rainscore.synthetic.imerg import ImergInputs, simulate_imerg
from rainscore.synthetic.imerg_file import VARIABLES, imerg_relpath, write_imerg_file
from rainscore.synthetic.radar import RadarNetwork, calibration_drift
from rainscore.synthetic.radar_file import corner_lonlat, radar_relpath, write_radar_file
from rainscore.synthetic.rain import FrameParams, TruthRain, blend_params
from rainscore.synthetic.terrain import ridge_height
from rainscore.synthetic.truth_file import json_attr, truth_dataset, write_truth_file
from rainscore.synthetic.weather import (
    FRAME_S,
    HALF_HOUR_S,
    FrontBand,
    front_bands,
    regime_weights,
    simulate_regimes,
    simulate_wind,
)

logger = logging.getLogger(__name__)

FRAMES_PER_HALF_HOUR = 6
_STREAMS = {
    "regimes": 1,
    "wind": 2,
    "fronts": 3,
    "field": 4,
    "radar-static": 5,
    "radar-noise": 6,
    "orbits": 7,
    "imerg": 8,
    "latency": 9,
}


@dataclass(frozen=True)
class TruthFrame:
    """One 5-minute truth frame on the radar window.

    Attributes:
        end: End of the 5-minute interval (the radar file's time stamp).
        rate: Rain rate (mm/h), float32 (ny, nx), rows north → south.
        params: The rain model's parameters for this frame.
    """

    end: np.datetime64
    rate: np.ndarray
    params: FrameParams


class SyntheticWorld:
    """A synthetic world defined by a :class:`WorldConfig` (deterministic for its seed).

    Args:
        config: The world's configuration.
    """

    def __init__(self, config: WorldConfig) -> None:
        self.config = config
        self.radar_grid: ProjectedGrid = METEOFRANCE_1KM.window_covering(
            *config.box.boundary(), margin=config.margin_km * 1e3
        )
        self.n_spinup = round(config.spinup_hours * 2)
        self.n_half_sim = config.n_half_hours + 2 * self.n_spinup
        self.origin = config.start_time - np.timedelta64(30 * self.n_spinup, "m")

    def __repr__(self) -> str:
        c = self.config
        return (
            f"SyntheticWorld(start={c.start!r}, days={c.days}, seed={c.seed}, "
            f"run={c.imerg_run!r}, window={self.radar_grid.ny}x{self.radar_grid.nx})"
        )

    def rng(self, stream: str) -> np.random.Generator:
        """The random generator of one component (independent streams per component)."""
        return np.random.default_rng(np.random.SeedSequence([self.config.seed, _STREAMS[stream]]))

    # ------------------------------------------------------------------ the weather
    @cached_property
    def half_hours(self) -> np.ndarray:
        """Start of every simulated half hour (spin-up included), ``datetime64[s]``."""
        return self.origin + np.arange(self.n_half_sim) * np.timedelta64(30, "m")

    @cached_property
    def regimes(self) -> np.ndarray:
        """Regime code of every simulated half hour."""
        return simulate_regimes(self.config.regimes, self.half_hours, self.rng("regimes"))

    @cached_property
    def wind(self) -> tuple[np.ndarray, np.ndarray]:
        """Steering wind (u, v) in m/s at every frame."""
        n = self.n_half_sim * FRAMES_PER_HALF_HOUR
        return simulate_wind(self.config.wind, n, FRAME_S, self.rng("wind"))

    @cached_property
    def frame_weights(self) -> np.ndarray:
        """Regime weights at every frame (mid-frame), (n_frames, n_regimes)."""
        blend = self.config.regimes.blend_hours * 2.0
        hh = regime_weights(self.regimes, blend)
        t_hh = (np.arange(self.n_half_sim) + 0.5) * HALF_HOUR_S
        t_fr = (np.arange(self.n_half_sim * FRAMES_PER_HALF_HOUR) + 0.5) * FRAME_S
        w = np.stack([np.interp(t_fr, t_hh, hh[:, r]) for r in range(len(REGIMES))], axis=1)
        return w / w.sum(axis=1, keepdims=True)

    def _fronts(self, half_diagonal_m: float) -> list[tuple[int, int, FrontBand]]:
        u, v = self.wind
        step = FRAMES_PER_HALF_HOUR
        return front_bands(
            self.regimes,
            u[::step],
            v[::step],
            half_diagonal_m,
            self.config.rain.front_width_km * 1e3,
            self.config.rain.front_speed_factor,
            self.rng("fronts"),
        )

    # ------------------------------------------------------------------ the truth
    def _frames(self, rain: TruthRain) -> Iterator[tuple[int, TruthFrame]]:
        """Every simulated frame (spin-up included), in order."""
        cfg = self.config
        u, v = self.wind
        weights = self.frame_weights
        fronts = self._fronts(rain.half_diagonal_m)
        blend = int(np.ceil(cfg.regimes.blend_hours * 2.0)) + 1
        lon_centre = float(np.mean(cfg.box.lon))
        for k in range(self.n_half_sim * FRAMES_PER_HALF_HOUR):
            t = k * FRAME_S
            h = k // FRAMES_PER_HALF_HOUR
            band = next((b for i, j, b in fronts if i - blend <= h <= j + blend), None)
            utc_hours = (self.origin.astype(np.int64) % 86400 + t) / 3600.0
            params = blend_params(
                weights[k],
                (utc_hours + lon_centre / 15.0) % 24.0,
                cfg.rain,
                float(u[k]),
                float(v[k]),
                band,
                t + FRAME_S / 2,
            )
            rain.advance(params, FRAME_S)
            end = self.origin + np.timedelta64(int(t + FRAME_S), "s")
            yield k, TruthFrame(end=end, rate=rain.rate(params), params=params)

    def _rain_model(self) -> TruthRain:
        return TruthRain(
            self.radar_grid, self.terrain, self.config.rain, self.rng("field"), workers=2
        )

    @cached_property
    def window_lonlat(self) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude of every pixel of the radar window."""
        return self.radar_grid.lonlat()

    @cached_property
    def terrain(self) -> np.ndarray:
        """Synthetic terrain height (m) on the radar window."""
        return ridge_height(*self.window_lonlat, self.radar_grid)

    def truth_frames(self) -> Iterator[TruthFrame]:
        """The truth frames of the written period (the same frames as :meth:`write`).

        Frame ``i`` covers ``[start + 5 i min, start + 5 (i + 1) min)`` and is stamped at its
        end, like the radar file written from it.
        """
        first = self.n_spinup * FRAMES_PER_HALF_HOUR
        last = first + self.config.n_half_hours * FRAMES_PER_HALF_HOUR
        for k, frame in self._frames(self._rain_model()):
            if k >= last:
                return
            if k >= first:
                yield frame

    @cached_property
    def radar_network(self) -> RadarNetwork:
        """The radar network's static maps on the window (coverage, range, blockage)."""
        return RadarNetwork.build(
            self.radar_grid, self.config.radar, self.rng("radar-static"), lonlat=self.window_lonlat
        )

    # ------------------------------------------------------------------ PMW
    def overpasses(self, cell_lon: np.ndarray, cell_lat: np.ndarray) -> Overpasses:
        """PMW observations of the given cells over the simulated period (s since origin)."""
        orbits = make_orbits(CONSTELLATION, self.origin, self.rng("orbits"))
        return compute_overpasses(orbits, cell_lon, cell_lat, 0.0, self.n_half_sim * HALF_HOUR_S)

    # ------------------------------------------------------------------ writing
    def write(self, root: str | os.PathLike, *, progress: bool = True) -> pd.DataFrame:
        """Write the world's files under ``root`` (each file atomically).

        A previous world in ``root`` (recognised by its ``world.json``) has its radar, IMERG
        and truth files removed first, so no stale file survives a shorter rewrite.

        Args:
            root: Root folder of the world.
            progress: Show progress bars.

        Returns:
            The manifest: one row per file with ``kind`` (``radar``, ``imerg``, ``truth``,
            ``world``), ``path`` (relative to ``root``, POSIX), ``time`` (radar: end of
            accumulation; IMERG: start of the half hour; NaT otherwise) and ``bytes``.
        """
        cfg = self.config
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        _remove_previous_world(root)
        box = cfg.box
        grid = self.radar_grid
        n_lat, n_lon = box.shape
        logger.info("Writing %s to %s", self, root)

        weights = AreaWeights.build(grid, box)
        regridder = weights.regridder()
        terrain_cells = weights.regrid(self.terrain)[0] / 1e3
        network = self.radar_network
        corners = corner_lonlat(grid)
        lon2d, lat2d = np.meshgrid(box.lon, box.lat)
        passes = self.overpasses(lon2d.ravel(), lat2d.ravel())
        keep_pass = np.ones(int(passes.pass_id.max(initial=-1)) + 1, dtype=bool)
        if cfg.imerg_run == "early":
            keep_pass &= self.rng("latency").random(keep_pass.size) >= (
                cfg.imerg.early_missing_fraction
            )

        shape = (self.n_half_sim, n_lat, n_lon)
        truth = np.zeros(shape, dtype=np.float32)
        mw_truth = np.full(shape, np.nan, dtype=np.float32)
        mw_sat = np.full(shape, -1, dtype=np.int8)
        mw_minute = np.full(shape, np.nan, dtype=np.float32)
        mw_time = np.full(shape, np.nan, dtype=np.float64)  # s since origin
        rain_u = np.zeros(self.n_half_sim)
        rain_v = np.zeros(self.n_half_sim)
        rank = np.full((n_lat * n_lon,), np.inf)
        cell_km_lat = 111.0 * 0.1
        cell_km_lon = 111.3 * 0.1 * np.cos(np.radians(np.mean(box.lat)))

        rows: list[tuple] = []
        first = self.n_spinup * FRAMES_PER_HALF_HOUR
        last = first + cfg.n_half_hours * FRAMES_PER_HALF_HOUR
        radar_rng = self.rng("radar-noise")
        drift = calibration_drift(
            len(network.sites), self.n_half_sim * FRAMES_PER_HALF_HOUR, cfg.radar, radar_rng
        )
        bar = tqdm(
            total=self.n_half_sim * FRAMES_PER_HALF_HOUR,
            desc="synthetic truth + radar",
            unit="frame",
            disable=not progress,
        )
        # Radar files are deflated and written by a worker thread (zlib releases the GIL)
        # while the next frames are simulated; at most a few frames wait in memory.
        pending: deque[Future] = deque()
        with bar, ThreadPoolExecutor(max_workers=1, thread_name_prefix="radar-writer") as pool:
            for k, frame in self._frames(self._rain_model()):
                h = k // FRAMES_PER_HALF_HOUR
                if k % FRAMES_PER_HALF_HOUR == 0:
                    rank[:] = np.inf
                cells = regridder.regrid(frame.rate)[0].astype(np.float32)
                truth[h] += cells / FRAMES_PER_HALF_HOUR
                rain_u[h] += frame.params.u / FRAMES_PER_HALF_HOUR
                rain_v[h] += frame.params.v / FRAMES_PER_HALF_HOUR
                self._select_overpasses(
                    passes,
                    keep_pass,
                    k,
                    cells,
                    (cell_km_lat, cell_km_lon),
                    rank,
                    (mw_truth[h], mw_sat[h], mw_minute[h], mw_time[h]),
                )
                if first <= k < last:
                    counts = network.observe(
                        frame.rate, frame.params.vpr_range_km, drift[k], cfg.radar, radar_rng
                    )
                    rel = radar_relpath(frame.end)
                    future = pool.submit(
                        _write_radar,
                        root / rel,
                        counts,
                        grid,
                        frame.end,
                        cfg.radar.gzip_level,
                        cfg.radar.chunk,
                        corners,
                    )
                    pending.append(future)
                    rows.append(("radar", rel, frame.end, future))
                    while len(pending) > 3:
                        pending.popleft().result()
                bar.update()
            for future in pending:
                future.result()
        rows = [(kind, rel, t, f.result()) for kind, rel, t, f in rows]

        inputs = ImergInputs(
            truth=truth,
            mw_truth=mw_truth,
            mw_satellite=mw_sat,
            mw_minute=mw_minute,
            rain_u=rain_u,
            rain_v=rain_v,
            start=self.origin,
            lat=box.lat,
            lon=box.lon,
            terrain_km=terrain_cells,
        )
        fields = simulate_imerg(inputs, cfg.imerg, cfg.imerg_run, self.rng("imerg"))
        written = slice(self.n_spinup, self.n_spinup + cfg.n_half_hours)
        times = self.half_hours[written]
        for i in tqdm(
            range(cfg.n_half_hours), desc="synthetic IMERG", unit="file", disable=not progress
        ):
            h = self.n_spinup + i
            rel = imerg_relpath(times[i], cfg.imerg_run, cfg.imerg_version)
            write_imerg_file(
                root / rel,
                times[i],
                {spec.name: fields[spec.name][h] for spec in VARIABLES},
                box,
                run=cfg.imerg_run,
                version=cfg.imerg_version,
                gzip_level=cfg.imerg.gzip_level,
            )
            rows.append(("imerg", rel, times[i], (root / rel).stat().st_size))

        age_f, age_b, sensor = pmw_ages(mw_time, fields["MWprecipSource"], self.n_half_sim)
        ds = truth_dataset(
            times,
            box,
            rain=truth[written],
            regime=self.regimes[written],
            pmw_age=age_f[written],
            pmw_age_backward=age_b[written],
            pmw_sensor=sensor[written],
            wind_u=rain_u[written],
            wind_v=rain_v[written],
            attrs={
                "title": "Truth of a rainscore synthetic world",
                "source": "rainscore.synthetic",
                "comment": "SYNTHETIC DATA. rain: area mean over each IMERG cell of the 1 km "
                "truth frames; time: start of the half hour",
                "seed": int(cfg.seed),
                "imerg_run": cfg.imerg_run,
                "world_config": json_attr(cfg.to_dict()),
                "radar_grid": json_attr(grid.to_dict()),
                "rainscore_version": rainscore.__version__,
            },
        )
        truth_rel = Path("truth", "truth.nc")
        write_truth_file(root / truth_rel, ds)
        rows.append(("truth", truth_rel, np.datetime64("NaT"), (root / truth_rel).stat().st_size))

        n_radar = sum(1 for r in rows if r[0] == "radar")
        description = {
            "config": cfg.to_dict(),
            "seed": int(cfg.seed),
            "counts": {
                "radar_files": n_radar,
                "imerg_files": int(cfg.n_half_hours),
                "half_hours": int(cfg.n_half_hours),
                "frames_simulated": int(self.n_half_sim * FRAMES_PER_HALF_HOUR),
                "pmw_overpasses": int(keep_pass.sum()),
            },
            "radar_grid": grid.to_dict(),
            "regimes": list(REGIMES),
            "regime_counts": {
                name: int(np.sum(self.regimes[written] == i)) for i, name in enumerate(REGIMES)
            },
            "code_version": rainscore.__version__,
        }
        world_rel = Path("world.json")
        with atomic_path(root / world_rel) as tmp:
            tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")
        rows.append(("world", world_rel, np.datetime64("NaT"), (root / world_rel).stat().st_size))
        manifest = pd.DataFrame(rows, columns=["kind", "path", "time", "bytes"])
        manifest["path"] = manifest["path"].map(lambda p: Path(p).as_posix())
        manifest["time"] = pd.to_datetime(manifest["time"])
        logger.info(
            "Synthetic world written: %d radar files, %d IMERG files, %.1f MB",
            n_radar,
            cfg.n_half_hours,
            manifest["bytes"].sum() / 1e6,
        )
        return manifest

    @staticmethod
    def _select_overpasses(
        passes: Overpasses,
        keep_pass: np.ndarray,
        k: int,
        cells: np.ndarray,
        cell_km: tuple[float, float],
        rank: np.ndarray,
        out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ) -> None:
        """Record the PMW overpasses of frame ``k`` into the half hour's arrays.

        Among several overpasses of a cell in one half hour IMERG keeps one: imagers before
        sounders, then the one nearest the middle of the half hour.
        """
        t0 = k * FRAME_S
        sl = passes.between(t0, t0 + FRAME_S)
        if sl.start == sl.stop:
            return
        mw_truth, mw_sat, mw_minute, mw_time = (a.reshape(-1) for a in out)
        half_start = (k // FRAMES_PER_HALF_HOUR) * HALF_HOUR_S
        sats = passes.satellite[sl]
        for s in np.unique(sats):
            sel = np.flatnonzero(sats == s) + sl.start
            sel = sel[keep_pass[passes.pass_id[sel]]]
            if sel.size == 0:
                continue
            sensor = CONSTELLATION[s].sensor
            sigma_km = sensor.footprint_km / 2.355
            seen = gaussian_filter(
                cells, (sigma_km / cell_km[0], sigma_km / cell_km[1]), mode="nearest"
            ).ravel()
            cell = passes.cell[sel]
            t = passes.time[sel]
            score = sensor.priority * 1e4 + np.abs(t - half_start - HALF_HOUR_S / 2)
            better = score < rank[cell]
            cell, t, score = cell[better], t[better], score[better]
            rank[cell] = score
            mw_truth[cell] = seen[cell]
            mw_sat[cell] = s
            mw_minute[cell] = (t - half_start) / 60.0
            mw_time[cell] = t


def _write_radar(
    path: Path,
    counts: np.ndarray,
    grid: ProjectedGrid,
    end: np.datetime64,
    gzip_level: int,
    chunk: int,
    corners: dict[str, float],
) -> int:
    """Write one radar file; return its size in bytes."""
    write_radar_file(path, counts, grid, end, gzip_level=gzip_level, chunk=chunk, corners=corners)
    return path.stat().st_size


def pmw_ages(
    mw_time: np.ndarray, source: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PMW age forward and backward (minutes) and sensor code per half hour and cell.

    Args:
        mw_time: Time (s since origin) of each half hour's selected observation (NaN: none).
        source: ``MWprecipSource`` (0: none), same shape.
        n: Number of half hours.

    Returns:
        ``(age_forward, age_backward, sensor)`` with the shapes of ``mw_time``.
    """
    starts = np.arange(n) * HALF_HOUR_S
    last = np.full(mw_time.shape[1:], np.nan)
    last_code = np.zeros(mw_time.shape[1:], dtype=np.int16)
    age_f = np.empty(mw_time.shape, dtype=np.float32)
    sensor = np.empty(mw_time.shape, dtype=np.int16)
    for h in range(n):
        seen = np.isfinite(mw_time[h])
        last = np.where(seen, mw_time[h], last)
        last_code = np.where(seen, source[h], last_code)
        age_f[h] = np.where(seen, 0.0, (starts[h] - last) / 60.0)
        sensor[h] = last_code
    nxt = np.full(mw_time.shape[1:], np.nan)
    age_b = np.empty(mw_time.shape, dtype=np.float32)
    for h in range(n - 1, -1, -1):
        seen = np.isfinite(mw_time[h])
        nxt = np.where(seen, mw_time[h], nxt)
        age_b[h] = np.where(seen, 0.0, (nxt - starts[h] - HALF_HOUR_S) / 60.0)
    return age_f, age_b, sensor


def _remove_previous_world(root: Path) -> None:
    """Delete the files of a world previously written in ``root`` (if ``world.json`` exists)."""
    if not (root / "world.json").is_file():
        return
    patterns = {
        "radar": "**/MFRADAR_LAMEEAU_5MIN_1KM_*.h5",
        "imerg": "**/3B-HHR*.MS.MRG.3IMERG.*",
        "truth": "truth.nc",
    }
    removed = 0
    for folder, pattern in patterns.items():
        for path in (root / folder).glob(pattern):
            if path.is_file():
                path.unlink()
                removed += 1
    (root / "world.json").unlink()
    logger.info("Removed %d files of the previous world in %s", removed, root)
