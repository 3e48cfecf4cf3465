"""Factories of small, seeded pipeline products on the real grid, for tests.

Each factory builds in memory what a pipeline stage writes — same variables, dims, dtypes,
attributes and conventions — on the IMERG lattice of the analysis box (default: the
72 × 104 cells of :data:`rainscore.grids.DEFAULT_BOX`), so a new pipeline's tests start from
them instead of from an upstream run::

    cube = fake_imerg_cube(n_times=8, seed=1)        # rainscore.ingest.build_imerg_cube
    radar = fake_radar_on_imerg(n_times=8, seed=1)   # rainscore.colocate.colocate_radar
    pairs = fake_pairs(n_times=8, seed=1)            # rainscore.colocate.pairs.pair_imerg_radar
    table = fake_map_scores(n_times=8, seed=1)       # the scoring pipeline's map_scores

The rain is :func:`rainscore.synthetic.map_pairs.rain_map_pairs` (IMERG is its "forecast",
the radar its "observation"): the same ``seed`` gives the same maps, and the IMERG cube and
the radar of one seed belong together. The pairs, the PMW age and the score table are
computed by the library functions the pipelines call, so they follow the pipelines.
``tests/pipelines/test_factories.py`` checks each factory against a real run.
"""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser

import h5py
import numpy as np
import pandas as pd
import xarray as xr

from rainscore.analysis.features import FeatureConfig, map_features
from rainscore.colocate.frames import FrameModel
from rainscore.colocate.pairs import MaskConfig, pair_imerg_radar
from rainscore.grids.imerg import DEFAULT_BOX, IMERG_CRS, Box
from rainscore.half_hour import HALF_HOUR
from rainscore.io import IMERG_VARIABLES, pmw_age
from rainscore.io.imerg_filename import version_number
from rainscore.scores import ScoreConfig, score_maps
from rainscore.synthetic.config import REGIMES
from rainscore.synthetic.constellation import SENSOR_CODES
from rainscore.synthetic.map_pairs import rain_map_pairs

__all__ = [
    "DEFAULT_START",
    "ReportPage",
    "fake_imerg_cube",
    "fake_map_scores",
    "fake_pairs",
    "fake_radar_on_imerg",
]

#: First half hour of every factory's time axis unless told otherwise.
DEFAULT_START = pd.Timestamp("2024-06-10T12:00")
_FRAMES = FrameModel()  # 5-minute accumulations, as Météo-France mosaics
_STREAMS = {"imerg": 1, "radar": 2, "regime": 3}


def _times(n_times: int, start: str | pd.Timestamp) -> pd.DatetimeIndex:
    if n_times < 1:
        raise ValueError(f"n_times must be at least 1, got {n_times}")
    return pd.date_range(pd.Timestamp(start), periods=n_times, freq=pd.Timedelta(HALF_HOUR))


def _rng(seed: int, stream: str) -> np.random.Generator:
    return np.random.default_rng([seed, _STREAMS[stream]])


