"""Measure what a written synthetic world claims, reading its files with h5py only.

These functions read the radar and IMERG files as a user would (the box hyperslab of the
global IMERG arrays, the ODIM attributes of the radar mosaics) and compare them with the
truth. They back the tests of ``tests/synthetic`` and the statistics table of
``docs/synthetic.md``::

    python -m rainscore.synthetic.diagnostics data/01_raw/demo

prints that table for the world under the given folder.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path

import h5py
import numpy as np
import xarray as xr
from pyproj import Transformer

from rainscore.grids import Box, ProjectedGrid
from rainscore.grids.regrid import AreaWeights
from rainscore.synthetic.config import REGIMES, WorldConfig
from rainscore.synthetic.imerg_file import VARIABLES

_EPOCH = re.compile(r"seconds since (\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")
RATE_BINS = ((0.1, 1.0), (1.0, 5.0), (5.0, np.inf))


def read_imerg_box(path: str | Path, box: Box) -> tuple[np.datetime64, dict[str, np.ndarray]]:
    """Start time and every variable of one IMERG file on the box, (lat, lon).

    Float variables have NaN where the file holds its fill value; int16 variables keep
    their values (−9999 = fill).
    """
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        time = f["Grid/time"]
        units = time.attrs["units"].decode()
        match = _EPOCH.match(units)
        if match is None:
            raise ValueError(f"{path}: Grid/time units {units!r} are not 'seconds since …'")
        epoch = np.datetime64(f"{match.group(1)}T{match.group(2)}", "s")
        start = epoch + np.timedelta64(int(time[0]), "s")
        for spec in VARIABLES:
            ds = f[spec.path]
            values = ds[0, box.lon_index, box.lat_index].T
            if values.dtype.kind == "f":
                values = np.where(values == ds.attrs["_FillValue"], np.nan, values)
            out[spec.name] = values
    return start, out


def read_imerg_cube(paths: Iterable[str | Path], box: Box) -> xr.Dataset:
    """Every IMERG variable of the given files on the box, dims (time, lat, lon)."""
    times, fields = [], []
    for path in sorted(paths, key=lambda p: Path(p).name):
        start, values = read_imerg_box(path, box)
        times.append(start)
        fields.append(values)
    data = {
        name: (("time", "lat", "lon"), np.stack([f[name] for f in fields])) for name in fields[0]
    }
    return xr.Dataset(data, coords={"time": np.array(times, "datetime64[ns]"), **box.coords()})


def read_radar(path: str | Path) -> tuple[np.ndarray, ProjectedGrid, np.datetime64]:
    """Rain rate (mm/h, NaN = no coverage), grid and end time of one ODIM mosaic."""
    with h5py.File(path, "r") as f:
        where = f["where"].attrs
        what = f["dataset1/what"].attrs
        raw = f["dataset1/data1/data"][...]
        grid_ll = _grid_from_where(where)
        end = _odim_time(what["enddate"], what["endtime"])
        start = _odim_time(what["startdate"], what["starttime"])
        minutes = (end - start) / np.timedelta64(1, "m")
        mm = raw.astype(np.float32) * np.float32(what["gain"]) + np.float32(what["offset"])
        rate = np.where(raw == what["nodata"], np.nan, mm * np.float32(60.0 / minutes))
    return rate.astype(np.float32), grid_ll, end


def _odim_time(date: bytes, time: bytes) -> np.datetime64:
    d, t = date.decode(), time.decode()
    return np.datetime64(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:6]}", "s")


def _grid_from_where(where: h5py.AttributeManager) -> ProjectedGrid:
    """The raster's grid from ODIM ``where`` (projection and the UL outer corner)."""
    crs = where["projdef"].decode()
    to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y1 = to_xy.transform(float(where["UL_lon"]), float(where["UL_lat"]))
    return ProjectedGrid(
        crs=crs,
        nx=int(where["xsize"]),
        ny=int(where["ysize"]),
        x_min=round(x0, 3),
        y_max=round(y1, 3),
        dx=float(where["xscale"]),
        dy=float(where["yscale"]),
    )


