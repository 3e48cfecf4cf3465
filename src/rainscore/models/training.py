"""The one training loop of the project: every model (the U-Net, the autoencoder) uses it.

:func:`fit` trains a plain ``torch.nn.Module`` with AdamW on the batches of a
``DataLoader`` (dicts of tensors) and a loss function ``loss_fn(model, batch)``. The loop,
not the model, knows about:

- **devices**: ``"auto"`` picks CUDA, then Apple's MPS, then the CPU (:func:`pick_device`);
  a named device that is absent is an error;
- **precision**: mixed precision (``torch.autocast`` to float16 with a ``GradScaler``) on
  CUDA only; on MPS and the CPU the loop runs in float32 whatever ``mixed_precision`` says;
- **reproducibility**: each epoch starts by reseeding Python, NumPy and torch from
  ``(seed, epoch)`` (and the loader's own generator, if it has one), so the shuffling and
  the dropout of an epoch do not depend on what ran before it; on the CPU two runs with
  the same seed give identical weights;
- **early stopping** on the validation loss (``patience`` epochs without improvement) and
  the best weights kept;
- **gradient clipping** to a global norm of ``grad_clip`` (after unscaling under AMP);
- **progress and logs**: a ``tqdm`` bar over the batches, one log line per epoch with the
  training and validation losses, the mean gradient norm before clipping and the time;
- **checkpoints**: after each epoch, into ``checkpoint_dir``, the model, best-model and
  optimizer tensors as safetensors (``checkpoint-epochNNNN.safetensors``) and every
  scalar (epoch, history, early-stopping state, optimizer hyper-parameters, scaler state)
  as JSON (``checkpoint.json``, written last: it names the tensors file it goes with).
  Nothing is pickled. A run that finds a checkpoint resumes after its epoch; on the CPU an
  interrupted and resumed run ends with the same weights as an uninterrupted one;
- **pruning**: ``on_epoch(epoch, {"train_loss": ..., "val_loss": ...})`` after each
  epoch's checkpoint, where an Optuna objective reports and may raise
  ``optuna.TrialPruned`` (let through);
- **other stopping rules**: ``on_epoch`` returning ``True`` ends the run after that epoch
  like early stopping does (``stopped_early``; the checkpoint records it, so a resumed
  run does not train on). DEC stops so when few assignments change.

Epochs are numbered from 1 in the history, the logs, ``on_epoch`` and ``best_epoch``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from rainscore.atomic import atomic_path
from rainscore.params import dataclass_from_params

__all__ = [
    "CHECKPOINT_NAME",
    "LossFn",
    "TrainConfig",
    "TrainResult",
    "fit",
    "make_loader",
    "pick_device",
    "predict",
    "seed_everything",
]

logger = logging.getLogger(__name__)

LossFn = Callable[[nn.Module, dict[str, Tensor]], Tensor]
"""``loss_fn(model, batch) -> scalar loss``; the batch's tensors are already on the device."""

CHECKPOINT_NAME = "checkpoint.json"
"""The checkpoint's JSON file in ``checkpoint_dir`` (it names its safetensors file)."""

