"""The autoencoder: shapes, masked loss, training with the one loop, roles, artefacts."""

from __future__ import annotations

import pickle

import numpy as np
import optuna
import pandas as pd
import pytest
import torch

from rainscore.grids import Box
from rainscore.models import (
    INPUT_CHANNELS,
    NormStats,
    SplitConfig,
    TrainConfig,
    load_artefact,
    make_loader,
    make_split,
    save_artefact,
)
from rainscore.models.autoencoder import (
    Autoencoder,
    AutoencoderConfig,
    AutoencoderData,
    AutoencoderRecipe,
    autoencoder_artefact,
    autoencoder_from_artefact,
    autoencoder_loss_fn,
    autoencoder_objective,
    autoencoder_roles,
    embed,
    embed_maps,
    reconstruction_loss,
    train_autoencoder,
)
from rainscore.models.layers import ConvBlock, norm_layer
from rainscore.models.training import fit, seed_everything
from rainscore.models.tuning import Dimension
from rainscore.stores import open_store, write_store
from rainscore.testing import fake_imerg_cube

torch.set_num_threads(1)
optuna.logging.set_verbosity(optuna.logging.WARNING)
C = len(INPUT_CHANNELS)
BOX = Box(lat_min=45.0, lat_max=46.0, lon_min=1.0, lon_max=2.5)  # 10 x 15 cells


def _config(**kwargs) -> AutoencoderConfig:
    values = {"in_channels": C, "map_shape": (10, 15), "depth": 2, "width": 4, "latent_dim": 8}
    return AutoencoderConfig(**{**values, **kwargs})


def test_shapes_of_encode_decode_and_forward() -> None:
    seed_everything(0)
    model = Autoencoder(_config())
    assert model.config.padded_shape == (12, 16) and model.multiple == 4
    x = torch.randn(3, C, 12, 16)
    z = model.encode(x)
    assert z.shape == (3, 8)
    assert model.decode(z).shape == (3, C, 12, 16)
    reconstruction, latent = model(x)
    assert reconstruction.shape == x.shape
    torch.testing.assert_close(latent, z)


def test_a_map_of_another_shape_is_refused_naming_both_shapes() -> None:
    model = Autoencoder(_config())
    with pytest.raises(ValueError, match=r"\(N, 6, 12, 16\).*10 x 15.*got shape \(2, 6, 16, 16\)"):
        model.encode(torch.zeros(2, C, 16, 16))
    with pytest.raises(ValueError, match=r"decode needs \(N, 8\), got shape \(2, 7\)"):
        model.decode(torch.zeros(2, 7))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"in_channels": 6, "latent_dims": 8}, r"Unknown autoencoder parameters \['latent_dims'\]"),
        ({"depth": 2}, r"autoencoder.in_channels is required"),
        ({"in_channels": 6, "latent_dim": 0}, r"autoencoder.latent_dim must be a positive.*0"),
        ({"in_channels": 6, "norm": "layer"}, r"autoencoder.norm must be one of.*'layer'"),
        ({"in_channels": 6, "dropout": 1.0}, r"autoencoder.dropout must be in \[0, 1\), got 1.0"),
        ({"in_channels": 6, "map_shape": [10]}, r"autoencoder.map_shape must be two.*\(10,\)"),
    ],
)
def test_config_errors_name_the_parameter_and_value(params, message) -> None:
    with pytest.raises(ValueError, match=message):
        AutoencoderConfig.from_dict(params)


def test_config_errors_name_the_section_given() -> None:
    with pytest.raises(ValueError, match=r"representation.autoencoder.width must be"):
        AutoencoderConfig.from_dict(
            {"in_channels": 6, "width": -1}, section="representation.autoencoder"
        )


def test_a_model_needs_the_map_shape() -> None:
    config = AutoencoderConfig.from_dict({"in_channels": 6})
    with pytest.raises(ValueError, match="map_shape is not set"):
        Autoencoder(config)
    assert config.for_maps((10, 15)).padded_shape == (16, 16)  # depth 3: multiples of 8
    assert AutoencoderConfig.from_dict(_config().to_dict()) == _config()


