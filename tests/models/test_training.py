"""The one training loop: reproducibility, resumption, early stopping, clipping, devices."""

from __future__ import annotations

import logging
import math
import pickle
from pathlib import Path

import numpy as np
import optuna
import pytest
import torch

from rainscore.models import training
from rainscore.models.training import (
    CHECKPOINT_NAME,
    TrainConfig,
    fit,
    make_loader,
    pick_device,
    predict,
    seed_everything,
)
from rainscore.models.unet import UNet, UNetConfig, unet_loss_fn

torch.set_num_threads(1)

N_MAPS, CHANNELS, SIZE = 12, 3, 8


class Maps(torch.utils.data.Dataset):
    """Seeded random maps with a learnable pixel target and score."""

    def __init__(self, n: int = N_MAPS, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.x = torch.randn(n, CHANNELS, SIZE, SIZE, generator=generator)
        self.pixel_target = torch.tanh(self.x[:, :1] - self.x[:, 1:2])
        self.score = self.x[:, 0].mean(dim=(-2, -1))

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "x": self.x[i],
            "pixel_target": self.pixel_target[i],
            "pixel_mask": torch.ones(1, SIZE, SIZE, dtype=torch.bool),
            "score": self.score[i],
            "score_mask": torch.tensor(True),
            "index": torch.tensor(i),
        }


def _config(**overrides) -> TrainConfig:
    params = {
        "epochs": 4,
        "batch_size": 4,
        "learning_rate": 3e-3,
        "patience": 10,
        "device": "cpu",
        "progress": False,
        "seed": 3,
    }
    return TrainConfig(**(params | overrides))


def _model(seed: int = 3) -> UNet:
    seed_everything(seed)
    return UNet(UNetConfig(in_channels=CHANNELS, depth=1, width=4, norm="batch", dropout=0.2))


def _run(
    config: TrainConfig, checkpoint_dir: Path | None = None, **kwargs
) -> tuple[UNet, training.TrainResult]:
    model = _model(config.seed)
    train = make_loader(Maps(seed=0), config, shuffle=True)
    val = make_loader(Maps(n=8, seed=1), config, shuffle=False)
    result = fit(model, train, val, unet_loss_fn(), config, checkpoint_dir, **kwargs)
    return model, result


def _assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name


def _losses(result: training.TrainResult) -> list[tuple[float, float]]:
    return [(r["train_loss"], r["val_loss"]) for r in result.history]


def test_same_seed_gives_identical_weights() -> None:
    model_a, a = _run(_config())
    model_b, b = _run(_config())
    _assert_same_weights(a.state_dict, b.state_dict)
    _assert_same_weights(model_a.state_dict(), model_b.state_dict())
    assert _losses(a) == _losses(b)
    _, c = _run(_config(seed=4))
    assert not torch.equal(a.state_dict["local_head.weight"], c.state_dict["local_head.weight"])


def test_history_and_loss_decrease() -> None:
    _, result = _run(_config(epochs=6))
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4, 5, 6]
    assert set(result.history[0]) == {
        "epoch",
        "train_loss",
        "val_loss",
        "grad_norm",
        "learning_rate",
        "seconds",
    }
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    best = min(result.history, key=lambda r: r["val_loss"])
    assert (result.best_epoch, result.best_val_loss) == (best["epoch"], best["val_loss"])
    assert not result.stopped_early


def test_resume_gives_the_uninterrupted_result(tmp_path: Path) -> None:
    model_full, full = _run(_config(epochs=4))
    _, first = _run(_config(epochs=2), tmp_path)
    assert (tmp_path / CHECKPOINT_NAME).is_file()
    assert [p.name for p in tmp_path.glob("*.safetensors")] == ["checkpoint-epoch0002.safetensors"]
    model_resumed, resumed = _run(_config(epochs=4), tmp_path)
    assert _losses(first) == _losses(full)[:2]
    assert _losses(resumed) == _losses(full)
    _assert_same_weights(resumed.state_dict, full.state_dict)
    _assert_same_weights(model_resumed.state_dict(), model_full.state_dict())


def test_resume_after_a_crash_inside_an_epoch(tmp_path: Path) -> None:
    _, full = _run(_config(epochs=3))
    calls = {"n": 0}
    loss = unet_loss_fn()

    def crashing(model, batch):
        calls["n"] += 1
        if calls["n"] == 2 * (3 + 2) + 2:  # two epochs of 3 train + 2 val batches, then 2 more
            raise KeyboardInterrupt
        return loss(model, batch)

    config = _config(epochs=3)
    train = make_loader(Maps(seed=0), config, shuffle=True)
    val = make_loader(Maps(n=8, seed=1), config, shuffle=False)
    with pytest.raises(KeyboardInterrupt):
        fit(_model(config.seed), train, val, crashing, config, tmp_path)
    assert '"epoch": 2' in (tmp_path / CHECKPOINT_NAME).read_text()
    _, resumed = _run(config, tmp_path)
    assert _losses(resumed) == _losses(full)
    _assert_same_weights(resumed.state_dict, full.state_dict)


