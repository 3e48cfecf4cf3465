"""The training pipeline on the factories' cube, local error maps and score table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.runner import SequentialRunner

from rainscore.analysis import local_error_blocks
from rainscore.analysis.sources import RadarSideInputError
from rainscore.grids import Box
from rainscore.models import SPLITS, ModelArtefact, load_artefact
from rainscore.models.intervals import conformal_quantile
from rainscore.param_sections import ParameterError
from rainscore.pipeline_registry import register_pipelines
from rainscore.testing import fake_imerg_cube, fake_map_scores, fake_pairs

N_TIMES = 96  # 48 h: 16 blocks of 3 h (enough training maps for the GBM to split)
BASELINES = [
    "climatology",
    "covariate:ir_influence_mean",
    "covariate:quality_index_mean",
    "covariate:pmw_age_mean",
    "gradient_boosting",
]


def _tiny_training(params: dict) -> None:
    training = params["training"]
    training["split"] = {"block": "3h", "gap": "30min"}
    training["loop"].update({"epochs": 2, "batch_size": 4, "progress": False, "device": "cpu"})
    training["tuning"].update(
        {
            "n_trials": 2,
            "space": {
                "width": {"type": "categorical", "choices": [4, 8]},
                "learning_rate": {"type": "log", "low": 1e-3, "high": 1e-2},
            },
        }
    )
    training["unet"].update({"depth": 2, "width": 4})


@pytest.fixture(scope="module")
def trained(module_project, tiny_box):
    """The factories' inputs saved through the catalog, then the training pipeline run."""
    torch.set_num_threads(1)
    box = Box.from_dict(tiny_box)
    _tiny_training(module_project.params)
    catalog = module_project.catalog()
    catalog.save("imerg_cube", fake_imerg_cube(N_TIMES, box=box, seed=1))
    pairs = fake_pairs(N_TIMES, box=box, seed=1)
    catalog.save(
        "local_error_maps",
        local_error_blocks(pairs, threshold=0.5, window=9, attrs={"target_score": "fss_t0.5_w9"}),
    )
    catalog.save("map_scores", fake_map_scores(N_TIMES, box=box, seed=1))
    return module_project.run("training")


def test_every_output_is_written(trained, module_project) -> None:
    root = module_project.root / "data"
    for path in (
        "05_model_input/training_split.parquet",
        "06_models/unet_best_params.json",
        "06_models/unet_model",
        "07_model_output/unet_predictions.parquet",
        "07_model_output/baseline_predictions.parquet",
        "08_reporting/model_evaluation.parquet",
        "08_reporting/training/predicted_vs_actual.png",
    ):
        assert len(list((root / path).iterdir())) == 1, path  # one version
    assert (root / "06_models/unet_study/journal.log").is_file()
    assert (root / "06_models/unet_study/unet-best/weights.safetensors").is_file()


def test_the_split_covers_every_map_with_every_split(trained) -> None:
    split = trained.load("training_split")
    assert list(split.columns) == ["time", "block", "split"]
    assert len(split) == N_TIMES
    assert set(SPLITS) <= set(split["split"])


def test_the_model_is_tuned_trained_and_calibrated(trained, module_project) -> None:
    best = trained.load("unet_best_params")
    assert best["n_trials"] == 2 and set(best["params"]) == {"width", "learning_rate"}
    assert best["best_epoch"] in (1, 2)
    model = trained.load("unet_model")
    assert isinstance(model, ModelArtefact) and model.kind == "unet"
    assert model.config["width"] == best["params"]["width"]
    assert model.metadata["conformal"]["coverage"] == 0.8
    assert model.metadata["training"]["splits"] == ["train", "validation"]
    assert model.metadata["training"]["epochs"] == best["best_epoch"]
    # the holdout model is the best trial's own, kept by tune_unet (not trained again)
    holdout = load_artefact(module_project.root / "data/06_models/unet_study/unet-best")
    assert holdout.metadata["training"]["trial"] == best["best_trial"]


def test_predictions_cover_every_map_with_an_interval(trained) -> None:
    predictions = trained.load("unet_predictions")
    assert list(predictions.columns) == ["time", "split", "actual", "predicted", "lower", "upper"]
    assert len(predictions) == N_TIMES
    assert np.isfinite(predictions["predicted"]).all()
    # The target (fss_t0.5_w9) lies in [0, 1]: estimates and intervals are clipped to it,
    # and symmetric where the range does not cut them.
    values = predictions[["predicted", "lower", "upper"]].to_numpy()
    assert ((values >= 0) & (values <= 1)).all()
    inside = (predictions["lower"] > 0) & (predictions["upper"] < 1)
    np.testing.assert_allclose(
        (predictions["upper"] - predictions["predicted"])[inside],
        (predictions["predicted"] - predictions["lower"])[inside],
    )
    split = trained.load("training_split")
    pd.testing.assert_series_equal(predictions["split"], split["split"], check_names=False)


