"""The radar inventory: statuses, duplicates, reuse of a previous inventory."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest

from rainscore.execution import ExecutorConfig
from rainscore.grids import METEOFRANCE_1KM, METEOFRANCE_500M
from rainscore.ingest import IngestionConfig, build_radar_inventory
from rainscore.synthetic.radar_file import write_radar_file
from rainscore.testing import corrupt_hdf5_chunks

CONFIG = IngestionConfig()
SEQUENTIAL = ExecutorConfig(executor="sequential", progress=False)


def _write(path, grid, end: str, minutes: int = 5) -> str:
    """A small Météo-France mosaic window; ``minutes`` != 5 rewrites its start time."""
    window = grid.window(slice(400, 410), slice(500, 512))
    write_radar_file(path, np.zeros(window.shape, dtype=np.uint16), window, np.datetime64(end))
    if minutes != 5:
        start = pd.Timestamp(end) - pd.Timedelta(minutes=minutes)
        with h5py.File(path, "r+") as f:
            f["dataset1/what"].attrs["startdate"] = np.bytes_(start.strftime("%Y%m%d"))
            f["dataset1/what"].attrs["starttime"] = np.bytes_(start.strftime("%H%M%S"))
    return str(path)


def test_statuses_and_duplicates_among_usable_files_only(tmp_path) -> None:
    a = _write(tmp_path / "a_500m.h5", METEOFRANCE_500M, "2024-06-10T00:05")
    b = _write(tmp_path / "b_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    c = _write(tmp_path / "c_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:10")
    d = _write(tmp_path / "d_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:10")
    e = _write(tmp_path / "e_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:15")
    f = _write(tmp_path / "f_1km_hourly.h5", METEOFRANCE_1KM, "2024-06-10T00:15", minutes=60)
    g = tmp_path / "g_empty.h5"
    g.write_bytes(b"")
    inv = build_radar_inventory(
        [a, b, c, d, e, f, str(g)], config=CONFIG, execution=SEQUENTIAL
    ).set_index("path")
    assert inv.loc[a, "status"] == "wrong_grid"
    assert inv.loc[b, "status"] == "ok"  # not pushed out by the 500 m file at the same time
    assert inv.loc[c, "status"] == "ok"
    assert inv.loc[d, "status"] == "duplicate"
    assert "a second file for end time" in inv.loc[d, "problem"]
    assert inv.loc[e, "status"] == "ok"
    assert inv.loc[f, "status"] == "wrong_accumulation"
    assert inv.loc[str(g), "status"] == "bad"
    assert str(g) in inv.loc[str(g), "problem"]


def test_unchanged_files_are_reused_from_the_previous_inventory(tmp_path, monkeypatch) -> None:
    paths = [
        _write(tmp_path / f"f{i}.h5", METEOFRANCE_1KM, f"2024-06-10T00:{5 * (i + 1):02d}")
        for i in range(3)
    ]
    first = build_radar_inventory(paths, config=CONFIG, execution=SEQUENTIAL)
    calls: list[str] = []
    import rainscore.ingest.radar_inventory as module

    real = module.radar_metadata
    monkeypatch.setattr(module, "radar_metadata", lambda p: calls.append(p) or real(p))
    new = _write(tmp_path / "f3.h5", METEOFRANCE_1KM, "2024-06-10T00:20")
    second = build_radar_inventory(
        [*paths, new], config=CONFIG, execution=SEQUENTIAL, previous=first
    )
    assert calls == [new]
    assert list(second["status"]) == ["ok"] * 4


def test_strict_mode_raises_on_a_problem(tmp_path) -> None:
    a = _write(tmp_path / "a.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    b = _write(tmp_path / "b.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    strict = IngestionConfig(strict=True)
    with pytest.raises(ValueError, match="a second file for end time"):
        build_radar_inventory([a, b], config=strict, execution=SEQUENTIAL)


def test_a_corrupt_duplicate_that_sorts_first_does_not_push_out_the_good_file(tmp_path) -> None:
    corrupt = _write(tmp_path / "a_corrupt.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    good = _write(tmp_path / "b_good.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    corrupt_hdf5_chunks(corrupt)
    inv = build_radar_inventory([corrupt, good], config=CONFIG, execution=SEQUENTIAL).set_index(
        "path"
    )
    assert inv.loc[good, "status"] == "ok"
    assert inv.loc[corrupt, "status"] == "bad"
    assert inv.loc[corrupt, "reason"] == "corrupt_data"
    assert good in inv.loc[corrupt, "problem"]  # names the file used instead


def test_readable_duplicates_keep_the_first_and_name_both(tmp_path) -> None:
    first = _write(tmp_path / "a.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    second = _write(tmp_path / "b.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    inv = build_radar_inventory([second, first], config=CONFIG, execution=SEQUENTIAL).set_index(
        "path"
    )
    assert inv.loc[first, "status"] == "ok"
    assert inv.loc[second, "status"] == "duplicate"
    assert inv.loc[second, "reason"] == "duplicate"
    assert second in inv.loc[second, "problem"]
    assert f"{first} is used" in inv.loc[second, "problem"]


def test_every_unusable_row_has_a_reason_code(tmp_path) -> None:
    a = _write(tmp_path / "a_500m.h5", METEOFRANCE_500M, "2024-06-10T00:05")
    b = _write(tmp_path / "b_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:05")
    c = _write(tmp_path / "c_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:10")
    d = _write(tmp_path / "d_1km.h5", METEOFRANCE_1KM, "2024-06-10T00:10")
    f = _write(tmp_path / "f_1km_hourly.h5", METEOFRANCE_1KM, "2024-06-10T00:15", minutes=60)
    g = tmp_path / "g_empty.h5"
    g.write_bytes(b"")
    inv = build_radar_inventory(
        [a, b, c, d, f, str(g)], config=CONFIG, execution=SEQUENTIAL
    ).set_index("path")
    assert inv.loc[[a, d, f, str(g)], "reason"].tolist() == [
        "wrong_grid",
        "duplicate",
        "wrong_accumulation",
        "empty",
    ]
    assert inv.loc[[b, c], "reason"].isna().all()