def test_resume_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(_config(epochs=1), tmp_path)

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was called")

    for module, name in [
        (torch, "load"),
        (pickle, "load"),
        (pickle, "loads"),
        (pickle, "Unpickler"),
    ]:
        monkeypatch.setattr(module, name, refuse)
    _, resumed = _run(_config(epochs=2), tmp_path)
    assert len(resumed.history) == 2


def test_resume_with_other_settings_is_an_error(tmp_path: Path) -> None:
    _run(_config(epochs=1), tmp_path)
    with pytest.raises(
        ValueError, match=r"checkpoint.json was made with other settings.*learning_rate"
    ):
        _run(_config(epochs=2, learning_rate=1e-2), tmp_path)


def test_a_finished_run_is_not_trained_again(tmp_path: Path) -> None:
    _, first = _run(_config(epochs=2), tmp_path)
    model, again = _run(_config(epochs=2), tmp_path)
    assert _losses(again) == _losses(first)
    _assert_same_weights(again.state_dict, first.state_dict)
    _assert_same_weights(model.state_dict(), first.state_dict)


def test_early_stopping_stops_and_keeps_the_best_weights() -> None:
    config = _config(epochs=10, patience=2)
    loss = unet_loss_fn()
    script = iter([1.0, 0.5, 0.7, 0.6, 0.4, 0.3])
    current = {"val_loss": next(script)}
    states: dict[int, dict[str, torch.Tensor]] = {}

    def loss_fn(model, batch):
        # the validation loss follows the script, one value per epoch
        return loss(model, batch) if model.training else torch.tensor(current["val_loss"])

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        states[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        current["val_loss"] = next(script)

    model = _model(config.seed)
    train = make_loader(Maps(seed=0), config, shuffle=True)
    val = make_loader(Maps(n=8, seed=1), config, shuffle=False)
    result = fit(model, train, val, loss_fn, config, on_epoch=on_epoch)
    # val: 1.0, 0.5 (best), 0.7, 0.6 -> two epochs without improvement: stop after epoch 4
    assert [r["val_loss"] for r in result.history] == pytest.approx([1.0, 0.5, 0.7, 0.6])
    assert result.stopped_early
    assert (result.best_epoch, result.best_val_loss) == (2, 0.5)  # 0.5 is exact in float32
    _assert_same_weights(result.state_dict, states[2])
    _assert_same_weights(model.state_dict(), states[2])


def test_patience_zero_never_stops() -> None:
    config = _config(epochs=3, patience=0)
    loss = unet_loss_fn()

    def loss_fn(model, batch):
        return loss(model, batch) if model.training else torch.tensor(1.0)

    model = _model(config.seed)
    train = make_loader(Maps(seed=0), config, shuffle=True)
    result = fit(model, train, make_loader(Maps(n=4), config, shuffle=False), loss_fn, config)
    assert len(result.history) == 3 and not result.stopped_early and result.best_epoch == 1


def test_without_validation_the_last_epoch_is_kept() -> None:
    config = _config(epochs=2)
    model = _model(config.seed)
    result = fit(model, make_loader(Maps(), config, shuffle=True), None, unet_loss_fn(), config)
    assert result.best_epoch == 2 and math.isnan(result.best_val_loss)
    assert all(math.isnan(r["val_loss"]) for r in result.history)
    _assert_same_weights(result.state_dict, {k: v for k, v in model.state_dict().items()})


@pytest.mark.parametrize("grad_clip", [0.05, 0.0])
def test_gradient_clipping_is_applied(grad_clip: float, monkeypatch: pytest.MonkeyPatch) -> None:
    original = torch.nn.utils.clip_grad_norm_
    seen: list[tuple[float, float, float]] = []

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = list(parameters)
        before = original(parameters, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in parameters])
        )
        seen.append((float(max_norm), float(before), float(after)))
        return before

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    _, result = _run(_config(epochs=1, grad_clip=grad_clip))
    assert len(seen) == 3  # one call per training batch
    assert all(before > 0.05 for _, before, _ in seen)
    if grad_clip:
        assert all(max_norm == grad_clip for max_norm, _, _ in seen)
        assert all(after == pytest.approx(grad_clip, rel=1e-4) for _, _, after in seen)
    else:
        assert all(max_norm == math.inf for max_norm, _, _ in seen)
        assert all(after == pytest.approx(before, rel=1e-6) for _, before, after in seen)
    assert result.history[0]["grad_norm"] == pytest.approx(
        np.mean([b for _, b, _ in seen]), rel=1e-6
    )