def _rain(n_times: int, box: Box, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(imerg, radar)`` rain rates (mm/h), float32 ``(time, lat, lon)``."""
    imerg, radar = rain_map_pairs(n_times, box.shape, seed=seed)
    return imerg.astype(np.float32), radar.astype(np.float32)


def _time_coord(times: pd.DatetimeIndex, long_name: str) -> xr.DataArray:
    return xr.DataArray(
        times.values.astype("datetime64[ns]"),
        dims="time",
        attrs={"standard_name": "time", "long_name": long_name},
    )


def _imerg_fields(precipitation: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Every IMERG variable, consistent with the rain: a PMW swath on some half hours."""
    n, ny, nx = precipitation.shape
    codes = [c for c in sorted(SENSOR_CODES) if c > 0]
    mw_source = np.zeros((n, ny, nx), np.float32)
    mw_time = np.full((n, ny, nx), np.nan, np.float32)
    lon_index = np.arange(nx)[None, :]
    for t in range(n):
        if rng.random() < 0.6:
            west = rng.integers(0, nx)
            swath = np.broadcast_to((lon_index >= west) & (lon_index < west + nx // 2), (ny, nx))
            mw_source[t][swath] = rng.choice(codes)
            mw_time[t][swath] = rng.integers(0, 30)
    observed = mw_source > 0
    noise = rng.lognormal(0.0, 0.3, (3, n, ny, nx)).astype(np.float32)
    return {
        "precipitation": precipitation,
        "precipitation_uncal": precipitation * noise[0],
        "random_error": (0.1 + 0.6 * precipitation).astype(np.float32),
        "liquid_probability": np.full((n, ny, nx), 100.0, np.float32),
        "quality_index": rng.uniform(0.4, 1.0, (n, ny, nx)).astype(np.float32),
        "mw_precipitation": np.where(observed, precipitation * noise[1], np.nan).astype(np.float32),
        "mw_source": mw_source,
        "mw_observation_time": mw_time,
        "ir_precipitation": precipitation * noise[2],
        "ir_influence": np.where(observed, 0.0, rng.integers(0, 101, (n, ny, nx))).astype(
            np.float32
        ),
    }


def fake_imerg_cube(
    n_times: int = 4,
    *,
    seed: int = 0,
    box: Box = DEFAULT_BOX,
    start: str | pd.Timestamp = DEFAULT_START,
    product: str = "Final",
    version: str = "V07B",
    source_root: str = "/archive/imerg",
) -> xr.Dataset:
    """An IMERG cube as :func:`rainscore.ingest.build_imerg_cube` returns it.

    Every normalised IMERG variable (float32, NaN for missing, the reader's attributes),
    the PMW ages computed by :func:`rainscore.io.pmw_age`, ``time`` the start of each half
    hour, the box's coordinates, and the cube's global attributes.

    Args:
        n_times: Half hours.
        seed: Seed of the maps (same seed, same cube).
        box: The analysis box (default: the project's).
        start: First half hour.
        product: IMERG run (``Early``, ``Late``, ``Final``).
        version: IMERG version (``V07B``; ``V06B`` and older name the source variables of
            their files).
        source_root: Folder the granules are said to come from.

    Returns:
        The cube, dims ``(time, lat, lon)``.
    """
    times = _times(n_times, start)
    imerg, _ = _rain(n_times, box, seed)
    fields = _imerg_fields(imerg, _rng(seed, "imerg"))
    major = version_number(version)
    data_vars = {}
    for name, spec in IMERG_VARIABLES.items():
        data_vars[name] = (("time", "lat", "lon"), fields[name], spec.attrs(spec.path(major)))
    coords = {"time": _time_coord(times, "start of the half hour (UTC)"), **box.coords()}
    cube = xr.Dataset(data_vars, coords=coords)
    cube = cube.merge(pmw_age(cube, product=product))
    files = {
        f"{source_root}/{t:%Y/%m/%d}/granule-{t:%Y%m%dT%H%M}.HDF5": [1_000_000, 0] for t in times
    }
    cube.attrs = {
        "title": "IMERG half-hourly fields over the analysis box",
        "product": product,
        "version": version,
        "source_files": json.dumps(files),
        "box": json.dumps(box.to_dict()),
        "Conventions": "CF-1.8",
        "crs": IMERG_CRS,
        "variables_requested": json.dumps(None),
        "source_root": source_root,
        "missing_times": json.dumps([]),
        "n_missing_times": 0,
    }
    return cube


def _coverage(box: Box) -> np.ndarray:
    """Radar valid fraction of each cell: an ellipse of full coverage, a partial rim."""
    lat = (box.lat - box.lat.mean()) / (0.5 * np.ptp(box.lat))
    lon = (box.lon - box.lon.mean()) / (0.5 * np.ptp(box.lon))
    distance = np.hypot(lat[:, None], lon[None, :])
    return np.clip((1.05 - distance) / 0.1, 0.0, 1.0).astype(np.float32)


def fake_radar_on_imerg(
    n_times: int = 4,
    *,
    seed: int = 0,
    box: Box = DEFAULT_BOX,
    start: str | pd.Timestamp = DEFAULT_START,
    lag_minutes: int = 0,
) -> xr.Dataset:
    """Radar on the IMERG grid as :func:`rainscore.colocate.colocate_radar` returns it.

    Every frame of every half hour was read; the radar covers an ellipse inscribed in the
    box (valid fraction 1), with a rim of partly covered cells and no data in the corners.

    Args:
        n_times: Half hours.
        seed: Seed of the maps (the radar of :func:`fake_imerg_cube` with the same seed).
        box: The analysis box (default: the project's).
        start: First half hour.
        lag_minutes: The colocation lag recorded in the attributes.

    Returns:
        ``rain``, ``valid_fraction``, ``n_valid_frames`` (time, lat, lon), ``n_frames`` and
        ``n_impossible`` (time).
    """
    times = _times(n_times, start)
    _, radar = _rain(n_times, box, seed)
    covered = np.broadcast_to(_coverage(box), radar.shape)
    rain = np.where(covered > 0, radar, np.nan).astype(np.float32)
    n_valid = np.where(covered > 0, _FRAMES.frames_per_half_hour, 0).astype(np.int16)
    dims = ("time", "lat", "lon")
    return xr.Dataset(
        {
            "rain": (
                dims,
                rain,
                {
                    "units": "mm/h",
                    "long_name": "radar rain rate: mean over the half hour's valid frames of "
                    "the area-conservative mean of valid pixels",
                    "standard_name": "lwe_precipitation_rate",
                },
            ),
            "valid_fraction": (
                dims,
                covered.copy(),
                {
                    "units": "1",
                    "long_name": "valid radar area fraction, mean over the expected frames "
                    "(missing frames count 0)",
                },
            ),
            "n_frames": (
                ("time",),
                np.full(n_times, _FRAMES.frames_per_half_hour, np.int16),
                {"units": "1", "long_name": "number of radar frames read in the half hour"},
            ),
            "n_impossible": (
                ("time",),
                np.zeros(n_times, np.int64),
                {
                    "units": "1",
                    "long_name": "radar pixels of the half hour's files (as read: the box's "
                    "window or the whole raster) above max_rate, masked by the reader",
                },
            ),
            "n_valid_frames": (
                dims,
                n_valid,
                {
                    "units": "1",
                    "long_name": "number of the half hour's radar frames valid at the cell "
                    "(the frames that rain averages)",
                },
            ),
        },
        coords={"time": _time_coord(times, "start of the IMERG half hour (UTC)"), **box.coords()},
        attrs={
            "lag_minutes": lag_minutes,
            "frame_kind": _FRAMES.kind,
            "frame_minutes": _FRAMES.minutes,
            "frames_per_half_hour": _FRAMES.frames_per_half_hour,
            "box": json.dumps(box.to_dict()),
            "crs": IMERG_CRS,
        },
    )


def fake_pairs(
    n_times: int = 4,
    *,
    seed: int = 0,
    box: Box = DEFAULT_BOX,
    start: str | pd.Timestamp = DEFAULT_START,
    mask: MaskConfig | None = None,
) -> xr.Dataset:
    """Colocated pairs as the colocation pipeline writes them (``colocated_pairs``).

    :func:`fake_imerg_cube` and :func:`fake_radar_on_imerg` of the same seed, paired by
    :func:`rainscore.colocate.pairs.pair_imerg_radar`.

    Args:
        n_times: Half hours.
        seed: Seed of the maps.
        box: The analysis box (default: the project's).
        start: First half hour.
        mask: Scoring-mask parameters (default: ``MaskConfig()``).

    Returns:
        ``imerg``, ``radar``, ``mask``, the radar counts and the IMERG quality fields.
    """
    cube = fake_imerg_cube(n_times, seed=seed, box=box, start=start)
    radar = fake_radar_on_imerg(n_times, seed=seed, box=box, start=start)
    return pair_imerg_radar(cube, radar, mask=mask or MaskConfig())


def fake_map_scores(
    n_times: int = 8,
    *,
    seed: int = 0,
    box: Box = DEFAULT_BOX,
    start: str | pd.Timestamp = DEFAULT_START,
    scores: ScoreConfig | None = None,
    features: FeatureConfig | None = None,
    true_regime: bool = True,
) -> pd.DataFrame:
    """A ``map_scores`` table as the scoring pipeline writes it.

    The scores (:func:`rainscore.scores.score_maps`: flags, continuous, categorical, FSS,
    SAL) and the context features (:func:`rainscore.analysis.features.map_features`) of
    :func:`fake_pairs`, joined on ``time`` as the ``join_scores_and_features`` node does.

    Args:
        n_times: Maps (half hours).
        seed: Seed of the maps (and of the regimes).
        box: The analysis box (default: the project's).
        start: First half hour.
        scores: Which scores (default: ``ScoreConfig()``, the project's thresholds and
            windows).
        features: Feature thresholds (default: ``FeatureConfig()``).
        true_regime: Add the ``true_regime`` column that a synthetic world's truth gives
            (a seeded regime per half hour).

    Returns:
        One row per map, indexed by ``time``.
    """
    pairs = fake_pairs(n_times, seed=seed, box=box, start=start)
    table = score_maps(pairs["imerg"], pairs["radar"], mask=pairs["mask"], config=scores)
    truth = None
    if true_regime:
        codes = _rng(seed, "regime").integers(0, len(REGIMES), n_times).astype(np.int8)
        regime = xr.DataArray(
            codes,
            coords={"time": pairs["time"].values},
            dims="time",
            attrs={
                "flag_values": np.arange(len(REGIMES), dtype=np.int8),
                "flag_meanings": " ".join(REGIMES),
            },
        )
        truth = xr.Dataset({"regime": regime})
    context = map_features(pairs, config=features, truth=truth)
    overlap = [c for c in context.columns if c in table.columns]
    return table.join(context.drop(columns=overlap), how="left")


def corrupt_hdf5_chunks(path: str | os.PathLike, data_path: str = "dataset1/data1/data") -> None:
    """Damage every compressed chunk of a file's array in place: the file still opens and its
    attributes read, but decompressing the data fails (a test of ``corrupt_data``).

    Args:
        path: An HDF5 file with a chunked, compressed array (a copy: it is modified).
        data_path: The array's path in the file (default: the ODIM data of dataset1).
    """
    with h5py.File(path, "r") as h5:
        dset = h5[data_path]
        spans = [
            (info.byte_offset, info.size)
            for info in (dset.id.get_chunk_info(i) for i in range(dset.id.get_num_chunks()))
        ]
    with open(path, "r+b") as f:
        for offset, size in spans:
            f.seek(offset + size // 4)
            f.write(b"\xff" * (size // 2))


class ReportPage(HTMLParser):
    """An HTML page parsed for the report's tests: its figures, images, ids, links, every
    URL-like attribute and its text.

    Attributes:
        figures: The ``id`` of every ``<figure>``, in order.
        images: The ``src`` of every ``<img>``.
        ids: Every ``id`` attribute.
        links: The ``href`` of every ``<a>``.
        urls: Every ``src`` and ``href`` value (what a browser would fetch or follow).
        text: The text between the tags, one string per run.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.images: list[str] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the tag's ids, figure, image, link and URLs."""
        values = dict(attrs)
        if "id" in values:
            self.ids.append(str(values["id"]))
        if tag == "figure":
            self.figures.append(str(values.get("id")))
        if tag == "img":
            self.images.append(str(values.get("src")))
        if tag == "a":
            self.links.append(str(values.get("href")))
        self.urls += [str(v) for k, v in values.items() if k in ("src", "href") and v]

    def handle_data(self, data: str) -> None:
        """Record the text."""
        self.text.append(data)
