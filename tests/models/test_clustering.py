"""Clustering: Student-t kernel and DEC target by hand, k-means/DEC on blobs, SOM ordering."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from rainscore.models.artefacts import load_artefact, save_artefact
from rainscore.models.clustering import (
    DESOM,
    ClusterModel,
    DECConfig,
    DeepClustering,
    DESOMConfig,
    KMeansConfig,
    cluster_artefact,
    cluster_from_artefact,
    clustering_metrics,
    dec_loss,
    fit_dec,
    fit_desom,
    fit_kmeans,
    grid_distances,
    kl_divergence,
    linear_init,
    reconstruction_mse,
    som_loss,
    split_autoencoder,
    student_t,
    target_distribution,
    temperature_at,
)
from rainscore.models.training import TrainConfig, make_loader, seed_everything

torch.set_num_threads(1)

POINTS = torch.tensor([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]], dtype=torch.float64)
CENTROIDS = torch.tensor([[0.0, 0.0], [2.0, 0.0]], dtype=torch.float64)
# alpha = 1: kernel 1 / (1 + d²). Squared distances (0, 4), (1, 1), (16, 4):
# kernels (1, 1/5), (1/2, 1/2), (1/17, 1/5) -> rows normalised:
Q_BY_HAND = [[5 / 6, 1 / 6], [1 / 2, 1 / 2], [5 / 22, 17 / 22]]
# f = column sums = (5/6 + 1/2 + 5/22, 1/6 + 1/2 + 17/22) = (103/66, 95/66);
# p ∝ q² / f, e.g. row 2: (1/4) / (103/66) : (1/4) / (95/66) = 95 : 103.
P_BY_HAND = [[2375 / 2478, 103 / 2478], [95 / 198, 103 / 198], [2375 / 32142, 29767 / 32142]]


class Points(Dataset):
    """Fixed embeddings as items ``{"x", "index"}`` (an identity encoder reads them)."""

    def __init__(self, points: np.ndarray) -> None:
        self.x = torch.as_tensor(points, dtype=torch.float32)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "index": torch.tensor(i)}


def _blobs(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    truth = np.repeat(np.arange(3), n)
    return centres[truth] + rng.normal(scale=0.6, size=(3 * n, 2)), truth


def _loop(**overrides) -> TrainConfig:
    params = {
        "epochs": 5,
        "batch_size": 16,
        "learning_rate": 1e-2,
        "device": "cpu",
        "progress": False,
        "seed": 1,
        "grad_clip": 0.0,
    }
    return TrainConfig(**(params | overrides))


def _identity_like(dim: int = 2) -> nn.Linear:
    seed_everything(0)
    layer = nn.Linear(dim, dim)
    with torch.no_grad():
        layer.weight.copy_(torch.eye(dim))
        layer.bias.zero_()
    return layer


def test_student_t_kernel_by_hand() -> None:
    q = student_t(POINTS, CENTROIDS, alpha=1.0)
    np.testing.assert_allclose(q.numpy(), Q_BY_HAND, rtol=1e-12)
    # alpha = 3: kernel (1 + d²/3) ** -2; point 2 at squared distances 16 and 4.
    k = np.array([(1 + 16 / 3) ** -2, (1 + 4 / 3) ** -2])
    np.testing.assert_allclose(student_t(POINTS, CENTROIDS, alpha=3.0)[2].numpy(), k / k.sum())


def test_dec_target_distribution_by_hand() -> None:
    q = torch.tensor(Q_BY_HAND, dtype=torch.float64, requires_grad=True)
    p = target_distribution(q)
    np.testing.assert_allclose(p.numpy(), P_BY_HAND, rtol=1e-12)
    assert not p.requires_grad
    # KL(P || Q) row by row, averaged over rows; 0 log 0 counts as 0.
    expected = np.mean(
        [
            sum(pi * math.log(pi / qi) for pi, qi in zip(pr, qr, strict=True))
            for pr, qr in zip(P_BY_HAND, Q_BY_HAND, strict=True)
        ]
    )
    assert kl_divergence(p, q).item() == pytest.approx(expected, rel=1e-12)
    one_hot = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    assert kl_divergence(one_hot, torch.tensor([[0.5, 0.5]])).item() == pytest.approx(math.log(2))


def test_kl_gradient_moves_centroids_toward_their_points() -> None:
    z, truth = _blobs(n=20)
    means = np.stack([z[truth == k].mean(axis=0) for k in range(3)])
    start = means + np.array([[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    model = DeepClustering(nn.Identity(), None, torch.from_numpy(start), alpha=1.0)
    x = torch.as_tensor(z, dtype=torch.float32)
    target = target_distribution(model(x)["q"])
    loss = dec_loss(model(x), target, {"x": x}, cluster_weight=1.0)
    loss.backward()
    with torch.no_grad():
        moved = model.centroids - 0.5 * model.centroids.grad
    before = np.linalg.norm(start - means, axis=1)
    after = np.linalg.norm(moved.numpy() - means, axis=1)
    assert np.all(after < before)


def test_kmeans_recovers_blobs() -> None:
    z, truth = _blobs()
    cluster = fit_kmeans(z, KMeansConfig(n_clusters=3, n_init=4, seed=0))
    labels, soft = cluster.assign(z)
    metrics = clustering_metrics(z, labels, true_labels=truth)
    assert metrics["ari"] >= 0.9 and metrics["nmi"] >= 0.9 and metrics["silhouette"] > 0.7
    assert metrics["n_clusters_used"] == 3 and math.isnan(metrics["reconstruction_mse"])
    np.testing.assert_allclose(soft.sum(axis=1), 1.0)
    assert np.array_equal(labels, soft.argmax(axis=1))
    again = fit_kmeans(z, KMeansConfig(n_clusters=3, n_init=4, seed=0))
    np.testing.assert_array_equal(again.centroids, cluster.centroids)


def test_dec_recovers_blobs_through_the_training_loop() -> None:
    z, truth = _blobs()
    encoder = _identity_like()
    loop = _loop()
    loader = make_loader(Points(z), loop, shuffle=True)
    result = fit_dec(encoder, loader, DECConfig(n_clusters=3, n_init=4, tol=0.0), loop)
    assert result.cluster.method == "dec" and result.cluster.n_clusters == 3
    assert [r["epoch"] for r in result.log] == [0, 1, 2, 3, 4, 5]
    assert len(result.train.history) == 5 and not result.train.stopped_early
    with torch.no_grad():
        embedded = encoder(torch.as_tensor(z, dtype=torch.float32)).double().numpy()
    labels, _ = result.cluster.assign(embedded)
    assert clustering_metrics(embedded, labels, true_labels=truth)["ari"] >= 0.9


def test_dec_stops_when_few_assignments_change() -> None:
    z, _ = _blobs()
    loop = _loop(epochs=6)
    loader = make_loader(Points(z), loop, shuffle=True)
    config = DECConfig(n_clusters=3, n_init=2, tol=0.5, update_interval=2)
    result = fit_dec(_identity_like(), loader, config, loop)
    assert len(result.train.history) == 2 and result.train.stopped_early
    assert [r["epoch"] for r in result.log] == [0, 2] and result.log[1]["changed"] < 0.5
    assert result.cluster.info["stopped_early"] is True


def test_idec_keeps_the_reconstruction_term() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 5.0]])
    decoder = nn.Linear(2, 2)
    model = DeepClustering(nn.Identity(), decoder, torch.zeros(2, 2), alpha=1.0)
    outputs = model(x)
    target = target_distribution(outputs["q"])
    batch = {"x": x}
    kl = kl_divergence(target, outputs["q"])
    expected = 0.1 * kl + ((outputs["reconstruction"] - x) ** 2).mean()
    assert dec_loss(outputs, target, batch, 0.1).item() == pytest.approx(expected.item())
    valid = torch.tensor([[True, False], [True, True]])
    masked = reconstruction_mse(torch.zeros(2, 2), {"x": x, "valid": valid})
    assert masked.item() == pytest.approx((1 + 9 + 25) / 3)


class TinyAutoencoder(nn.Module):
    """``encode``/``decode`` methods, like the project's autoencoder."""

    def __init__(self) -> None:
        super().__init__()
        self.down, self.up = _identity_like(), _identity_like()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.up(z)