_CHECKPOINT_VERSION = 1
# Settings that must not change between an interrupted run and its resumption.
_RESUME_KEYS = (
    "batch_size",
    "learning_rate",
    "weight_decay",
    "grad_clip",
    "seed",
    "mixed_precision",
)
_MODEL, _BEST, _OPTIMIZER = "model/", "best/", "optimizer/"


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`fit` and :func:`make_loader`.

    Attributes:
        epochs: Maximum number of epochs.
        batch_size: Maps per batch (:func:`make_loader`).
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        patience: Stop after this many epochs without a lower validation loss; 0 never
            stops early.
        grad_clip: Clip the gradients' global norm to this; 0 does not clip.
        device: ``"auto"`` (CUDA, then MPS, then CPU), ``"cuda"``, ``"cuda:1"``, ``"mps"``
            or ``"cpu"``.
        mixed_precision: Use float16 autocast and a gradient scaler on CUDA (ignored
            elsewhere).
        seed: Seed of the weights' initialisation (:func:`seed_everything`, called by the
            caller before building the model), the shuffling and the dropout.
        num_workers: Loader worker processes (:func:`make_loader`).
        progress: Show a progress bar over the batches.
    """

    epochs: int = 20
    batch_size: int = 16
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    grad_clip: float = 1.0
    device: str = "auto"
    mixed_precision: bool = True
    seed: int = 0
    num_workers: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        for name, low in (
            ("epochs", 1),
            ("batch_size", 1),
            ("patience", 0),
            ("seed", 0),
            ("num_workers", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"training.{name} must be an integer >= {low}, got {value!r}")
        for name, positive in (
            ("learning_rate", True),
            ("weight_decay", False),
            ("grad_clip", False),
        ):
            value = getattr(self, name)
            ok = (
                not isinstance(value, bool)
                and isinstance(value, int | float)
                and math.isfinite(value)
                and (value > 0 if positive else value >= 0)
            )
            if not ok:
                bound = "> 0" if positive else ">= 0"
                raise ValueError(f"training.{name} must be a finite number {bound}, got {value!r}")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"training.device must be a device name, got {self.device!r}")
        for name in ("mixed_precision", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"training.{name} must be true or false, got {getattr(self, name)!r}"
                )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-safe mapping (:meth:`from_dict` reads it back)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, section: str = "training"
    ) -> TrainConfig:
        """Build from a parameter mapping (missing keys take the defaults).

        Args:
            params: Any of the attributes.
            section: Name of the parameter section, for the error messages.

        Returns:
            The validated settings.

        Raises:
            ValueError: On an unknown key or an invalid value (named).
        """
        return dataclass_from_params(cls, params, section=section)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`fit` returns.

    Attributes:
        history: One record per epoch: ``epoch``, ``train_loss``, ``val_loss`` (NaN
            without a validation loader), ``grad_norm`` (mean global norm before
            clipping), ``learning_rate``, ``seconds``.
        best_epoch: Epoch of the lowest validation loss (the last epoch without a
            validation loader).
        best_val_loss: That loss (NaN without a validation loader).
        state_dict: The weights of ``best_epoch``, on the CPU (the model holds them too
            when :func:`fit` returns).
        stopped_early: Whether early stopping ended the run before ``epochs``.
    """

    history: list[dict[str, float]]
    best_epoch: int
    best_val_loss: float
    state_dict: dict[str, Tensor] = field(repr=False)
    stopped_early: bool = False


def pick_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``.

    Args:
        name: ``"auto"`` (CUDA if available, then MPS, then CPU) or a device name.

    Returns:
        The device.

    Raises:
        ValueError: If ``name`` is not a device name, or names a device that is absent.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"training.device {name!r} is not a device name ({err})") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index or 0) >= count:
            raise ValueError(
                f"training.device is {name!r} but {count} CUDA device(s) are available"
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"training.device is {name!r} but MPS is not available")
    elif device.type not in ("cuda", "mps", "cpu"):
        raise ValueError(f"training.device must be auto, cuda, mps or cpu, got {name!r}")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's (CPU and CUDA) random generators.

    With the same seed, building a model and training it on the CPU gives identical
    weights (torch's CPU kernels used here are deterministic).

    Args:
        seed: A non-negative integer.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global generator, for code that uses it)
    torch.manual_seed(seed)


