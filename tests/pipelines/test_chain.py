"""Ingestion → colocation → scoring on a tiny synthetic world, through the real catalog."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DatasetError
from kedro.runner import SequentialRunner

from rainscore.pipeline_registry import register_pipelines
from rainscore.pipelines.colocation.nodes import BAD_INPUTS_PATH
from rainscore.scores import parse_score_column
from rainscore.testing import corrupt_hdf5_chunks
from rainscore.validation import ValidationError


def test_ingestion_outputs(project) -> None:
    catalog = project.run("ingestion")
    cube = catalog.load("imerg_cube")
    assert cube["precipitation"].dims == ("time", "lat", "lon")
    assert cube.sizes == {"time": 12, "lat": 10, "lon": 15}
    assert cube["precipitation"].attrs["units"] == "mm/h"
    assert {"pmw_age_forward", "pmw_age_backward", "mw_source"} <= set(cube.data_vars)
    assert pd.Timestamp(cube.time.values[0]) == pd.Timestamp("2024-06-10T12:00")
    inventory = catalog.load("radar_inventory")
    assert len(inventory) == 72
    assert (inventory["status"] == "ok").all()
    assert inventory["end_time"].iloc[0] == pd.Timestamp("2024-06-10T12:05")
    report = catalog.load("ingestion_report")
    assert report["imerg"]["read"] == 12
    assert report["imerg"]["missing_times"] == []
    assert report["radar"]["ok"] == 72


def test_rerun_reads_only_new_files(project) -> None:
    project.run("ingestion")
    catalog = project.run("ingestion")
    report = catalog.load("ingestion_report")
    assert report["imerg"]["read"] == 0
    assert report["imerg"]["reused_from_previous_run"] == 12
    assert len(catalog.load("imerg_cube").time) == 12


def _snapshot(root) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def test_bad_files_are_reported_and_skipped(project, world_copy) -> None:
    imerg = sorted((world_copy / "imerg").rglob("3B-HHR*"))
    radar = sorted((world_copy / "radar").rglob("*.h5"))
    imerg[3].write_bytes(imerg[3].read_bytes()[:5000])  # truncated
    radar[10].write_bytes(b"")  # empty
    (radar[20].parent / "notes.h5").write_text("not hdf5")
    project.config["imerg_raw"]["path"] = str(world_copy / "imerg")
    project.config["radar_raw"]["path"] = str(world_copy / "radar")
    before = _snapshot(world_copy)
    catalog = project.run("ingestion")
    assert _snapshot(world_copy) == before  # raw folders are never written
    report = catalog.load("ingestion_report")
    skipped = {s["path"]: s for s in report["imerg"]["skipped"]}
    assert str(imerg[3]) in skipped
    assert str(imerg[3]) in skipped[str(imerg[3])]["problem"]
    # the lost half hour is a gap on the regular axis, NaN in the cube
    assert len(report["imerg"]["missing_times"]) == 1
    cube = catalog.load("imerg_cube")
    assert cube.sizes["time"] == 12
    assert int(cube["precipitation"].isel(time=3).notnull().sum()) == 0
    bad = {s["path"]: s["problem"] for s in report["radar"]["skipped"]}
    assert str(radar[10]) in bad
    assert "empty" in bad[str(radar[10])].lower()
    reasons = {s["path"]: s["reason"] for s in report["radar"]["skipped"]}
    assert reasons == {str(radar[10]): "empty", str(radar[20].parent / "notes.h5"): "unreadable"}
    assert str(radar[20].parent / "notes.h5") in bad
    assert report["radar"]["ok"] == 71


def test_strict_mode_stops_at_the_first_bad_file(project, world_copy) -> None:
    imerg = sorted((world_copy / "imerg").rglob("3B-HHR*"))
    imerg[5].write_bytes(b"")
    project.config["imerg_raw"]["path"] = str(world_copy / "imerg")
    project.config["radar_raw"]["path"] = str(world_copy / "radar")
    project.params["ingestion"]["strict"] = True
    # The granules are read as the imerg_cube store writes them: the reader's error comes
    # wrapped in the dataset's, naming the file; no version is written.
    with pytest.raises(DatasetError, match=imerg[5].name) as caught:
        project.run("ingestion")
    assert "imerg_cube" in str(caught.value)
    assert not list(Path(project.config["imerg_cube"]["filepath"]).glob("*/*.zarr"))


def test_colocation_and_scoring(project) -> None:
    project.run("ingestion")
    catalog = project.run("colocation")
    assert catalog.load("colocation_validation")["success"] is True
    pairs = catalog.load("colocated_pairs")
    assert set(pairs.sizes.items()) == {("time", 12), ("lat", 10), ("lon", 15)}
    for name in ("imerg", "radar", "mask", "valid_fraction", "n_frames", "quality_index"):
        assert name in pairs
    assert int(pairs["n_frames"].min()) == 6
    assert len(catalog.load("bad_inputs")) == 0  # good inputs: an empty report
    assert pairs["mask"].values.mean() > 0.5  # mostly covered by radar inland

    catalog = project.run("scoring")
    scores = catalog.load("map_scores")
    assert scores.index.name == "time"
    assert len(scores) == 12
    for column in ("fss_t1.0_w5", "csi_t1.0", "pearson", "sal_s", "pmw_age_mean", "true_regime"):
        assert column in scores
    local = catalog.load("local_error_maps")
    configured = project.catalog().load("params:target")["score"]
    assert local.attrs["target_score"] == configured
    target = parse_score_column(configured)
    assert (local.attrs["threshold"], local.attrs["window"]) == (target.threshold, target.window)
    assert local["local_fraction_error"].attrs["window"] == target.window
    finite = local["local_fraction_error"].values[np.isfinite(local["local_fraction_error"].values)]
    assert finite.min() >= -1.0
    assert finite.max() <= 1.0
    analysis = catalog.load("scoring_analysis")
    assert analysis["n_maps"] == 12
    assert "score" in analysis["recommendation"]
    assert catalog.load("map_scores_validation")["success"] is True


def test_misaligned_radar_stops_the_run_with_a_report(project) -> None:
    project.run("ingestion")
    catalog = project.catalog()
    pipeline = register_pipelines()["colocation"]
    SequentialRunner().run(pipeline.only_nodes("colocation.colocate"), catalog)
    radar = catalog.load("radar_on_imerg_unchecked")
    shifted = radar.assign_coords(lat=np.round(radar.lat.values + 0.05, 6))
    catalog["radar_on_imerg_unchecked"] = shifted  # a half-cell shift sneaks in
    with pytest.raises(ValidationError, match=r"lat_identical failed"):
        SequentialRunner().run(
            pipeline.only_nodes(
                "colocation.validate_colocation",
                "colocation.accept_radar_on_imerg",
                "colocation.pair_fields",
            ),
            catalog,
        )
    report = catalog.load("colocation_validation")
    assert report["success"] is False
    assert any(f["check"] == "lat_identical" for f in report["failures"])


def _wettest(paths: list) -> int:
    """Index of the radar file with the most wet pixels."""
    wet = []
    for path in paths:
        with h5py.File(path, "r") as h5:
            wet.append(int(np.count_nonzero(h5["dataset1/data1/data"][...] % 65535)))
    return int(np.argmax(wet))


def test_bad_inputs_of_every_stage_in_one_report(project, world_copy, caplog) -> None:
    imerg = sorted((world_copy / "imerg").rglob("3B-HHR*"))
    radar = sorted((world_copy / "radar").rglob("*.h5"))
    imerg[3].write_bytes(imerg[3].read_bytes()[:5000])  # truncated
    negative = radar[_wettest(radar)]
    with h5py.File(negative, "r+") as h5:
        h5["dataset1/what"].attrs["gain"] = -0.01
    corrupt = radar[0] if negative != radar[0] else radar[1]
    corrupt_hdf5_chunks(corrupt)
    project.config["imerg_raw"]["path"] = str(world_copy / "imerg")
    project.config["radar_raw"]["path"] = str(world_copy / "radar")
    project.run("ingestion")
    with caplog.at_level(logging.WARNING):
        catalog = project.run("colocation")
    report = catalog.load("bad_inputs").set_index("path")
    assert report.loc[str(imerg[3]), ["source", "stage", "outcome"]].tolist() == [
        "imerg",
        "ingestion",
        "skipped",
    ]
    assert report.loc[str(negative), ["stage", "reason", "outcome"]].tolist() == [
        "colocation",
        "negative_values",
        "skipped",
    ]
    assert report.loc[str(corrupt), ["stage", "reason"]].tolist() == ["colocation", "corrupt_data"]
    assert report["reason"].notna().all()
    # the half hour of the negative file is not scored: its frame is missing everywhere
    end = pd.Timestamp(re.search(r"(\d{12})", negative.name).group(1))
    half_hour = (end - pd.Timedelta(minutes=5)).floor("30min")
    pairs = catalog.load("colocated_pairs")
    assert int(pairs["mask"].sel(time=half_hour).sum()) == 0
    assert int(pairs["mask"].sum()) > 0
    warnings = [r.getMessage() for r in caplog.records if "bad_inputs report" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("3 file(s): ")
    assert BAD_INPUTS_PATH in warnings[0]


def test_the_console_names_the_catalog_path_of_the_report() -> None:
    conf = Path(__file__).resolve().parents[2] / "conf" / "base"
    catalog = yaml.safe_load((conf / "catalog.yml").read_text())
    assert catalog["bad_inputs"]["filepath"] == BAD_INPUTS_PATH
