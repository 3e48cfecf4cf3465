"""The synthetic world writes OPERA rate composites (demo parameter ``radar_product``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rainscore.colocate import FrameModel, colocate_radar
from rainscore.execution import ExecutorConfig
from rainscore.grids import Box, ProjectedGrid
from rainscore.grids.regrid import AreaWeights
from rainscore.ingest import IngestionConfig, build_radar_inventory
from rainscore.io import open_radar
from rainscore.synthetic import SyntheticWorld, WorldConfig
from rainscore.synthetic.config import RADAR_PRODUCTS
from rainscore.synthetic.opera_file import OPERA_PRODUCTS

BOX = {"lat_min": 45.0, "lat_max": 45.6, "lon_min": 1.0, "lon_max": 2.0}
SEQUENTIAL = ExecutorConfig(executor="sequential", progress=False)


def _world(tmp_path_factory, product: str):
    root = tmp_path_factory.mktemp(product)
    config = WorldConfig.from_dict(
        {
            "start": "2024-06-10T12:00",
            "days": 0.125,  # three hours
            "seed": 7,
            "box": BOX,
            "margin_km": 10,
            "radar_product": product,
        }
    )
    SyntheticWorld(config).write(root, progress=False)
    paths = sorted(str(p) for p in (root / "radar").rglob("*") if p.is_file())
    inventory = build_radar_inventory(paths, config=IngestionConfig(), execution=SEQUENTIAL)
    return paths, inventory


@pytest.fixture(scope="module")
def meteofrance(tmp_path_factory):
    return _world(tmp_path_factory, "meteofrance")


@pytest.fixture(scope="module", params=["odyssey", "nimbus"])
def opera(request, tmp_path_factory):
    return request.param, *_world(tmp_path_factory, request.param)


def test_opera_composites_every_fifteen_minutes(opera):
    product, paths, inventory = opera
    header = "PAAH21" if product == "odyssey" else "PAAH22"
    assert len(paths) == 12  # 12:15 ... 15:00
    assert all(f"T_{header}_C_EUOC_" in p for p in paths)
    assert (inventory["status"] == "ok").all(), inventory["problem"].tolist()
    assert FrameModel("rate", 15) == FrameModel("rate", int(inventory["frame_minutes"].iloc[0]))
    da = open_radar(paths[0])
    assert (da.attrs["quantity"], da.attrs["units"]) == ("RATE", "mm/h")
    assert da.attrs["nominal_time"] == "2024-06-10T12:15:00"
    window = (-10, 5) if product == "odyssey" else (0, 0)
    nominal = np.datetime64("2024-06-10T12:15")
    assert np.datetime64(da.attrs["start_time"]) == nominal + np.timedelta64(window[0], "m")
    assert np.datetime64(da.attrs["end_time"]) == nominal + np.timedelta64(window[1], "m")
    assert np.isfinite(da.values).any() and np.isnan(da.values).any()


def test_the_opera_world_is_the_trapezoid_of_its_radar_frames(opera, meteofrance, tmp_path):
    """The same truth and radar written as Météo-France 5-minute accumulations: the OPERA
    world's half hour T is the trapezoid (1/4, 1/2, 1/4) of the accumulations ending at T,
    T + 15 and T + 30 (regridded independently, from the 1 km files), up to the 2 km
    OPERA pixels' sampling of the 1 km field (each 2 km pixel averages four 1 km pixels)."""
    _, _, inventory = opera
    box = Box.from_dict(BOX)
    start, end = np.datetime64("2024-06-10T12:00"), np.datetime64("2024-06-10T15:00")
    rate = colocate_radar(
        inventory, box, cache_dir=tmp_path / "weights", execution=SEQUENTIAL, start=start, end=end
    ).dataset
    np.testing.assert_array_equal(rate.n_frames.values, [2, 3, 3, 3, 3, 3])  # no 12:00 file
    accumulations = {}
    for path in meteofrance[0]:
        da = open_radar(path)
        grid = ProjectedGrid.from_dict(json.loads(da.attrs["grid"]))
        mean, _ = AreaWeights.build(grid, box).regrid(da.values.astype(np.float64))
        accumulations[da["time"].values.astype("datetime64[m]")] = mean * 12.0  # mm/h
    quarter = np.timedelta64(15, "m")
    for k in range(1, 6):
        t = rate.time.values[k].astype("datetime64[m]")
        frames = [accumulations[t + j * quarter] for j in range(3)]
        expected = 0.25 * frames[0] + 0.5 * frames[1] + 0.25 * frames[2]
        got = rate.rain.values[k]
        ok = np.isfinite(got) & np.isfinite(expected)
        assert ok.mean() > 0.9
        # measured: box means within 2.5 % (light rain, 0.01 mm/h), correlation > 0.997
        assert abs(got[ok].mean() / expected[ok].mean() - 1) < 0.05, k
        assert np.corrcoef(got[ok], expected[ok])[0, 1] > 0.99, k


def test_the_radar_product_is_checked():
    assert set(RADAR_PRODUCTS) == {"meteofrance", *OPERA_PRODUCTS}
    with pytest.raises(ValueError, match=r"radar_product must be one of .* got 'opera'"):
        WorldConfig.from_dict({"radar_product": "opera"})
