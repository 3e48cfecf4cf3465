"""Same config and seed, same files; rewriting a world leaves no stale file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import xarray as xr

from rainscore.synthetic import SyntheticWorld, WorldConfig

TINY = {
    "start": "2024-06-10T12:00",
    "days": 0.125,
    "seed": 4,
    "spinup_hours": 1.0,
    "box": {"lat_min": 45.0, "lat_max": 46.0, "lon_min": 2.0, "lon_max": 3.0},
    "regimes": {"initial": "scattered_convection"},
}


def _write(root, **changes):
    config = WorldConfig.from_dict({**TINY, **changes})
    return SyntheticWorld(config).write(root, progress=False)


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    return a, _write(a), b, _write(b)


def test_same_seed_gives_the_same_bytes(twice):
    a, manifest_a, b, manifest_b = twice
    assert manifest_a.drop(columns="bytes").equals(manifest_b.drop(columns="bytes"))
    files = manifest_a.query("kind in ('radar', 'imerg', 'world')")["path"]
    assert len(files) == 36 + 6 + 1
    for path in files:
        assert (a / path).read_bytes() == (b / path).read_bytes(), path
    truth_a = xr.load_dataset(a / "truth" / "truth.nc", engine="h5netcdf")
    truth_b = xr.load_dataset(b / "truth" / "truth.nc", engine="h5netcdf")
    xr.testing.assert_identical(truth_a, truth_b)
    assert float(truth_a["rain"].max()) > 0


def test_another_seed_gives_another_world(twice, tmp_path):
    a, manifest, _, _ = twice
    _write(tmp_path, seed=5)
    path = manifest.query("kind == 'radar'")["path"].iloc[-1]
    with h5py.File(a / path) as fa, h5py.File(tmp_path / path) as fb:
        assert not np.array_equal(fa["dataset1/data1/data"][...], fb["dataset1/data1/data"][...])


def test_truth_frames_are_reproducible():
    world = SyntheticWorld(WorldConfig.from_dict(TINY))
    first = [f.rate for _, f in zip(range(3), world.truth_frames(), strict=False)]
    again = [f.rate for _, f in zip(range(3), world.truth_frames(), strict=False)]
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)


def test_rewriting_a_world_removes_its_old_files(tmp_path):
    _write(tmp_path, days=0.125)
    (tmp_path / "notes.txt").write_text("kept")
    manifest = _write(tmp_path, days=1 / 48, imerg_run="early")
    radar = sorted(p.name for p in (tmp_path / "radar").rglob("*.h5"))
    imerg = sorted(p.name for p in (tmp_path / "imerg").rglob("3B-*"))
    assert len(radar) == 6 and len(imerg) == 1
    assert imerg == ["3B-HHR-E.MS.MRG.3IMERG.20240610-S120000-E122959.0720.V07B.RT-H5"]
    assert (tmp_path / "notes.txt").read_text() == "kept"
    assert set(manifest["kind"]) == {"radar", "imerg", "truth", "world"}
    with h5py.File(tmp_path / manifest.query("kind == 'imerg'")["path"].iloc[0]) as f:
        assert b"AlgorithmID=3IMERGHHE;" in f.attrs["FileHeader"]
        assert b"DOI=10.5067/GPM/IMERG/3B-HH-E/07;" in f.attrs["FileHeader"]