def _seed_worker(worker_id: int) -> None:
    """Seed NumPy and Python in a loader worker from the seed torch gave it."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)  # noqa: NPY002 (the global generator, for code that uses it)
    random.seed(seed)


def make_loader(
    dataset: Dataset, config: TrainConfig, *, shuffle: bool, device: torch.device | None = None
) -> DataLoader:
    """A ``DataLoader`` with the settings of ``config`` that :func:`fit` can reproduce.

    Shuffling draws from torch's global generator, which :func:`fit` reseeds each epoch;
    workers seed NumPy and Python from their torch seed and persist across epochs (the
    datasets of this project draw no random numbers in the workers); memory is pinned for
    CUDA.

    Args:
        dataset: Map-style dataset of dicts of tensors.
        config: ``batch_size`` and ``num_workers``.
        shuffle: Shuffle each epoch (training) or not (validation, prediction).
        device: Where the batches go (pins memory for CUDA); ``None`` picks
            ``config.device``.

    Returns:
        The loader.
    """
    device = device or pick_device(config.device)
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=shuffle,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=config.num_workers > 0,
        worker_init_fn=_seed_worker if config.num_workers > 0 else None,
    )


def _seed_epoch(seed: int, epoch: int, loader: DataLoader) -> None:
    """Reseed everything for ``epoch`` (also the loader's own generators, if any)."""
    epoch_seed = int(np.random.SeedSequence([seed, epoch]).generate_state(1, np.uint64)[0] >> 1)
    seed_everything(epoch_seed)
    for generator in (
        getattr(loader, "generator", None),
        getattr(loader.sampler, "generator", None),
    ):
        if isinstance(generator, torch.Generator):
            generator.manual_seed(epoch_seed)


def _to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]:
    return {
        key: value.to(device, non_blocking=True) if isinstance(value, Tensor) else value
        for key, value in batch.items()
    }


def _batch_size(batch: Mapping[str, Any]) -> int:
    for value in batch.values():
        if isinstance(value, Tensor) and value.ndim:
            return int(value.shape[0])
    raise ValueError(
        f"a batch must hold at least one tensor with a batch dim; keys {sorted(batch)}"
    )


def _autocast(device: torch.device, amp: bool) -> torch.autocast:
    return torch.autocast(device_type=device.type, dtype=torch.float16, enabled=amp)


