"""The pipeline registry: what `kedro run` and `--pipelines=...` find."""

from __future__ import annotations

from rainscore.pipeline_registry import register_pipelines


def test_pipelines_are_registered() -> None:
    pipelines = register_pipelines()
    assert {"demo", "ingestion", "colocation", "scoring", "training", "__default__"} <= set(
        pipelines
    )


def test_default_runs_everything_but_the_demo() -> None:
    pipelines = register_pipelines()
    default = {n.name for n in pipelines["__default__"].nodes}
    assert "demo.write_world" not in default
    for name in ("ingestion", "colocation", "scoring", "training"):
        assert {n.name for n in pipelines[name].nodes} <= default


def test_default_is_connected_from_raw_files_and_caches() -> None:
    inputs = register_pipelines()["__default__"].inputs()
    data_inputs = {i for i in inputs if not i.startswith("params:")}
    assert data_inputs == {
        "imerg_raw",
        "radar_raw",
        "imerg_cube_previous",
        "radar_inventory_previous",
        "radar_on_imerg_previous",  # a rerun colocates only the half hours after it
        "demo_truth_optional",
        "area_weights",
        "unet_study",  # the Optuna study's journal folder: a rerun adds trials
        "autoencoder_study",  # the same for the autoencoder
    }