def test_idec_fine_tunes_one_autoencoder_in_place() -> None:
    z, _ = _blobs(n=10)
    autoencoder = TinyAutoencoder()
    before = {k: v.clone() for k, v in autoencoder.state_dict().items()}
    encoder, decoder = split_autoencoder(autoencoder)
    loop = _loop(epochs=2)
    loader = make_loader(Points(z), loop, shuffle=True)
    result = fit_dec(
        encoder, loader, DECConfig(n_clusters=3, n_init=2, tol=0.0), loop, decoder=decoder
    )
    assert len(list(DeepClustering(encoder, decoder, torch.zeros(3, 2), 1.0).parameters())) == 5
    assert result.decoder is decoder and len(result.train.history) == 2
    assert all(not torch.equal(v, before[k]) for k, v in autoencoder.state_dict().items())
    with pytest.raises(TypeError, match="no encode or decode"):
        split_autoencoder(nn.Linear(2, 2))


def test_grid_distances_and_temperature_schedule() -> None:
    np.testing.assert_array_equal(
        grid_distances(2, 2), [[0, 1, 1, 2], [1, 0, 2, 1], [1, 2, 0, 1], [2, 1, 1, 0]]
    )
    assert temperature_at(0, 5, 4.0, 0.25) == 4.0
    assert temperature_at(2, 5, 4.0, 0.25) == pytest.approx(1.0)  # geometric midpoint
    assert temperature_at(4, 5, 4.0, 0.25) == pytest.approx(0.25)
    assert temperature_at(9, 5, 4.0, 0.25) == pytest.approx(0.25)