def test_the_shared_blocks() -> None:
    assert norm_layer("group", 12).num_groups == 6  # the most groups up to 8 dividing 12
    assert isinstance(norm_layer("none", 4), torch.nn.Identity)
    with pytest.raises(ValueError, match=r"norm must be one of .*got 'layer'"):
        norm_layer("layer", 4)
    block = ConvBlock(3, 4, norm="batch", dropout=0.1)
    assert [type(m).__name__ for m in block] == [
        *["Conv2d", "BatchNorm2d", "ReLU"] * 2,
        "Dropout2d",
    ]
    assert block[0].bias is None  # the norm layer has the shift
    assert block(torch.zeros(2, 3, 5, 7)).shape == (2, 4, 5, 7)


def test_the_masked_loss_ignores_padding() -> None:
    x = torch.zeros(2, C, 4, 4)
    reconstruction = torch.ones(2, C, 4, 4)
    valid = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    valid[:, :, :3, :2] = True  # 6 valid pixels per map
    reconstruction[:, :, 3:, :] = 1e6  # huge errors in the padding only
    reconstruction[:, :, :, 2:] = float("nan")
    reconstruction[0, 0, 0, 0] = 3.0  # one squared error of 9 instead of 1
    loss = reconstruction_loss(reconstruction, x, valid)
    expected = (2 * C * 6 - 1 + 9) / (2 * C * 6)
    assert loss.item() == pytest.approx(expected)
    assert reconstruction_loss(x, x, torch.zeros_like(valid)).item() == 0.0
    with pytest.raises(ValueError, match=r"valid must be \(2, 1, 4, 4\), got \(2, 4, 4\)"):
        reconstruction_loss(x, x, valid[:, 0])


def _batch(n: int = 4) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(3)
    x = torch.zeros(n, C, 12, 16)
    x[..., :10, :15] = torch.randn(n, C, 10, 15, generator=generator)
    valid = torch.zeros(n, 1, 12, 16, dtype=torch.bool)
    valid[..., :10, :15] = True
    return {"x": x, "valid": valid, "index": torch.arange(n)}


def _items(batch: dict[str, torch.Tensor]) -> list[dict[str, torch.Tensor]]:
    return [{k: v[i] for k, v in batch.items()} for i in range(len(batch["x"]))]


def _smooth_batch(n: int = 4) -> dict[str, torch.Tensor]:
    """Maps of one Gaussian blob each (a random place, a random amplitude per channel)."""
    generator = torch.Generator().manual_seed(3)
    rows, cols = torch.meshgrid(torch.arange(10.0), torch.arange(15.0), indexing="ij")
    batch = _batch(n)
    for i in range(n):
        row, col = torch.rand(2, generator=generator) * torch.tensor([10.0, 15.0])
        blob = torch.exp(-((rows - row) ** 2 + (cols - col) ** 2) / 8.0)
        batch["x"][i, :, :10, :15] = blob * 2 * torch.randn(C, 1, 1, generator=generator)
    return batch


def test_a_tiny_autoencoder_overfits_one_batch_with_the_one_loop() -> None:
    seed_everything(0)
    model = Autoencoder(_config(norm="none", width=8))
    config = TrainConfig(
        epochs=100, batch_size=4, learning_rate=3e-3, patience=0, device="cpu", progress=False
    )
    loader = make_loader(_items(_smooth_batch()), config, shuffle=True)
    result = fit(model, loader, loader, autoencoder_loss_fn(), config)
    first, best = result.history[0]["val_loss"], result.best_val_loss
    assert best < 0.2 * first  # 0.26 -> 0.04 on the CPU


def test_embed_keeps_the_dataset_order() -> None:
    seed_everything(0)
    model = Autoencoder(_config()).eval()
    items = _items(_batch(5))
    config = TrainConfig(batch_size=2, device="cpu", progress=False)
    shuffled = torch.utils.data.DataLoader(items[::-1], batch_size=2)
    z = embed(model, shuffled)
    with torch.no_grad():
        expected = model.encode(torch.stack([i["x"] for i in items])).numpy()
    np.testing.assert_allclose(z, expected, rtol=1e-5, atol=1e-6)
    z2, errors = embed_maps(model, make_loader(items, config, shuffle=False))
    np.testing.assert_allclose(z2, expected, rtol=1e-5, atol=1e-6)
    assert errors.shape == (5, C)
    batch = _batch(5)
    with torch.no_grad():
        reconstruction, _ = model(batch["x"])
    per_map = ((reconstruction - batch["x"])[..., :10, :15] ** 2).mean(dim=(-2, -1)).numpy()
    np.testing.assert_allclose(errors, per_map, rtol=1e-5)