@dataclass
class _Progress:
    """The early-stopping state and history of a run (what a checkpoint restores)."""

    epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    bad_epochs: int = 0
    stopped: bool = False
    best_state: dict[str, Tensor] | None = None


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    loss_fn: LossFn,
    config: TrainConfig,
    checkpoint_dir: str | Path | None = None,
    on_epoch: Callable[[int, dict[str, float]], bool | None] | None = None,
) -> TrainResult:
    """Train ``model`` (see the module's docstring for what the loop does).

    The caller seeds (:func:`seed_everything`) before building the model. Without a
    validation loader (a final fit on train + validation) the run trains all ``epochs``
    and the last epoch's weights are the best.

    Args:
        model: The model; moved to the device, left holding the best weights.
        train_loader: Training batches (dicts of tensors), shuffled.
        val_loader: Validation batches, or ``None``.
        loss_fn: ``loss_fn(model, batch)``, the batch on the device.
        config: The settings.
        checkpoint_dir: Folder of the checkpoint: resumed from if it holds one, written
            after each epoch. ``None``: no checkpoints.
        on_epoch: Called after each epoch with the epoch and
            ``{"train_loss", "val_loss"}``; its exceptions (``optuna.TrialPruned``)
            propagate; returning ``True`` stops the run after this epoch.

    Returns:
        The history and the best weights.

    Raises:
        FloatingPointError: If an epoch's training loss is not finite, or no validation
            loss ever is.
        ValueError: If the device is absent, or the checkpoint in ``checkpoint_dir`` is
            unreadable or was made with other settings or another model (named).
    """
    device = pick_device(config.device)
    amp = config.mixed_precision and device.type == "cuda"
    model.to(device)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
    progress = _Progress()
    if checkpoint_dir is not None and (checkpoint_dir / CHECKPOINT_NAME).is_file():
        progress = _load_checkpoint(checkpoint_dir, model, optimizer, scaler, config)
        logger.info("Resuming training from %s after epoch %d", checkpoint_dir, progress.epoch)
    logger.info(
        "Training on %s (%s) for up to %d epochs",
        device,
        "mixed precision" if amp else "float32",
        config.epochs,
    )
    while progress.epoch < config.epochs and not progress.stopped:
        epoch = progress.epoch + 1
        start = time.perf_counter()
        _seed_epoch(config.seed, epoch, train_loader)
        train_loss, grad_norm = _train_epoch(
            model, train_loader, loss_fn, optimizer, scaler, device, amp, config, epoch
        )
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"training loss is {train_loss} at epoch {epoch}: lower training.learning_rate "
                f"({config.learning_rate}) or check the inputs for NaN"
            )
        val_loss = (
            _evaluate(model, val_loader, loss_fn, device, amp)
            if val_loader is not None
            else math.nan
        )
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "grad_norm": grad_norm,
            "learning_rate": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - start,
        }
        _update(progress, record, model, config, has_validation=val_loader is not None)
        logger.info(
            "epoch %d/%d: train_loss %.5g, val_loss %.5g, grad_norm %.3g, %.1f s%s",
            epoch,
            config.epochs,
            train_loss,
            val_loss,
            grad_norm,
            record["seconds"],
            " (best)" if progress.best_epoch == epoch else "",
        )
        if progress.stopped:
            logger.info(
                "Early stopping after epoch %d: no lower validation loss for %d epochs "
                "(best %.5g at epoch %d)",
                epoch,
                config.patience,
                progress.best_val_loss,
                progress.best_epoch,
            )
        if checkpoint_dir is not None:
            _save_checkpoint(checkpoint_dir, model, optimizer, scaler, config, progress)
        if on_epoch is not None and on_epoch(
            epoch, {"train_loss": train_loss, "val_loss": val_loss}
        ):
            progress.stopped = True
            logger.info("Stopping after epoch %d: on_epoch asked to stop", epoch)
            if checkpoint_dir is not None:
                _save_checkpoint(checkpoint_dir, model, optimizer, scaler, config, progress)
    if progress.best_state is None:
        raise FloatingPointError(
            f"no finite validation loss in {progress.epoch} epochs: nothing to keep"
        )
    model.load_state_dict(progress.best_state)
    return TrainResult(
        history=list(progress.history),
        best_epoch=progress.best_epoch,
        best_val_loss=progress.best_val_loss if val_loader is not None else math.nan,
        state_dict=progress.best_state,
        stopped_early=progress.stopped,
    )


def _train_epoch(
    model: nn.Module,
    loader: DataLoader,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    device: torch.device,
    amp: bool,
    config: TrainConfig,
    epoch: int,
) -> tuple[float, float]:
    """One pass over ``loader``: the mean loss and the mean gradient norm before clipping."""
    model.train()
    max_norm = config.grad_clip if config.grad_clip > 0 else math.inf
    loss_sum = torch.zeros((), device=device)
    norm_sum = torch.zeros((), device=device)
    n_samples, n_norms = 0, torch.zeros((), device=device)
    bar = tqdm(
        loader,
        desc=f"epoch {epoch}/{config.epochs}",
        unit="batch",
        leave=False,
        disable=not config.progress,
    )
    for raw in bar:
        batch = _to_device(raw, device)
        size = _batch_size(batch)
        optimizer.zero_grad(set_to_none=True)
        with _autocast(device, amp):
            loss = loss_fn(model, batch)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        scaler.step(optimizer)
        scaler.update()
        loss_sum += loss.detach().float() * size
        finite = torch.isfinite(norm)
        norm_sum += torch.where(finite, norm.detach().float(), 0.0)
        n_norms += finite
        n_samples += size
    if n_samples == 0:
        raise ValueError("the training loader yielded no batch")
    mean_norm = (norm_sum / n_norms).item() if n_norms.item() else math.nan
    return (loss_sum / n_samples).item(), mean_norm


