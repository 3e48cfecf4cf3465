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
from rainscore.atomic import atomic_path
from rainscore.grids import METEOFRANCE_1KM, ProjectedGrid
from rainscore.grids.regrid import AreaWeights
from rainscore.synthetic.config import REGIMES, WorldConfig
from rainscore.synthetic.constellation import (
    CONSTELLATION,
    Overpasses,
    compute_overpasses,
    make_orbits,
)
from rainscore.synthetic.imerg import ImergInputs, simulate_imerg
from rainscore.synthetic.imerg_file import VARIABLES, imerg_relpath, write_imerg_file
from rainscore.synthetic.opera_file import OperaView
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


@dataclass
class _HalfHourRecord:
    """What the stream of frames leaves for the IMERG process, per simulated half hour."""

    truth: np.ndarray
    mw_truth: np.ndarray
    mw_satellite: np.ndarray
    mw_minute: np.ndarray
    mw_time: np.ndarray  # s since the origin, float64
    rain_u: np.ndarray
    rain_v: np.ndarray
    terrain_km: np.ndarray | None = None
    start: np.datetime64 | None = None
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    n_overpasses: int = 0  # satellite passes over the box that the run uses

    @classmethod
    def empty(cls, n: int, shape: tuple[int, int]) -> _HalfHourRecord:
        """Arrays for ``n`` half hours on cells of ``shape``, nothing seen yet."""
        full = (n, *shape)
        return cls(
            truth=np.zeros(full, dtype=np.float32),
            mw_truth=np.full(full, np.nan, dtype=np.float32),
            mw_satellite=np.full(full, -1, dtype=np.int8),
            mw_minute=np.full(full, np.nan, dtype=np.float32),
            mw_time=np.full(full, np.nan),
            rain_u=np.zeros(n),
            rain_v=np.zeros(n),
        )

    def add_frame(self, h: int, cells: np.ndarray, params: FrameParams) -> None:
        """Add one 5-minute frame's cell means and motion to half hour ``h``."""
        self.truth[h] += cells / FRAMES_PER_HALF_HOUR
        self.rain_u[h] += params.u / FRAMES_PER_HALF_HOUR
        self.rain_v[h] += params.v / FRAMES_PER_HALF_HOUR

    @property
    def imerg_inputs(self) -> ImergInputs:
        """The inputs of the IMERG process."""
        return ImergInputs(
            truth=self.truth,
            mw_truth=self.mw_truth,
            mw_satellite=self.mw_satellite,
            mw_minute=self.mw_minute,
            rain_u=self.rain_u,
            rain_v=self.rain_v,
            start=self.start,
            lat=self.lat,
            lon=self.lon,
            terrain_km=self.terrain_km,
        )


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
    def write(
        self,
        root: str | os.PathLike,
        *,
        progress: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ) -> pd.DataFrame:
        """Write the world's files under ``root`` (each file atomically).

        A previous world in ``root`` (recognised by its ``world.json``) has its radar, IMERG
        and truth files removed first, so no stale file survives a shorter rewrite.

        Args:
            root: Root folder of the world.
            progress: Show progress bars.
            cache_dir: Where to cache the radar-window → box area weights
                (:meth:`AreaWeights.cached`); ``None`` computes them (a few seconds).

        Returns:
            The manifest: one row per file with ``kind`` (``radar``, ``imerg``, ``truth``,
            ``world``), ``path`` (relative to ``root``, POSIX), ``time`` (radar: end of
            accumulation; IMERG: start of the half hour; NaT otherwise) and ``bytes``.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        _remove_previous_world(root)
        logger.info("Writing %s to %s", self, root)
        record, rows = self._simulate(root, progress, cache_dir)
        fields = simulate_imerg(
            record.imerg_inputs, self.config.imerg, self.config.imerg_run, self.rng("imerg")
        )
        rows += self._write_imerg(root, fields, progress)
        rows.append(self._write_truth(root, record, fields))
        rows.append(self._write_description(root, rows, record))
        manifest = pd.DataFrame(rows, columns=["kind", "path", "time", "bytes"])
        manifest["path"] = manifest["path"].map(lambda p: Path(p).as_posix())
        manifest["time"] = pd.to_datetime(manifest["time"])
        logger.info(
            "Synthetic world written: %d radar files, %d IMERG files, %.1f MB",
            int((manifest["kind"] == "radar").sum()),
            self.config.n_half_hours,
            manifest["bytes"].sum() / 1e6,
        )
        return manifest

    @property
    def _written(self) -> slice:
        """The simulated half hours that are written (spin-up excluded)."""
        return slice(self.n_spinup, self.n_spinup + self.config.n_half_hours)

    def _simulate(
        self, root: Path, progress: bool, cache_dir: str | os.PathLike | None
    ) -> tuple[_HalfHourRecord, list[tuple]]:
        """Stream the truth frames: write the radar files, record the 0.1° half hours."""
        cfg = self.config
        box, grid = cfg.box, self.radar_grid
        if cache_dir is None:
            weights = AreaWeights.build(grid, box)
        else:
            weights = AreaWeights.cached(grid, box, cache_dir=cache_dir)
        regridder = weights.regridder()
        network = self.radar_network
        corners = corner_lonlat(grid)
        opera = None
        if cfg.radar_product != "meteofrance":
            opera = OperaView(grid, box, cfg.radar_product, cfg.margin_km * 1e3)
        lon2d, lat2d = np.meshgrid(box.lon, box.lat)
        passes = self.overpasses(lon2d.ravel(), lat2d.ravel())
        keep_pass = np.ones(int(passes.pass_id.max(initial=-1)) + 1, dtype=bool)
        if cfg.imerg_run == "early":
            late = self.rng("latency").random(keep_pass.size) < cfg.imerg.early_missing_fraction
            keep_pass &= ~late
        record = _HalfHourRecord.empty(self.n_half_sim, box.shape)
        record.terrain_km = weights.regrid(self.terrain)[0] / 1e3
        record.start, record.lat, record.lon = self.origin, box.lat, box.lon
        record.n_overpasses = int(keep_pass[np.unique(passes.pass_id)].sum())
        rank = np.full(box.shape[0] * box.shape[1], np.inf)
        cell_km = (111.0 * 0.1, 111.3 * 0.1 * np.cos(np.radians(np.mean(box.lat))))

        n_frames = self.n_half_sim * FRAMES_PER_HALF_HOUR
        first = self.n_spinup * FRAMES_PER_HALF_HOUR
        last = first + cfg.n_half_hours * FRAMES_PER_HALF_HOUR
        radar_rng = self.rng("radar-noise")
        drift = calibration_drift(len(network.sites), n_frames, cfg.radar, radar_rng)
        rows: list[tuple] = []
        bar = tqdm(
            total=n_frames, desc="synthetic truth + radar", unit="frame", disable=not progress
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
                record.add_frame(h, cells, frame.params)
                self._select_overpasses(passes, keep_pass, k, cells, cell_km, rank, record)
                if first <= k < last:
                    counts = network.observe(
                        frame.rate, frame.params.vpr_range_km, drift[k], cfg.radar, radar_rng
                    )
                    future = None
                    if opera is None:
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
                    elif opera.is_nominal(frame.end):  # an OPERA rate composite every 15 min
                        rel = opera.relpath(frame.end)
                        future = pool.submit(opera.write, root / rel, counts, frame.end)
                    if future is not None:
                        pending.append(future)
                        rows.append(("radar", rel, frame.end, future))
                    while len(pending) > 3:
                        pending.popleft().result()
                bar.update()
            for future in pending:
                future.result()
        return record, [(kind, rel, t, f.result()) for kind, rel, t, f in rows]

    def _write_imerg(
        self, root: Path, fields: dict[str, np.ndarray], progress: bool
    ) -> list[tuple]:
        """Write one IMERG file per written half hour."""
        cfg = self.config
        rows = []
        times = self.half_hours[self._written]
        for i in tqdm(
            range(cfg.n_half_hours), desc="synthetic IMERG", unit="file", disable=not progress
        ):
            h = self.n_spinup + i
            rel = imerg_relpath(times[i], cfg.imerg_run, cfg.imerg_version)
            write_imerg_file(
                root / rel,
                times[i],
                {spec.name: fields[spec.name][h] for spec in VARIABLES},
                cfg.box,
                run=cfg.imerg_run,
                version=cfg.imerg_version,
                gzip_level=cfg.imerg.gzip_level,
            )
            rows.append(("imerg", rel, times[i], (root / rel).stat().st_size))
        return rows

    def _write_truth(
        self, root: Path, record: _HalfHourRecord, fields: dict[str, np.ndarray]
    ) -> tuple:
        """Write ``truth/truth.nc``."""
        cfg = self.config
        written = self._written
        age_f, age_b, sensor = pmw_ages(record.mw_time, fields["MWprecipSource"], self.n_half_sim)
        ds = truth_dataset(
            self.half_hours[written],
            cfg.box,
            rain=record.truth[written],
            regime=self.regimes[written],
            pmw_age=age_f[written],
            pmw_age_backward=age_b[written],
            pmw_sensor=sensor[written],
            wind_u=record.rain_u[written],
            wind_v=record.rain_v[written],
            attrs={
                "title": "Truth of a rainscore synthetic world",
                "source": "rainscore.synthetic",
                "comment": "SYNTHETIC DATA. rain: area mean over each IMERG cell of the 1 km "
                "truth frames; time: start of the half hour",
                "seed": int(cfg.seed),
                "imerg_run": cfg.imerg_run,
                "world_config": json_attr(cfg.to_dict()),
                "radar_grid": json_attr(self.radar_grid.to_dict()),
                "rainscore_version": rainscore.__version__,
            },
        )
        rel = Path("truth", "truth.nc")
        write_truth_file(root / rel, ds)
        return ("truth", rel, np.datetime64("NaT"), (root / rel).stat().st_size)

    def _write_description(self, root: Path, rows: list[tuple], record: _HalfHourRecord) -> tuple:
        """Write ``world.json``: config, seed, counts, radar grid, code version."""
        cfg = self.config
        regimes = self.regimes[self._written]
        description = {
            "config": cfg.to_dict(),
            "seed": int(cfg.seed),
            "counts": {
                "radar_files": sum(1 for r in rows if r[0] == "radar"),
                "imerg_files": int(cfg.n_half_hours),
                "half_hours": int(cfg.n_half_hours),
                "frames_simulated": int(self.n_half_sim * FRAMES_PER_HALF_HOUR),
                "pmw_passes": record.n_overpasses,
            },
            "radar_grid": self.radar_grid.to_dict(),
            "regimes": list(REGIMES),
            "regime_counts": {name: int(np.sum(regimes == i)) for i, name in enumerate(REGIMES)},
            "code_version": rainscore.__version__,
        }
        rel = Path("world.json")
        with atomic_path(root / rel) as tmp:
            tmp.write_text(json.dumps(description, indent=2, sort_keys=True) + "\n")
        return ("world", rel, np.datetime64("NaT"), (root / rel).stat().st_size)

    @staticmethod
    def _select_overpasses(
        passes: Overpasses,
        keep_pass: np.ndarray,
        k: int,
        cells: np.ndarray,
        cell_km: tuple[float, float],
        rank: np.ndarray,
        record: _HalfHourRecord,
    ) -> None:
        """Record the PMW overpasses of frame ``k`` into the half hour's arrays.

        Among several overpasses of a cell in one half hour IMERG keeps one: imagers before
        sounders, then the one nearest the middle of the half hour.
        """
        t0 = k * FRAME_S
        sl = passes.between(t0, t0 + FRAME_S)
        if sl.start == sl.stop:
            return
        h = k // FRAMES_PER_HALF_HOUR
        mw_truth, mw_sat, mw_minute, mw_time = (
            a[h].reshape(-1)
            for a in (record.mw_truth, record.mw_satellite, record.mw_minute, record.mw_time)
        )
        half_start = h * HALF_HOUR_S
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
