"""The on-disk cache of area weights, keyed by the grid's definition."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from rainscore.grids.regrid import AreaWeights, cache_path


def test_weights_are_computed_once_then_loaded(tmp_path, mf_grid, small_box, monkeypatch):
    first = AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    path = cache_path(mf_grid, small_box, tmp_path)
    assert path.exists()
    assert path.name == f"area-weights-{first.key}.npz"

    def no_build(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(AreaWeights, "build", classmethod(no_build))
    second = AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    assert (second.matrix != first.matrix).nnz == 0
    np.testing.assert_array_equal(second.pixels, first.pixels)
    assert second.source == mf_grid
    assert second.box == small_box


def test_a_shifted_grid_gets_another_file(tmp_path, mf_grid, small_box):
    AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    shifted = dataclasses.replace(mf_grid, x_min=mf_grid.x_min + 1000.0)
    AreaWeights.cached(shifted, small_box, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("area-weights-*.npz"))) == 2
    assert cache_path(shifted, small_box, tmp_path) != cache_path(mf_grid, small_box, tmp_path)
    # A renamed grid is the same grid.
    renamed = dataclasses.replace(mf_grid, name="another name")
    assert cache_path(renamed, small_box, tmp_path) == cache_path(mf_grid, small_box, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [b"not a zip archive at all", b"PK\x03\x04truncated"],
    ids=["garbage", "truncated-zip"],
)
def test_a_corrupt_cache_file_is_rebuilt(tmp_path, mf_grid, small_box, caplog, damage):
    good = AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    path = cache_path(mf_grid, small_box, tmp_path)
    path.write_bytes(damage)
    with caplog.at_level(logging.WARNING, logger="rainscore.grids.regrid"):
        rebuilt = AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    assert "Ignoring unreadable weights cache" in caplog.text
    assert (rebuilt.matrix != good.matrix).nnz == 0
    loaded = AreaWeights.load(path)  # and the file is good again
    np.testing.assert_array_equal(loaded.pixels, good.pixels)


def test_a_cache_file_of_an_older_format_is_rebuilt(tmp_path, mf_grid, small_box, caplog):
    path = cache_path(mf_grid, small_box, tmp_path)
    np.savez(path, meta=np.asarray('{"format_version": 1}'))
    with caplog.at_level(logging.WARNING, logger="rainscore.grids.regrid"):
        weights = AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path)
    assert "is stale" in caplog.text
    assert weights.pixels.size > 0
    assert AreaWeights.load(path).pixels.size == weights.pixels.size


def test_no_temporary_files_are_left(tmp_path, mf_grid, small_box):
    AreaWeights.cached(mf_grid, small_box, cache_dir=tmp_path / "new" / "folder")
    assert [p.name for p in (tmp_path / "new" / "folder").iterdir()] == [
        cache_path(mf_grid, small_box, tmp_path).name
    ]