def _evaluate(
    model: nn.Module, loader: DataLoader, loss_fn: LossFn, device: torch.device, amp: bool
) -> float:
    """The mean loss over ``loader`` in evaluation mode, without gradients."""
    model.eval()
    loss_sum, n_samples = torch.zeros((), device=device), 0
    with torch.no_grad(), _autocast(device, amp):
        for raw in loader:
            batch = _to_device(raw, device)
            size = _batch_size(batch)
            loss_sum += loss_fn(model, batch).detach().float() * size
            n_samples += size
    if n_samples == 0:
        raise ValueError("the validation loader yielded no batch")
    return (loss_sum / n_samples).item()


def _cpu_state(model: nn.Module) -> dict[str, Tensor]:
    return {name: t.detach().to("cpu", copy=True) for name, t in model.state_dict().items()}


def _update(
    progress: _Progress,
    record: dict[str, float],
    model: nn.Module,
    config: TrainConfig,
    *,
    has_validation: bool,
) -> None:
    """Add the epoch's record; keep the best weights; decide on early stopping."""
    progress.epoch = int(record["epoch"])
    progress.history.append(record)
    val_loss = record["val_loss"]
    if not has_validation or (math.isfinite(val_loss) and val_loss < progress.best_val_loss):
        progress.best_epoch = progress.epoch
        progress.best_val_loss = val_loss if has_validation else math.inf
        progress.best_state = _cpu_state(model)
        progress.bad_epochs = 0
        return
    progress.bad_epochs += 1
    if config.patience and progress.bad_epochs >= config.patience:
        progress.stopped = True


def _weights_name(epoch: int) -> str:
    return f"checkpoint-epoch{epoch:04d}.safetensors"


def _save_checkpoint(
    folder: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    config: TrainConfig,
    progress: _Progress,
) -> None:
    """Write the epoch's tensors (safetensors), then the JSON naming them, then tidy up."""
    tensors = {_MODEL + k: v for k, v in _cpu_state(model).items()}
    tensors |= {_BEST + k: v.clone() for k, v in (progress.best_state or {}).items()}
    optimizer_state = optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for index, entries in optimizer_state["state"].items():
        scalars[str(index)] = {}
        for key, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"{_OPTIMIZER}{index}/{key}"] = value.detach().to("cpu", copy=True)
            else:
                scalars[str(index)][key] = value
    weights = _weights_name(progress.epoch)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / weights) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp))
    document = {
        "format_version": _CHECKPOINT_VERSION,
        "weights": weights,
        "epoch": progress.epoch,
        "history": progress.history,
        "best_epoch": progress.best_epoch,
        "best_val_loss": progress.best_val_loss if math.isfinite(progress.best_val_loss) else None,
        "bad_epochs": progress.bad_epochs,
        "stopped": progress.stopped,
        "optimizer": {"param_groups": optimizer_state["param_groups"], "state": scalars},
        "scaler": scaler.state_dict(),
        "config": {key: getattr(config, key) for key in _RESUME_KEYS},
    }
    with atomic_path(folder / CHECKPOINT_NAME) as tmp:
        tmp.write_text(json.dumps(document, indent=1), encoding="utf-8")
    for old in folder.glob("checkpoint-epoch*.safetensors"):
        if old.name != weights:
            old.unlink(missing_ok=True)