def test_mixed_precision_is_not_used_on_the_cpu(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="rainscore.models.training"):
        _, amp = _run(_config(epochs=2, mixed_precision=True))
    _, plain = _run(_config(epochs=2, mixed_precision=False))
    _assert_same_weights(amp.state_dict, plain.state_dict)
    assert all(v.dtype in (torch.float32, torch.int64) for v in amp.state_dict.values())
    assert "Training on cpu (float32)" in caplog.text
    epoch_lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch ")]
    assert len(epoch_lines) == 2 and epoch_lines[0].startswith("epoch 1/2: train_loss ")


def test_on_epoch_can_prune() -> None:
    reported: list[tuple[int, float]] = []

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        reported.append((epoch, metrics["val_loss"]))
        if epoch == 2:
            raise optuna.TrialPruned

    with pytest.raises(optuna.TrialPruned):
        _run(_config(epochs=4), on_epoch=on_epoch)
    assert [e for e, _ in reported] == [1, 2]


def test_on_epoch_can_stop_the_run(tmp_path: Path) -> None:
    config = _config(epochs=5)
    _, stopped = _run(config, tmp_path / "run", on_epoch=lambda epoch, _: epoch == 2)
    _, two_epochs = _run(_config(epochs=2))
    assert stopped.stopped_early and [r["epoch"] for r in stopped.history] == [1, 2]
    assert all(torch.equal(v, two_epochs.state_dict[k]) for k, v in stopped.state_dict.items())
    _, resumed = _run(config, tmp_path / "run")
    assert [r["epoch"] for r in resumed.history] == [1, 2] and resumed.stopped_early


def test_non_finite_training_loss_is_an_error() -> None:
    config = _config(epochs=2)

    def loss_fn(model, batch):
        return model(batch["x"])[1].sum() * math.nan

    with pytest.raises(FloatingPointError, match="training loss is nan at epoch 1"):
        fit(_model(), make_loader(Maps(), config, shuffle=True), None, loss_fn, config)


def test_predict_names_outputs_in_loader_order() -> None:
    config = _config()
    model = _model()
    loader = make_loader(Maps(n=6), config, shuffle=False)
    out = predict(model, loader, "cpu")
    assert set(out) == {"local_error", "score", "index"}
    assert out["local_error"].shape == (6, 1, SIZE, SIZE) and out["score"].shape == (6,)
    np.testing.assert_array_equal(out["index"], np.arange(6))
    model.eval()
    with torch.no_grad():
        _, score = model(Maps(n=6).x)
    np.testing.assert_allclose(out["score"], score.numpy(), rtol=1e-6)
    only = predict(model, loader, torch.device("cpu"), keep=("score",))
    assert set(only) == {"score", "index"}


def test_pick_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pick_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match=r"training.device is 'cuda' but 0 CUDA device"):
        pick_device("cuda")
    with pytest.raises(ValueError, match=r"training\.device is 'mps' but MPS is not available"):
        pick_device("mps")
    with pytest.raises(ValueError, match="'gpu0' is not a device name"):
        pick_device("gpu0")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert pick_device("auto") == torch.device("cuda")


def test_train_config_from_dict() -> None:
    config = TrainConfig.from_dict({"epochs": 3, "learning_rate": 0.01})
    assert (config.epochs, config.learning_rate, config.batch_size) == (3, 0.01, 16)
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match=r"Unknown training parameters \['epoch'\]"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(
        ValueError, match=r"training\.grad_clip must be a finite number >= 0, got -1"
    ):
        TrainConfig.from_dict({"grad_clip": -1.0})
    with pytest.raises(ValueError, match=r"training\.patience must be an integer >= 0, got -1"):
        TrainConfig.from_dict({"patience": -1})


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_mixed_precision_trains_on_cuda() -> None:
    config = _config(epochs=3, device="cuda", mixed_precision=True, learning_rate=1e-2)
    model = _model(config.seed)
    train = make_loader(Maps(n=32), config, shuffle=True)
    result = fit(
        model, train, make_loader(Maps(n=8, seed=1), config, shuffle=False), unet_loss_fn(), config
    )
    losses = [r["train_loss"] for r in result.history]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    assert next(model.parameters()).device.type == "cuda"
    assert all(v.device.type == "cpu" for v in result.state_dict.values())
    out = predict(model, make_loader(Maps(n=8, seed=1), config, shuffle=False), "cuda")
    assert out["score"].dtype == np.float32 and np.isfinite(out["score"]).all()


def test_an_empty_validation_loader_is_an_error() -> None:
    config = _config(epochs=1)
    empty = make_loader(Maps(n=0), config, shuffle=False)
    with pytest.raises(ValueError, match="the validation loader yielded no batch"):
        fit(_model(), make_loader(Maps(), config, shuffle=True), empty, unet_loss_fn(), config)