def radial_spectrum_slope(
    field: np.ndarray, pixel_km: float, scales_km: tuple[float, float] = (4.0, 64.0)
) -> float:
    """Slope of the radially averaged power spectrum of ``field`` between two scales.

    The field is detrended (mean removed) and tapered with a 2-D Hann window; the slope is a
    least-squares fit of ``log P`` against ``log k`` over wavelengths in ``scales_km``.
    """
    ny, nx = field.shape
    f = (field - field.mean()) * np.outer(np.hanning(ny), np.hanning(nx))
    power = np.abs(np.fft.rfft2(f)) ** 2
    ky = np.fft.fftfreq(ny, d=pixel_km)
    kx = np.fft.rfftfreq(nx, d=pixel_km)
    k = np.hypot(ky[:, None], kx[None, :]).ravel()
    edges = np.logspace(np.log10(1 / scales_km[1]), np.log10(1 / scales_km[0]), 13)
    idx = np.digitize(k, edges)
    centres, means = [], []
    for i in range(1, len(edges)):
        sel = idx == i
        if sel.any():
            centres.append(np.sqrt(edges[i - 1] * edges[i]))
            means.append(power.ravel()[sel].mean())
    return float(np.polyfit(np.log(centres), np.log(means), 1)[0])


def log_rain(rate: np.ndarray, floor: float = 0.1) -> np.ndarray:
    """``log10`` of the rate with dry pixels (below ``floor``) set to ``log10(floor)``."""
    return np.log10(np.maximum(rate, floor))


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation over the pairs where both are finite (NaN if fewer than 10)."""
    a = np.asarray(a, float).ravel()
    b = np.asarray(b, float).ravel()
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 10 or a[ok].std() == 0 or b[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def imerg_vs_truth(imerg: xr.Dataset, truth: xr.Dataset) -> dict[str, float]:
    """IMERG ``precipitation`` against the true half-hour rain at 0.1° / 30 min.

    Returns:
        Correlations (all pairs; PMW present; no PMW and IR influence < 50 %; IR influence
        >= 50 %; by truth PMW age, forward for Early and the nearer of forward and backward
        otherwise), conditional ratios ``mean(IMERG) / mean(truth)`` in truth
        rate bins, the rain-area ratio and the fraction of dry cells IMERG calls wet.
    """
    p = imerg["precipitation"].values
    t = truth["rain"].sel(time=imerg.time).values
    src = imerg["MWprecipSource"].values
    ir = imerg["IRinfluence"].values
    pmw = src > 0
    out = {
        "r_all": pearson(p, t),
        "r_pmw": pearson(p[pmw], t[pmw]),
        "r_morph": pearson(p[~pmw & (ir < 50)], t[~pmw & (ir < 50)]),
        "r_ir": pearson(p[~pmw & (ir >= 50)], t[~pmw & (ir >= 50)]),
        "r_ir_only": pearson(imerg["IRprecipitation"].values, t),
        "frac_pmw": float(pmw.mean()),
        "frac_ir_dominated": float((~pmw & (ir >= 50)).mean()),
    }
    age = truth["pmw_age"].sel(time=imerg.time).values
    if truth.attrs.get("imerg_run") != "early":
        age = np.fmin(age, truth["pmw_age_backward"].sel(time=imerg.time).values)
    for lo, hi in ((0, 0), (1, 60), (61, 180), (181, np.inf)):
        sel = (age >= lo) & (age <= hi) if hi > 0 else age == 0
        out[f"r_age_{lo}_{hi}"] = pearson(p[sel], t[sel])
    for lo, hi in RATE_BINS:
        sel = (t >= lo) & (t < hi)
        out[f"ratio_{lo:g}_{hi:g}"] = float(p[sel].mean() / t[sel].mean()) if sel.any() else np.nan
    out["bias_total"] = float(np.nanmean(p) / np.nanmean(t))
    out["wet_area_ratio"] = float((p >= 0.1).mean() / max((t >= 0.1).mean(), 1e-12))
    out["false_wet_fraction"] = float((p[t < 0.1] >= 0.1).mean())
    maps = [pearson(p[i], t[i]) for i in range(len(t)) if (t[i] >= 0.1).mean() >= 0.02]
    out["r_map_median"] = float(np.nanmedian(maps)) if maps else np.nan
    return out


def pmw_revisit(imerg: xr.Dataset) -> dict[str, float]:
    """PMW sampling seen in the files: fraction of half hours observed, mean gap per cell."""
    seen = imerg["MWprecipSource"].values > 0
    minute = imerg["MWobservationTime"].values.astype(float)
    t = (imerg.time.values - imerg.time.values[0]) / np.timedelta64(1, "m")
    obs = np.where(seen, t[:, None, None] + minute, np.nan)
    gaps = []
    for cell in obs.reshape(len(t), -1).T:
        times = cell[np.isfinite(cell)]
        if times.size > 1:
            gaps.append(np.diff(times))
    gaps = np.concatenate(gaps) if gaps else np.array([np.nan])
    return {
        "frac_half_hours_observed": float(seen.mean()),
        "mean_gap_min": float(np.mean(gaps)),
        "median_gap_min": float(np.median(gaps)),
        "p90_gap_min": float(np.percentile(gaps, 90)),
    }


def truth_statistics(truth: xr.Dataset) -> dict[str, float]:
    """Wet fraction (cells ≥ 0.1 mm/h) and mean rate of the truth, overall and by regime."""
    rain = truth["rain"].values
    out = {
        "wet_fraction": float((rain >= 0.1).mean()),
        "mean_rate": float(rain.mean()),
        "p99_cell_rate": float(np.percentile(rain, 99)),
        "max_cell_rate": float(rain.max()),
    }
    regime = truth["regime"].values
    for i, name in enumerate(REGIMES):
        sel = regime == i
        out[f"share_{name}"] = float(sel.mean())
        out[f"wet_fraction_{name}"] = float((rain[sel] >= 0.1).mean()) if sel.any() else np.nan
    return out


def radar_on_cells(
    paths: Iterable[str | Path], weights: AreaWeights, frames_per_half_hour: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Half-hour radar means on the IMERG cells, and where all frames were valid.

    Args:
        paths: Radar files in time order, ``frames_per_half_hour`` per half hour.
        weights: Area weights of the radar window on the box.
        frames_per_half_hour: Frames per half hour.

    Returns:
        ``(mean, valid)``: mean rate (mm/h) and a mask of cells whose valid fraction is at
        least 0.5 in every frame, each (n_half_hours, n_lat, n_lon).
    """
    regridder = weights.regridder()
    means, valid = [], []
    acc, ok = 0.0, True
    for i, path in enumerate(paths):
        rate, _, _ = read_radar(path)
        mean, fraction = regridder.regrid(rate)
        acc = acc + np.nan_to_num(mean) / frames_per_half_hour
        ok = ok & (fraction >= 0.5)
        if i % frames_per_half_hour == frames_per_half_hour - 1:
            means.append(acc)
            valid.append(ok)
            acc, ok = 0.0, True
    return np.array(means), np.array(valid)