def _load_checkpoint(
    folder: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    config: TrainConfig,
) -> _Progress:
    """Restore the model, optimizer and scaler from ``folder``; return the run's state."""
    json_path = folder / CHECKPOINT_NAME
    try:
        document = json.loads(json_path.read_text(encoding="utf-8"))
        weights_path = folder / document["weights"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"training checkpoint {json_path} is unreadable: {err!r}") from None
    if document.get("format_version") != _CHECKPOINT_VERSION:
        raise ValueError(
            f"training checkpoint {json_path} has format_version "
            f"{document.get('format_version')!r}, expected {_CHECKPOINT_VERSION}"
        )
    saved = document["config"]
    differ = {
        k: (saved.get(k), getattr(config, k))
        for k in _RESUME_KEYS
        if saved.get(k) != getattr(config, k)
    }
    if differ:
        raise ValueError(
            f"training checkpoint {json_path} was made with other settings "
            f"(checkpoint, now): {differ}; use another checkpoint folder or remove it"
        )
    try:
        tensors = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(
            f"training checkpoint {weights_path} is not readable safetensors ({err})"
        ) from None
    split: dict[str, dict[str, Tensor]] = {_MODEL: {}, _BEST: {}, _OPTIMIZER: {}}
    for name, tensor in tensors.items():
        prefix = name[: name.index("/") + 1]
        split[prefix][name[len(prefix) :]] = tensor
    try:
        model.load_state_dict(split[_MODEL])
    except RuntimeError as err:
        raise ValueError(f"training checkpoint {weights_path} is of another model: {err}") from None
    state: dict[int, dict[str, Any]] = {
        int(index): dict(entries) for index, entries in document["optimizer"]["state"].items()
    }
    for name, tensor in split[_OPTIMIZER].items():
        index, key = name.split("/", 1)
        state.setdefault(int(index), {})[key] = tensor
    optimizer.load_state_dict(
        {"state": state, "param_groups": document["optimizer"]["param_groups"]}
    )
    if document["scaler"]:
        scaler.load_state_dict(document["scaler"])
    best = document["best_val_loss"]
    return _Progress(
        epoch=document["epoch"],
        history=document["history"],
        best_epoch=document["best_epoch"],
        best_val_loss=math.inf if best is None else float(best),
        bad_epochs=document["bad_epochs"],
        stopped=document["stopped"],
        best_state=split[_BEST] or None,
    )


def predict(
    model: nn.Module,
    loader: DataLoader,
    device: torch.device | str = "auto",
    *,
    keep: tuple[str, ...] | None = None,
    forward: Callable[[Tensor], Any] | None = None,
) -> dict[str, np.ndarray]:
    """Run ``model`` on ``batch["x"]`` of every batch; concatenate the outputs in order.

    Output names: the model's ``output_names`` when it returns a tuple (the U-Net:
    ``local_error``, ``score``), the keys when it returns a dict, ``output`` for a single
    tensor. The batches' ``index`` is carried along when present. Runs in evaluation mode,
    in float32, without gradients.

    Args:
        model: The model (moved to ``device``).
        loader: Batches with ``x`` (not shuffled, so that the order is the dataset's).
        device: A device or a name for :func:`pick_device`.
        keep: Outputs to keep (e.g. ``("score",)`` to drop the local error maps);
            ``None`` keeps all.
        forward: What to call on ``batch["x"]`` instead of ``model`` (e.g. a method that
            computes fewer outputs, returning a dict of them); ``model`` still sets the
            device and the evaluation mode.

    Returns:
        One array per output (and ``index``), first dim the samples.

    Raises:
        ValueError: If the model returns a tuple but has no ``output_names`` of its length.
    """
    device = device if isinstance(device, torch.device) else pick_device(device)
    model.to(device).eval()
    parts: dict[str, list[np.ndarray]] = {}
    with torch.no_grad():
        for raw in loader:
            batch = _to_device(raw, device)
            outputs = _named_outputs(model, (forward or model)(batch["x"]))
            if isinstance(raw.get("index"), Tensor):
                outputs["index"] = raw["index"]
            for name, value in outputs.items():
                if keep is None or name in keep or name == "index":
                    parts.setdefault(name, []).append(
                        value.detach().float().cpu().numpy()
                        if value.is_floating_point()
                        else value.cpu().numpy()
                    )
    return {name: np.concatenate(values) for name, values in parts.items()}


def _named_outputs(model: nn.Module, outputs: Any) -> dict[str, Tensor]:
    if isinstance(outputs, Tensor):
        return {"output": outputs}
    if isinstance(outputs, Mapping):
        return dict(outputs)
    names = getattr(model, "output_names", None)
    if names is None or len(names) != len(outputs):
        raise ValueError(
            f"{type(model).__name__} returns {len(outputs)} outputs but its output_names "
            f"is {names!r}: predict cannot name them"
        )
    return dict(zip(names, outputs, strict=True))