def test_the_evaluation_holds_every_baseline_and_the_unet(trained) -> None:
    evaluation = trained.load("model_evaluation").set_index("model")
    assert sorted(evaluation.index) == sorted([*BASELINES, "unet"])
    assert evaluation.loc["unet", "kind"] == "deep"
    n_test = evaluation["n_test"].astype(int)
    assert (n_test == n_test["unet"]).all() and n_test["unet"] > 0
    for column in ("r2", "mae", "coverage"):
        assert np.isfinite(evaluation[column].astype(float)).all(), column
    # a constant prediction (the climatology) has no rank correlation
    rho = evaluation["spearman"].astype(float)
    assert np.isnan(rho["climatology"]) and np.isfinite(rho.drop("climatology")).all()
    assert np.isfinite(evaluation.loc["unet", "pixel_skill"])
    assert evaluation["rank"].to_dict() == (
        rho.rank(ascending=False, method="min", na_option="bottom").astype(int).to_dict()
    )
    assert evaluation.loc["climatology", "rank"] == len(evaluation)
    best_baseline = evaluation.loc[BASELINES, "spearman"].astype(float).max()
    assert bool(evaluation.loc["unet", "beats_best_baseline"]) == (
        float(evaluation.loc["unet", "spearman"]) > best_baseline
    )
    assert not evaluation.loc[BASELINES, "beats_best_baseline"].any()


def test_baseline_predictions_cover_every_map_with_the_validation_calibrated_interval(
    trained,
) -> None:
    predictions = trained.load("baseline_predictions")
    assert list(predictions.columns) == [
        "time", "split", "model", "actual", "predicted", "lower", "upper"
    ]  # fmt: skip
    assert sorted(predictions["model"].unique()) == sorted(BASELINES)
    unet = trained.load("unet_predictions")
    for name, rows in predictions.groupby("model"):
        assert list(rows["time"]) == list(unet["time"]), name
        assert list(rows["split"]) == list(unet["split"]), name
        np.testing.assert_array_equal(rows["actual"], unet["actual"])
        # the half-width is the conformal quantile of the validation residuals
        validation = rows[(rows["split"] == "validation") & rows["actual"].notna()]
        quantile = conformal_quantile((validation["actual"] - validation["predicted"]).abs(), 0.8)
        test = rows[(rows["split"] == "test") & (rows["lower"] > 0) & (rows["upper"] < 1)]
        np.testing.assert_allclose(test["upper"] - test["predicted"], quantile, err_msg=name)
    # the test rows give the evaluation's metrics
    evaluation = trained.load("model_evaluation").set_index("model")
    test = predictions[(predictions["split"] == "test") & predictions["actual"].notna()]
    mae = (test["predicted"] - test["actual"]).abs().groupby(test["model"]).mean()
    np.testing.assert_allclose(mae[BASELINES], evaluation.loc[BASELINES, "mae"].astype(float))


def test_radar_side_baseline_inputs_are_refused(trained, module_project) -> None:
    module_project.params["training"]["baselines"] = {"features": ["convective_fraction"]}
    try:
        catalog = module_project.catalog()
        catalog["unet_pixel_skill"] = 0.1  # the in-memory output of predict_unet
        pipeline = register_pipelines()["training"].only_nodes("evaluation.evaluate_models")
        with pytest.raises(ParameterError, match=r"'convective_fraction' \(radar\)"):
            SequentialRunner().run(pipeline, catalog)
    finally:
        module_project.params["training"].pop("baselines")


def test_a_radar_dataset_as_the_imerg_cube_is_refused(trained, module_project) -> None:
    catalog = module_project.catalog()
    pairs = fake_pairs(4, box=Box.from_dict(module_project.params["box"]), seed=2)
    catalog["imerg_cube"] = pairs
    pipeline = register_pipelines()["training"].only_nodes("training.tune_unet")
    with pytest.raises(RadarSideInputError, match=r"radar-side variables \['radar', 'valid"):
        SequentialRunner().run(pipeline, catalog)
