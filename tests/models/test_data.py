"""Model inputs: channels, normalisation from train only, padding, the lazy dataset."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.data import DataLoader

from rainscore.analysis.local_error import local_error_maps
from rainscore.io import IMERG_VARIABLES
from rainscore.models.data import (
    CUBE_VARIABLES,
    INPUT_CHANNELS,
    MapDataset,
    NormStats,
    input_channels,
    pad_to_multiple,
)
from rainscore.models.split import SplitConfig, make_split, split_times
from rainscore.stores import open_store, write_store
from rainscore.testing import fake_imerg_cube, fake_pairs

torch.set_num_threads(1)
N_TIMES = 6


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """An IMERG cube and its local error maps written as stores (6 half hours)."""
    root = tmp_path_factory.mktemp("stores")
    cube = fake_imerg_cube(N_TIMES, seed=3)
    cube["pmw_age_forward"][0, :5, :5] = np.nan  # an unknown age
    write_store(root / "cube.zarr", cube)
    errors = local_error_maps(fake_pairs(N_TIMES, seed=3), threshold=0.5, window=9)
    write_store(root / "errors.zarr", errors)
    return cube, errors, root / "cube.zarr", root / "errors.zarr"


def test_input_channels_log1p_and_pmw_present() -> None:
    maps = {
        "precipitation": np.array([[0.0, np.e - 1]], np.float32),
        "quality_index": np.array([[0.5, 0.9]], np.float32),
        "ir_influence": np.array([[10.0, 0.0]], np.float32),
        "pmw_age_forward": np.array([[np.nan, 0.0]], np.float32),
        "pmw_age_backward": np.array([[30.0, 0.0]], np.float32),
        "mw_source": np.array([[0.0, 7.0]], np.float32),
    }
    x = input_channels(maps)
    assert x.shape == (6, 1, 2) and x.dtype == np.float32
    np.testing.assert_allclose(x[0], [[0.0, 1.0]], rtol=1e-6)  # log1p
    np.testing.assert_array_equal(x[5], [[0.0, 1.0]])  # mw_source > 0
    maps["mw_source"] = np.array([[np.nan, 0.0]], np.float32)
    assert np.isnan(input_channels(maps)[5, 0, 0])  # missing source: unknown, not absent
    del maps["mw_source"]
    with pytest.raises(KeyError, match="mw_source"):
        input_channels(maps)


def test_norm_stats_from_train_times_only(stores) -> None:
    cube, _, _, _ = stores
    train = pd.DatetimeIndex(cube.time.values[:3])
    stats = NormStats.fit(cube, train, block_size=2)
    raw = input_channels({k: cube[k].values[:3] for k in cube.data_vars})
    flat = raw.reshape(6, -1).astype(np.float64)
    np.testing.assert_allclose(stats.mean, np.nanmean(flat, axis=1), rtol=1e-6)
    np.testing.assert_allclose(stats.std, np.nanstd(flat, axis=1), rtol=1e-5)
    assert stats.count[3] == np.isfinite(flat[3]).sum()
    # changing the other (validation) maps does not change the statistics
    changed = cube.copy(deep=True)
    changed["precipitation"][3:] = 1000.0
    assert NormStats.fit(changed, train, block_size=2) == stats
    # one block or many: the same statistics
    np.testing.assert_allclose(NormStats.fit(cube, train, block_size=100).mean, stats.mean)
    before = raw.copy()
    standardised = stats.apply(raw)
    np.testing.assert_array_equal(raw, before)  # the input is left as it is
    assert np.isfinite(standardised).all() and standardised.dtype == np.float32
    # JSON-safe
    assert NormStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats
    with pytest.raises(KeyError, match="not in the cube"):
        NormStats.fit(cube, pd.DatetimeIndex(["2030-01-01"]))


def test_pad_to_multiple() -> None:
    array = np.ones((2, 5, 6), np.float32)
    padded, valid = pad_to_multiple(array, 4)
    assert padded.shape == (2, 8, 8) and valid.shape == (8, 8)
    assert valid[:5, :6].all() and valid.sum() == 30
    assert padded[:, 5:].sum() == 0 and padded[:, :, 6:].sum() == 0
    same, valid = pad_to_multiple(array[:, :4, :4], 4)
    assert same.shape == (2, 4, 4) and valid.all()
    with pytest.raises(ValueError, match="multiple must be >= 1, got 0"):
        pad_to_multiple(array, 0)


def _dataset(stores, times=None, **kwargs) -> MapDataset:
    cube, _, cube_path, _ = stores
    times = pd.DatetimeIndex(cube.time.values) if times is None else times
    norm = NormStats.fit(cube, pd.DatetimeIndex(cube.time.values[:3]))
    return MapDataset(cube_path, times, norm, 16, **kwargs)


def test_map_dataset_items(stores) -> None:
    cube, errors, _, errors_path = stores
    times = pd.DatetimeIndex(cube.time.values)
    scores = pd.Series([0.5, np.nan, 0.1, 0.2, np.nan, 0.9], index=times, name="fss_t0.5_w9")
    dataset = _dataset(stores, times[::-1], local_error_path=errors_path, scores=scores)
    assert len(dataset) == N_TIMES and dataset.n_undefined == 2
    item = dataset[1]  # time index 4 (reversed)
    shapes = {k: (tuple(v.shape), v.dtype) for k, v in item.items()}
    assert shapes == {
        "x": ((6, 80, 112), torch.float32),
        "valid": ((1, 80, 112), torch.bool),
        "index": ((), torch.int64),
        "pixel_target": ((1, 80, 112), torch.float32),
        "pixel_mask": ((1, 80, 112), torch.bool),
        "score": ((), torch.float32),
        "score_mask": ((), torch.bool),
    }
    assert int(item["index"]) == 1
    assert not item["score_mask"] and float(item["score"]) == 0.0  # undefined: masked, 0
    assert bool(dataset[0]["score_mask"]) and float(dataset[0]["score"]) == pytest.approx(0.9)
    valid = item["valid"][0]
    assert valid[:72, :104].all() and valid.sum() == 72 * 104
    x = item["x"].numpy()
    assert np.isfinite(x).all() and (x[:, 72:] == 0).all() and (x[:, :, 104:] == 0).all()
    expected = np.log1p(cube.precipitation.values[4])
    stats = dataset.norm
    np.testing.assert_allclose(
        x[0, :72, :104], (expected - stats.mean[0]) / stats.std[0], rtol=1e-5, atol=1e-6
    )
    target = errors.local_fraction_error.values[4]
    mask = errors.mask.values[4] & np.isfinite(target)
    pixel_mask = item["pixel_mask"][0].numpy()
    np.testing.assert_array_equal(pixel_mask[:72, :104], mask)
    assert not pixel_mask[72:].any() and not pixel_mask[:, 104:].any()
    pixel_target = item["pixel_target"][0].numpy()
    np.testing.assert_array_equal(pixel_target[:72, :104][mask], target[mask])
    assert (pixel_target[:72, :104][~mask] == 0).all()


def test_map_dataset_nan_input_is_zero_after_normalisation(stores) -> None:
    item = _dataset(stores)[0]
    channel = INPUT_CHANNELS.index("pmw_age_forward")
    assert (item["x"][channel, :5, :5] == 0).all()  # the unknown age set in the fixture


def test_map_dataset_in_a_data_loader_with_workers(stores) -> None:
    dataset = _dataset(stores, scores=None)
    dataset[0]  # a reader opened in the parent process is not handed to the workers
    loader = DataLoader(dataset, batch_size=4, num_workers=2, shuffle=False)
    batches = list(loader)
    assert [tuple(b["x"].shape) for b in batches] == [(4, 6, 80, 112), (2, 6, 80, 112)]
    indices = torch.cat([b["index"] for b in batches]).tolist()
    assert indices == list(range(N_TIMES))
    single = torch.stack([dataset[i]["x"] for i in range(N_TIMES)])
    torch.testing.assert_close(torch.cat([b["x"] for b in batches]), single)


def test_map_dataset_refuses_times_not_in_the_store(stores) -> None:
    with pytest.raises(KeyError, match="not in the IMERG cube store"):
        _dataset(stores, pd.DatetimeIndex(["2030-01-01"]))


def test_no_leakage_across_the_split(tmp_path) -> None:
    """Train statistics and train items are the same whatever the validation and test maps."""
    cube = fake_imerg_cube(12, seed=5, start="2024-06-10T00:00")
    config = SplitConfig(block="2h", gap="30min", pattern=("train", "validation", "test"))
    split = make_split(pd.DatetimeIndex(cube.time.values), config)
    assert split["split"].tolist() == ["train"] * 4 + (["gap"] + ["validation"] * 3) + (
        ["gap"] + ["test"] * 3
    )
    other = cube.copy(deep=True)
    for name in ("precipitation", "quality_index", "ir_influence"):
        other[name][4:] = 77.0  # every map after the training block changes
    train = split_times(split, "train")
    items = []
    for i, data in enumerate((cube, other)):
        write_store(tmp_path / f"cube{i}.zarr", data)
        norm = NormStats.fit(data, train)
        dataset = MapDataset(tmp_path / f"cube{i}.zarr", train, norm, 8)
        items.append((norm, torch.stack([dataset[k]["x"] for k in range(len(dataset))])))
    assert items[0][0] == items[1][0]
    assert NormStats.fit(open_store(tmp_path / "cube0.zarr"), train) == items[0][0]  # lazy
    torch.testing.assert_close(items[0][1], items[1][1], rtol=0, atol=0)
    expected = items[0][0].apply(input_channels({k: cube[k].values[:4] for k in cube.data_vars}))
    np.testing.assert_array_equal(items[0][1][:, :, :72, :104].numpy(), expected.swapaxes(0, 1))


def test_inputs_are_imerg_variables_only() -> None:
    """The channels are made of IMERG cube variables (and the PMW ages derived from them)."""
    imerg_side = set(IMERG_VARIABLES) | {"pmw_age_forward", "pmw_age_backward"}
    assert set(CUBE_VARIABLES) <= imerg_side
    assert len(INPUT_CHANNELS) == 6 and INPUT_CHANNELS[-1] == "pmw_present"


def test_norm_stats_of_constant_and_empty_channels() -> None:
    cube = fake_imerg_cube(2, seed=1)
    cube["mw_source"][:] = 0.0  # no PMW overpass: pmw_present is constant 0
    cube["pmw_age_forward"][:] = np.nan  # never seen: no finite age
    stats = NormStats.fit(cube, pd.DatetimeIndex(cube.time.values))
    present, age = INPUT_CHANNELS.index("pmw_present"), INPUT_CHANNELS.index("pmw_age_forward")
    assert (stats.mean[present], stats.std[present]) == (0.0, 1.0)
    assert (stats.mean[age], stats.std[age], stats.count[age]) == (0.0, 1.0, 0)
    with pytest.raises(ValueError, match="std must be finite and > 0"):
        NormStats.from_dict({**stats.to_dict(), "std": [0.0] * 6})
    with pytest.raises(ValueError, match="expected keys"):
        NormStats.from_dict({"mean": [0.0]})