def world_statistics(root: str | Path) -> dict[str, float]:
    """Every statistic of the docs' table for the world written under ``root``."""
    root = Path(root)
    description = json.loads((root / "world.json").read_text())
    config = WorldConfig.from_dict(description["config"])
    box = config.box
    truth = xr.load_dataset(root / "truth" / "truth.nc", engine="h5netcdf")
    imerg_files = sorted((root / "imerg").rglob("3B-HHR*"))
    imerg = read_imerg_cube(imerg_files, box)
    stats = {f"truth_{k}": v for k, v in truth_statistics(truth).items()}
    stats.update({f"imerg_{k}": v for k, v in imerg_vs_truth(imerg, truth).items()})
    stats.update({f"pmw_{k}": v for k, v in pmw_revisit(imerg).items()})

    radar_files = sorted((root / "radar").rglob("MFRADAR_*.h5"))
    _, grid, _ = read_radar(radar_files[0])
    weights = AreaWeights.build(grid, box)
    radar, valid = radar_on_cells(radar_files, weights)
    rain = truth["rain"].values
    both = valid & (rain >= 0.5) & (radar > 0)
    log_ratio = np.log(radar[both] / rain[both])
    stats["radar_r"] = pearson(radar[valid], rain[valid])
    stats["radar_median_ratio"] = float(np.exp(np.median(log_ratio)))
    stats["radar_log_ratio_sd"] = float(np.std(log_ratio))
    stats["radar_valid_cells"] = float(valid.mean())
    first, _, _ = read_radar(radar_files[0])
    stats["radar_nodata_pixels"] = float(np.isnan(first).mean())
    stats["imerg_r_vs_radar"] = pearson(imerg["precipitation"].values[valid], radar[valid])
    stats["files_radar"] = float(len(radar_files))
    stats["files_imerg"] = float(len(imerg_files))
    stats["bytes_total"] = float(sum(p.stat().st_size for p in root.rglob("*") if p.is_file()))
    return stats


def main(argv: list[str] | None = None) -> None:
    """Print the statistics of a written world as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="root folder of a written synthetic world")
    args = parser.parse_args(argv)
    stats = world_statistics(args.root)
    print("| statistic | value |\n|---|---|")
    for key, value in stats.items():
        print(f"| {key} | {value:.3g} |")


if __name__ == "__main__":
    main()
