"""The U-Net recipe: the Optuna objective, the final fit, artefacts and predictions."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
import torch
import xarray as xr

from rainscore.analysis.local_error import local_error_maps
from rainscore.analysis.sources import RadarSideInputError
from rainscore.grids import Box
from rainscore.models import (
    INPUT_CHANNELS,
    NormStats,
    SplitConfig,
    TrainConfig,
    UNetConfig,
    UNetData,
    UNetRecipe,
    best_trial_model,
    imerg_cube_path,
    make_split,
    predict_unet_maps,
    predict_unet_scores,
    store_path,
    train_unet,
    unet_artefact,
    unet_from_artefact,
    unet_objective,
)
from rainscore.models.tuning import Dimension, open_study
from rainscore.stores import open_store, write_store
from rainscore.testing import fake_imerg_cube, fake_map_scores, fake_pairs

torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
BOX = Box(lat_min=45.0, lat_max=46.0, lon_min=1.0, lon_max=2.5)  # 10 x 15 cells
N_TIMES = 30
SPACE = {
    "width": Dimension(type="categorical", choices=(4, 8)),
    "learning_rate": Dimension(type="log", low=1e-3, high=1e-2),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> UNetData:
    """A 15-hour cube, its local error maps and scores, split in 1-hour blocks."""
    root = tmp_path_factory.mktemp("stores")
    write_store(root / "cube.zarr", fake_imerg_cube(N_TIMES, box=BOX, seed=4))
    pairs = fake_pairs(N_TIMES, box=BOX, seed=4)
    write_store(root / "errors.zarr", local_error_maps(pairs, threshold=0.5, window=9))
    scores = fake_map_scores(N_TIMES, box=BOX, seed=4)["fss_t0.5_w9"]
    split = make_split(pd.DatetimeIndex(scores.index), SplitConfig(block="1h", gap="0h"))
    return UNetData(root / "cube.zarr", root / "errors.zarr", scores, split)


def _recipe(**loop) -> UNetRecipe:
    return UNetRecipe(
        unet=UNetConfig(in_channels=len(INPUT_CHANNELS), depth=1, width=4),
        loop=TrainConfig(
            **{"epochs": 2, "batch_size": 4, "device": "cpu", "progress": False, **loop}
        ),
    )


@pytest.fixture(scope="module")
def norm(data) -> NormStats:
    return NormStats.fit(open_store(data.cube_path), data.times("train"))


def test_the_objective_under_a_fixed_trial_is_the_best_validation_loss(data, norm) -> None:
    objective = unet_objective(data, norm, _recipe(), SPACE)
    trial = optuna.trial.FixedTrial({"width": 8, "learning_rate": 5e-3})
    loss = objective(trial)
    # the same recipe trained directly: the same seed on the CPU gives the same run
    recipe = _recipe(learning_rate=5e-3).with_values({"width": 8})
    _, result = train_unet(data, norm, recipe)
    assert loss == pytest.approx(result.best_val_loss, rel=1e-6)
    assert np.isfinite(loss) and loss > 0
    assert trial.user_attrs["best_epoch"] == result.best_epoch
    assert result.best_epoch in (1, 2)


def test_the_objective_refuses_a_space_outside_the_tunable_names(data, norm) -> None:
    with pytest.raises(ValueError, match=r"\['epochs'\] cannot be tuned"):
        unet_objective(data, norm, _recipe(), {"epochs": Dimension(type="int", low=1, high=3)})


def test_recipe_values_replace_the_right_configs() -> None:
    recipe = _recipe().with_values({"width": 8, "dropout": 0.1, "learning_rate": 0.01})
    assert (recipe.unet.width, recipe.unet.dropout) == (8, 0.1)
    assert recipe.loop.learning_rate == 0.01 and recipe.loop.epochs == 2
    assert recipe.with_values({"score_weight": 3.0}).score_weight == 3.0
    assert recipe.for_epochs(7).loop.epochs == 7
    with pytest.raises(ValueError, match=r"\['in_channels'\] cannot be tuned"):
        recipe.with_values({"in_channels": 3})
    with pytest.raises(ValueError, match=r"unet\.in_channels is 3"):
        UNetRecipe(unet=UNetConfig(in_channels=3), loop=TrainConfig())


def test_a_final_fit_without_validation_trains_every_epoch(data, norm) -> None:
    _, result = train_unet(
        data, norm, _recipe().for_epochs(3), train_splits=("train", "validation"), validation=None
    )
    assert [h["epoch"] for h in result.history] == [1, 2, 3] and result.best_epoch == 3


def test_an_artefact_gives_back_the_same_predictions(data, norm) -> None:
    model, _ = train_unet(data, norm, _recipe())
    times = data.times("test")
    scores = predict_unet_scores(model, data, times, norm, _recipe().loop)
    maps = predict_unet_maps(model, data, times, norm, _recipe().loop)
    assert scores.shape == (len(times),) and maps.shape == (len(times), 10, 15)
    artefact = unet_artefact(model, norm, training={"epochs": 2})
    assert artefact.metadata["input_channels"] == list(INPUT_CHANNELS)
    again, again_norm, conformal = unet_from_artefact(artefact)
    assert again_norm == norm and conformal is None
    np.testing.assert_array_equal(
        predict_unet_scores(again, data, times, norm, _recipe().loop), scores
    )
    # in item order, whatever the loader's batches
    one = predict_unet_scores(model, data, times[::-1], norm, _recipe(batch_size=1).loop)
    np.testing.assert_allclose(one[::-1], scores, rtol=1e-5, atol=1e-6)


def test_store_path_needs_a_store_on_disk(data) -> None:
    assert store_path(open_store(data.cube_path), "imerg_cube") == data.cube_path
    with pytest.raises(ValueError, match="imerg_cube must be a Zarr store opened from disk"):
        store_path(xr.Dataset(), "imerg_cube")


def test_the_objective_keeps_the_best_trials_model(data, norm, tmp_path) -> None:
    study = open_study(tmp_path / "journal.log", "unet", seed=2)
    best_dir = tmp_path / "unet-best"
    kept = []

    def objective(trial: optuna.Trial) -> float:
        value = unet_objective(data, norm, _recipe(), SPACE, best_model_dir=best_dir)(trial)
        kept.append(best_trial_model(best_dir, "unet", trial.number) is not None)
        return value

    study.optimize(objective, n_trials=3)
    values = [t.value for t in study.trials]
    # a trial writes its model exactly when it beats every earlier trial
    assert kept == [v < min(values[:i], default=np.inf) for i, v in enumerate(values)]
    best = study.best_trial
    artefact = best_trial_model(best_dir, "unet", best.number)
    assert artefact is not None
    assert artefact.metadata["training"]["params"] == best.params
    assert artefact.metadata["training"]["epochs"] == best.user_attrs["best_epoch"]
    # the kept model is the best trial's: trained again, it gives the same weights
    model, result = train_unet(data, norm, _recipe().with_values(best.params))
    assert result.best_val_loss == pytest.approx(best.value, rel=1e-6)
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(artefact.state[name], tensor.cpu())
    assert best_trial_model(best_dir, "unet", best.number + 1) is None
    assert best_trial_model(best_dir, "other", best.number) is None
    assert best_trial_model(tmp_path / "none", "unet", best.number) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.log", "unet-best"]


def test_the_imerg_cube_is_checked(data, tmp_path) -> None:
    assert imerg_cube_path(open_store(data.cube_path)) == data.cube_path
    pairs = fake_pairs(2, box=BOX, seed=1)
    with pytest.raises(
        RadarSideInputError, match=r"radar-side variables \['radar', 'valid_fraction'"
    ):
        imerg_cube_path(pairs)
    with pytest.raises(KeyError, match=r"imerg_cube has no \['mw_source'\]"):
        imerg_cube_path(open_store(data.cube_path).drop_vars("mw_source"))