def test_the_artefact_round_trip_never_unpickles(tmp_path, monkeypatch) -> None:
    seed_everything(0)
    model = Autoencoder(_config()).eval()
    norm = NormStats(INPUT_CHANNELS, (0.0,) * C, (1.0,) * C, (1,) * C)
    save_artefact(autoencoder_artefact(model, norm, training={"epochs": 3}), tmp_path / "ae")

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    artefact = load_artefact(tmp_path / "ae")
    assert artefact.kind == "autoencoder" and artefact.metadata["training"] == {"epochs": 3}
    loaded, loaded_norm = autoencoder_from_artefact(artefact)
    assert loaded_norm == norm and loaded.config == model.config
    x = _batch(2)["x"]
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], model(x)[0])


def test_an_artefact_of_other_channels_is_refused() -> None:
    model = Autoencoder(_config())
    norm = NormStats(INPUT_CHANNELS, (0.0,) * C, (1.0,) * C, (1,) * C)
    artefact = autoencoder_artefact(model, norm)
    artefact.metadata["input_channels"] = ["precipitation"]
    with pytest.raises(ValueError, match=r"trained on channels \['precipitation'\]"):
        autoencoder_from_artefact(artefact)


def test_roles_keep_the_split_and_train_on_unlabelled_maps_far_from_evaluation() -> None:
    times = pd.date_range("2024-06-10", periods=12, freq="1h")
    labelled = times[[2, 3, 4, 5, 6, 7]]
    split = pd.DataFrame(
        {"time": labelled, "split": ["train", "train", "gap", "validation", "gap", "test"]}
    )
    roles = autoencoder_roles(times, split, "1h")
    assert roles["split"].tolist() == [
        *["unlabelled"] * 2,
        *["train", "train", "gap", "validation", "gap", "test"],
        *["unlabelled"] * 4,
    ]
    # unlabelled maps train when every validation/test map is more than 1 h away
    assert roles["role"].tolist() == [
        *["train"] * 4,
        "held_out",
        "validation",
        "held_out",
        "held_out",
        "held_out",  # 1 h after the test map: not more than the gap
        *["train"] * 3,
    ]
    with pytest.raises(KeyError, match="1 times of training_split are not IMERG maps"):
        autoencoder_roles(times[1:], split.assign(time=labelled - pd.Timedelta("2h")), "1h")
    with pytest.raises(ValueError, match="no map to validation the autoencoder"):
        autoencoder_roles(times, split[split["split"] != "validation"], "1h")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> AutoencoderData:
    """A 15-hour cube split in 1-hour blocks, 3 hours of it without radar."""
    root = tmp_path_factory.mktemp("stores")
    cube = fake_imerg_cube(30, box=BOX, seed=4)
    write_store(root / "cube.zarr", cube)
    times = pd.DatetimeIndex(cube["time"].values)
    split = make_split(times[:24], SplitConfig(block="1h", gap="0h"))
    roles = autoencoder_roles(times, split, "0h")
    return AutoencoderData(root / "cube.zarr", roles, (10, 15))


def _recipe(**loop) -> AutoencoderRecipe:
    return AutoencoderRecipe(
        autoencoder=AutoencoderConfig(in_channels=C, depth=1, width=4, latent_dim=4),
        loop=TrainConfig(
            **{"epochs": 2, "batch_size": 4, "device": "cpu", "progress": False, **loop}
        ),
    )


def test_the_objective_is_the_best_validation_loss_of_the_same_recipe(data) -> None:
    norm = NormStats.fit(open_store(data.cube_path), data.times("train"))
    space = {"latent_dim": Dimension(type="int", low=2, high=8)}
    trial = optuna.trial.FixedTrial({"latent_dim": 6})
    loss = autoencoder_objective(data, norm, _recipe(), space)(trial)
    model, result = train_autoencoder(data, norm, _recipe().with_values({"latent_dim": 6}))
    assert loss == pytest.approx(result.best_val_loss, rel=1e-6)
    assert trial.user_attrs["best_epoch"] == result.best_epoch
    assert model.config.map_shape == (10, 15) and model.latent_dim == 6
    # the train split's maps and the 6 unlabelled ones (after a train block, gap 0)
    n_train = int((data.roles["split"] == "train").sum())
    assert len(data.times("train")) == n_train + 6
    with pytest.raises(ValueError, match=r"\['score_weight'\] cannot be tuned"):
        autoencoder_objective(data, norm, _recipe(), {"score_weight": space["latent_dim"]})
