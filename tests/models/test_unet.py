"""The U-Net: shapes, the stride multiple, the configuration and the masked loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rainscore.models.training import TrainConfig, fit, predict, seed_everything
from rainscore.models.unet import UNet, UNetConfig, unet_loss, unet_loss_fn

torch.set_num_threads(1)


def _batch(n: int = 2, channels: int = 3, size: int = 16, seed: int = 0) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, channels, size, size, generator=generator)
    return {
        "x": x,
        "pixel_target": 0.5 * x[:, :1],
        "pixel_mask": torch.ones(n, 1, size, size, dtype=torch.bool),
        "score": x.mean(dim=(1, 2, 3)),
        "score_mask": torch.ones(n, dtype=torch.bool),
    }


@pytest.mark.parametrize("norm", ["batch", "group", "none"])
@pytest.mark.parametrize(("depth", "height", "width"), [(0, 5, 7), (2, 8, 12), (3, 16, 24)])
def test_shapes_of_both_heads(norm: str, depth: int, height: int, width: int) -> None:
    seed_everything(0)
    model = UNet(UNetConfig(in_channels=6, depth=depth, width=4, norm=norm, dropout=0.1))
    local_error, score = model(torch.randn(3, 6, height, width))
    assert model.multiple == 2**depth
    assert local_error.shape == (3, 1, height, width)
    assert score.shape == (3,)
    assert torch.isfinite(local_error).all() and torch.isfinite(score).all()


@pytest.mark.parametrize("depth", [0, 2])
def test_score_alone_equals_the_forward_score(depth: int) -> None:
    seed_everything(0)
    model = UNet(UNetConfig(in_channels=3, depth=depth, width=4, norm="batch")).eval()
    x = torch.randn(4, 3, 16, 24)
    with torch.no_grad():
        assert torch.equal(model.score(x), model(x)[1])
    with pytest.raises(ValueError, match=r"shape \(1, 3, 9, 8\)"):
        UNet(UNetConfig(in_channels=3, depth=3, width=4)).score(torch.zeros(1, 3, 9, 8))


def test_predict_calls_the_forward_given() -> None:
    seed_everything(0)
    model = UNet(UNetConfig(in_channels=3, depth=1, width=4))
    x = torch.randn(6, 3, 8, 8)
    loader = [{"x": x[:4], "index": torch.arange(4)}, {"x": x[4:], "index": torch.arange(4, 6)}]
    both = predict(model, loader, "cpu")
    alone = predict(model, loader, "cpu", forward=lambda b: {"score": model.score(b)})
    assert set(alone) == {"score", "index"}
    np.testing.assert_array_equal(alone["score"], both["score"])
    np.testing.assert_array_equal(alone["index"], np.arange(6))


@pytest.mark.parametrize("shape", [(1, 3, 12, 16), (1, 3, 16, 20), (1, 3, 9, 8)])
def test_input_not_a_multiple_is_an_error_naming_the_shape(shape: tuple[int, ...]) -> None:
    model = UNet(UNetConfig(in_channels=3, depth=3, width=4))
    with pytest.raises(ValueError, match=r"shape \(1, 3, \d+, \d+\).*multiples of 8"):
        model(torch.zeros(shape))


def test_wrong_channels_is_an_error() -> None:
    model = UNet(UNetConfig(in_channels=6, depth=1, width=4))
    with pytest.raises(ValueError, match=r"\(N, 6, H, W\), got shape \(1, 5, 8, 8\)"):
        model(torch.zeros(1, 5, 8, 8))


def test_config_round_trip_and_unknown_keys() -> None:
    config = UNetConfig(in_channels=6, depth=2, width=8, norm="group", dropout=0.2)
    assert UNetConfig.from_dict(config.to_dict()) == config
    assert UNetConfig.from_dict({"in_channels": 6}) == UNetConfig(in_channels=6)
    with pytest.raises(ValueError, match=r"Unknown unet parameters.*'widht'"):
        UNetConfig.from_dict({"in_channels": 6, "widht": 8})
    with pytest.raises(ValueError, match=r"unet\.in_channels is required"):
        UNetConfig.from_dict({"depth": 2})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"norm": "layer"}, "unet.norm must be one of"),
        ({"dropout": 1.0}, r"unet.dropout must be in \[0, 1\), got 1.0"),
        ({"depth": -1}, "unet.depth must be a non-negative integer, got -1"),
        ({"width": 0}, "unet.width must be a positive integer, got 0"),
    ],
)
def test_invalid_config_names_the_parameter(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UNetConfig.from_dict({"in_channels": 6, **params})


def test_group_norm_groups_divide_the_channels() -> None:
    model = UNet(UNetConfig(in_channels=2, depth=1, width=12, norm="group"))
    groups = {
        m.num_channels: m.num_groups for m in model.modules() if isinstance(m, torch.nn.GroupNorm)
    }
    assert groups == {12: 6, 24: 8}


def test_loss_masks_pixels_and_maps() -> None:
    local_error = torch.zeros(2, 1, 2, 2)
    score = torch.tensor([0.0, 0.0])
    batch = {
        "pixel_target": torch.tensor(
            [[[[1.0, 2.0], [float("nan"), 100.0]]], [[[3.0, 0.0], [0.0, 0.0]]]]
        ),
        "pixel_mask": torch.tensor(
            [[[[True, True], [False, False]]], [[[True, False], [False, False]]]]
        ),
        "score": torch.tensor([2.0, float("nan")]),
        "score_mask": torch.tensor([True, False]),
    }
    # pixels: (1 + 4 + 9) / 3; score: 4 / 1, weighted by 0.5
    loss = unet_loss((local_error, score), batch, score_weight=0.5)
    assert loss.item() == pytest.approx(14 / 3 + 0.5 * 4)


def test_loss_with_nothing_masked_is_zero_and_has_finite_gradients() -> None:
    local_error = torch.ones(1, 1, 2, 2, requires_grad=True)
    score = torch.ones(1, requires_grad=True)
    batch = {
        "pixel_target": torch.full((1, 1, 2, 2), float("nan")),
        "pixel_mask": torch.zeros(1, 1, 2, 2, dtype=torch.bool),
        "score": torch.tensor([float("nan")]),
        "score_mask": torch.tensor([False]),
    }
    loss = unet_loss((local_error, score), batch)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.equal(local_error.grad, torch.zeros_like(local_error))
    assert torch.equal(score.grad, torch.zeros_like(score))


def test_loss_shape_mismatch_is_named() -> None:
    batch = _batch(n=2, size=8)
    with pytest.raises(ValueError, match=r"batch\['pixel_target'\] has shape \(2, 1, 8, 8\)"):
        unet_loss((torch.zeros(2, 1, 4, 4), torch.zeros(2)), batch)


def test_tiny_model_overfits_one_batch() -> None:
    batch = _batch(n=4, channels=3, size=8, seed=1)

    class OneBatch(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {key: value[i] for key, value in batch.items()}

    loader = torch.utils.data.DataLoader(OneBatch(), batch_size=4)
    seed_everything(0)
    model = UNet(UNetConfig(in_channels=3, depth=1, width=8, norm="none"))
    loss_fn = unet_loss_fn()
    model.eval()
    with torch.no_grad():
        initial = loss_fn(model, batch).item()
    config = TrainConfig(
        epochs=40, learning_rate=2e-2, patience=0, grad_clip=0.0, device="cpu", progress=False
    )
    result = fit(model, loader, None, loss_fn, config)
    model.eval()
    with torch.no_grad():
        final = loss_fn(model, batch).item()
    assert final < initial / 10
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"] / 10