def test_som_loss_by_hand() -> None:
    z = torch.tensor([[0.0, 0.0]])
    prototypes = torch.tensor([[1.0, 0.0], [3.0, 0.0]])
    grid = torch.from_numpy(grid_distances(1, 2)).float()
    # BMU 0; weights (1, exp(-1/T²)) with T = 1; squared distances (1, 9).
    assert som_loss(z, prototypes, grid, 1.0).item() == pytest.approx(1 + 9 * math.exp(-1))


def test_som_orders_its_units_along_a_line() -> None:
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 10, size=200)
    points = np.stack([t, 0.5 * t], axis=1)
    loop = _loop(epochs=6, learning_rate=0.1, batch_size=20)
    loader = make_loader(Points(points), loop, shuffle=True)
    config = DESOMConfig(rows=1, cols=6, som_weight=1.0, t_max=3.0, t_min=0.3)
    start = linear_init(points, 1, 6) @ np.array([1.0, 0.5]) / 1.25
    result = fit_desom(nn.Identity(), loader, config, loop)
    position = result.cluster.centroids @ np.array([1.0, 0.5]) / 1.25
    steps = np.diff(position)
    assert np.all(steps > 0) or np.all(steps < 0)
    # The units spread from ±1 standard deviation (6 long) to cover the line (10 long).
    assert np.ptp(start) < 8 < np.ptp(position)
    assert result.cluster.grid == (1, 6) and result.log[-1]["temperature"] == pytest.approx(0.3)


def test_som_on_a_square_keeps_neighbours_close() -> None:
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 1, size=(300, 2))
    loop = _loop(epochs=4, learning_rate=0.02, batch_size=30)
    loader = make_loader(Points(points), loop, shuffle=True)
    config = DESOMConfig(rows=3, cols=3, som_weight=1.0, t_max=2.0, t_min=0.3)
    cluster = fit_desom(nn.Identity(), loader, config, loop).cluster
    apart = np.linalg.norm(cluster.centroids[:, None] - cluster.centroids[None], axis=-1)
    grid = grid_distances(3, 3)
    # Every unit's grid neighbours are nearer in the data space than any unit 2+ cells away.
    for k in range(9):
        assert apart[k, grid[k] == 1].max() < apart[k, grid[k] >= 2].min()
    labels, _ = cluster.assign(points)
    assert np.bincount(labels, minlength=9).min() >= 15


def test_desom_with_a_decoder_adds_the_reconstruction() -> None:
    z, _ = _blobs(n=10)
    loop = _loop(epochs=2)
    loader = make_loader(Points(z), loop, shuffle=True)
    config = DESOMConfig(rows=2, cols=2, som_weight=0.5, t_max=1.0, t_min=0.5)
    decoder = _identity_like()
    result = fit_desom(_identity_like(), loader, config, loop, decoder=decoder)
    assert result.decoder is decoder and result.cluster.n_clusters == 4
    model = DESOM(nn.Identity(), nn.Linear(2, 2), torch.zeros(4, 2), 2, 2)
    x = torch.as_tensor(z[:5], dtype=torch.float32)
    outputs = model(x)
    expected = 0.5 * som_loss(x, model.prototypes, model.grid, 1.0) + reconstruction_mse(
        outputs["reconstruction"], {"x": x}
    )
    assert model.loss(outputs, {"x": x}, 1.0, 0.5).item() == pytest.approx(expected.item())


def test_artefact_round_trip_never_unpickles(tmp_path: Path, monkeypatch) -> None:
    centroids = np.arange(12, dtype=float).reshape(6, 2) / 7
    cluster = ClusterModel("desom", centroids, alpha=1.0, grid=(2, 3), info={"epochs": 3})
    encoder = _identity_like()
    save_artefact(cluster_artefact(cluster, encoder=encoder, metadata={"a": 1}), tmp_path)
    assert json.loads((tmp_path / "model.json").read_text())["kind"] == "clustering"

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    loaded, encoder_state = cluster_from_artefact(load_artefact(tmp_path))
    np.testing.assert_array_equal(loaded.centroids, centroids)
    assert loaded.grid == (2, 3) and loaded.method == "desom" and loaded.info == {"epochs": 3}
    assert set(encoder_state) == {"weight", "bias"}
    assert torch.equal(encoder_state["weight"], encoder.weight.detach())
    np.testing.assert_allclose(loaded.neighbourhood(1.0)[0, :3], [1, math.exp(-1), math.exp(-4)])


def test_cluster_model_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="grid"):
        ClusterModel("desom", np.zeros((5, 2)), grid=(2, 3))
    with pytest.raises(ValueError, match="method"):
        ClusterModel("spectral", np.zeros((2, 2)))
    cluster = ClusterModel("kmeans", np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        cluster.assign(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"dec\.tol"):
        DECConfig.from_dict({"tol": 1.5})
    with pytest.raises(ValueError, match=r"desom\.t_min"):
        DESOMConfig(t_max=1.0, t_min=2.0)
    with pytest.raises(ValueError, match="Unknown kmeans parameters"):
        KMeansConfig.from_dict({"n_cluster": 3})
