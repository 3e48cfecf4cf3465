"""Real OPERA rate composites (``../shared/data/opera``): inventory and colocation.

Two ODYSSEY composites (2018-08-24 18:00 and 18:15, observation windows 17:50–18:05 and
18:05–18:20) and two NIMBUS ones (2024-11-26 01:00 and 01:15, start = end). Skipped when
the shared folder is absent.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from rainscore.colocate import ColocationConfig, FrameModel, colocate_radar
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box, ProjectedGrid
from rainscore.ingest import IngestionConfig, build_radar_inventory
from rainscore.io import open_radar
from rainscore.synthetic.opera_file import OPERA_2KM

BOX = Box(lat_min=46.0, lat_max=49.0, lon_min=0.0, lon_max=4.0)
"""30 × 40 IMERG cells over the Paris basin (rain in both products)."""
SEQUENTIAL = ExecutorConfig(executor="sequential", progress=False)


def _files(shared_data_dir, product: str) -> list[str]:
    folder = shared_data_dir / "opera" / ("nimbus" if product == "nimbus" else "")
    paths = sorted(str(p) for p in folder.glob("T_PAAH2*.hdf"))
    if len(paths) != 2:
        pytest.skip(f"the two {product} composites are not in {folder}")
    return paths


@pytest.fixture(scope="module", params=["odyssey", "nimbus"])
def opera(request, shared_data_dir):
    """``(product, paths, inventory)`` of the two real composites of a product."""
    paths = _files(shared_data_dir, request.param)
    inventory = build_radar_inventory(paths, config=IngestionConfig(), execution=SEQUENTIAL)
    return request.param, paths, inventory


def test_the_inventory_takes_the_real_rates(opera):
    product, _, inventory = opera
    # NIMBUS start = end was "wrong_accumulation (0 min, expected 5)": a rate is no accumulation.
    assert inventory["status"].tolist() == ["ok", "ok"], inventory["problem"].tolist()
    assert inventory["accumulation_minutes"].isna().all()
    assert inventory["frame_minutes"].tolist() == [15.0, 15.0]
    start = "2018-08-24T18:00" if product == "odyssey" else "2024-11-26T01:00"
    nominal = pd.date_range(start, periods=2, freq="15min")
    np.testing.assert_array_equal(inventory["nominal_time"], nominal)
    window_after = 5 if product == "odyssey" else 0  # ODYSSEY windows end at :05 and :20
    np.testing.assert_array_equal(inventory["end_time"], nominal + pd.Timedelta(window_after, "m"))


def test_the_synthetic_opera_grid_is_the_real_one(shared_data_dir):
    path = _files(shared_data_dir, "odyssey")[0]
    grid = ProjectedGrid.from_dict(json.loads(open_radar(path).attrs["grid"]))
    assert grid.grid_id == OPERA_2KM.grid_id


def _independent_cell_means(path: str, box: Box, n: int) -> np.ndarray:
    """Mean of each IMERG cell by point sampling: ``n × n`` points per cell, each taking the
    value of the 2 km pixel it falls in (valid samples only; NaN where none is)."""
    da = open_radar(path)
    grid = ProjectedGrid.from_dict(json.loads(da.attrs["grid"]))
    frac = (np.arange(n) + 0.5) / n
    lat = (box.lat_edges[:-1, None] + np.diff(box.lat_edges)[:, None] * frac).ravel()
    lon = (box.lon_edges[:-1, None] + np.diff(box.lon_edges)[:, None] * frac).ravel()
    lon2, lat2 = np.meshgrid(lon, lat)
    x, y = Transformer.from_crs("EPSG:4326", grid.crs, always_xy=True).transform(lon2, lat2)
    cols = np.floor((x - grid.x_min) / grid.dx).astype(int)
    rows = np.floor((grid.y_max - y) / grid.dy).astype(int)
    values = da.values[rows, cols].reshape(box.shape[0], n, box.shape[1], n)
    weights = np.cos(np.radians(lat2)).reshape(values.shape)
    valid = np.isfinite(values)
    total = np.where(valid, values * weights, 0).sum(axis=(1, 3))
    with np.errstate(invalid="ignore"):
        return total / np.where(valid, weights, 0).sum(axis=(1, 3))


def test_real_rates_are_paired_with_trapezoid_weights(opera, tmp_path):
    _, paths, inventory = opera
    result = colocate_radar(inventory, BOX, cache_dir=tmp_path / "weights", execution=SEQUENTIAL)
    ds = result.dataset
    assert [b.outcome for b in result.bad_frames if b.outcome == "skipped"] == []
    assert (ds.attrs["frame_kind"], ds.attrs["frame_minutes"]) == ("rate", 15)
    first = np.datetime64(inventory["nominal_time"].iloc[0], "ns")
    # The first snapshot closes the half hour before it and opens its own; the second is
    # the middle of that one: 1 and 2 of the 3 snapshots a half hour needs, both reported.
    np.testing.assert_array_equal(ds.time.values, [first - np.timedelta64(30, "m"), first])
    np.testing.assert_array_equal(ds.n_frames.values, [1, 2])
    assert result.short_half_hours()["n_frames"].tolist() == [1, 2]

    alone = [
        colocate_radar(
            inventory.iloc[[i]],
            BOX,
            cache_dir=tmp_path / "weights",
            execution=SEQUENTIAL,
            config=ColocationConfig(block_half_hours=1),
        )
        .dataset.rain.sel(time=first)
        .values
        for i in (0, 1)
    ]
    both = np.isfinite(alone[0]) & np.isfinite(alone[1])
    assert both.sum() > 0.5 * both.size
    # The half hour of the first snapshot: weight 1/4 for it, 1/2 for the second.
    expected = (alone[0] + 2 * alone[1]) / 3
    np.testing.assert_allclose(ds.rain.sel(time=first).values[both], expected[both], rtol=1e-5)
    np.testing.assert_allclose(ds.rain.values[0], alone[0], rtol=1e-6)  # closing snapshot alone
    np.testing.assert_allclose(ds.valid_fraction.sel(time=first).values[both], 0.75, atol=1e-6)

    # Regridding against an independent point-sampling reference of the first snapshot
    # (48 × 48 points per cell): domain means within 2e-4 mm/h, cell RMSE within 2 % of the
    # field's spread (measured on ODYSSEY 18:00: 8e-6 mm/h and 0.5 %).
    reference = _independent_cell_means(paths[0], BOX, n=48)
    ok = np.isfinite(reference) & np.isfinite(alone[0]) & (ds.valid_fraction.values[0] > 0.24)
    assert ok.sum() > 0.5 * ok.size
    assert abs(np.mean(alone[0][ok]) - np.mean(reference[ok])) < 2e-4
    rmse = np.sqrt(np.mean((alone[0][ok] - reference[ok]) ** 2))
    assert rmse < 0.02 * np.std(reference[ok]), (rmse, np.std(reference[ok]))


@pytest.mark.parametrize("block_half_hours", [1, 2, 48])
def test_real_rates_do_not_depend_on_the_block_size(opera, tmp_path, block_half_hours):
    _, _, inventory = opera
    runs = [
        colocate_radar(
            inventory,
            BOX,
            cache_dir=tmp_path / "weights",
            execution=SEQUENTIAL,
            config=ColocationConfig(block_half_hours=size),
        ).dataset
        for size in (block_half_hours, 48)
    ]
    assert runs[0].identical(runs[1])
    assert FrameModel("rate", 15).frames_per_half_hour == runs[0].attrs["frames_per_half_hour"]
