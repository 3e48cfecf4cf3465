"""Hyper-parameter search with Optuna: the search space, the study on disk and pruning.

The search space is a mapping from a hyper-parameter's name to a :class:`Dimension` (an
integer range, a float range, a log-scaled float range or a list of choices), parsed from
the parameters (``training.tuning.space``). :func:`suggest` draws one value of each from an
Optuna trial, so an objective written against it runs unchanged under
``optuna.trial.FixedTrial`` (tests) and a real study.

A study lives in a journal file (``optuna.storages.JournalStorage`` over a
``JournalFileBackend``: one JSON line per operation, appended), so a rerun of
:func:`open_study` on the same file continues the study: finished trials stay and new
ones are added. Its sampler is a seeded TPE sampler and its pruner a median pruner on the
validation loss reported after every epoch (:func:`pruning_callback`, handed to the
training loop's ``on_epoch``).

Nothing here knows the U-Net: the autoencoder is tuned the same way.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from rainscore.params import dataclass_from_params

__all__ = [
    "Dimension",
    "TuningConfig",
    "open_study",
    "pruning_callback",
    "study_summary",
    "suggest",
]

logger = logging.getLogger(__name__)

DimensionKind = Literal["int", "float", "log", "categorical"]
_KINDS = ("int", "float", "log", "categorical")


@dataclass(frozen=True)
class Dimension:
    """One hyper-parameter's range.

    Attributes:
        type: ``int`` (integers ``low`` … ``high``, every ``step``), ``float`` (uniform on
            ``[low, high]``, optionally every ``step``), ``log`` (log-uniform on
            ``[low, high]``, ``low > 0``) or ``categorical`` (one of ``choices``).
        low: Lower bound (``int``, ``float``, ``log``).
        high: Upper bound, included.
        step: Grid step (``int``: default 1; ``float``: default none, continuous).
        choices: The values of a ``categorical`` dimension (numbers, strings or bools).
    """

    type: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.type not in _KINDS:
            raise ValueError(f"type must be one of {list(_KINDS)}, got {self.type!r}")
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical dimension needs a non-empty list of choices")
            if self.low is not None or self.high is not None or self.step is not None:
                raise ValueError("a categorical dimension takes choices, not low/high/step")
            bad = [c for c in self.choices if not isinstance(c, bool | int | float | str)]
            if bad:
                raise ValueError(f"choices must be numbers, strings or bools, got {bad}")
            return
        if self.choices:
            raise ValueError(f"a {self.type} dimension takes low/high, not choices")
        for name, value in (("low", self.low), ("high", self.high)):
            if value is None or isinstance(value, bool) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError(f"an int dimension needs integer bounds, got {self.low}, {self.high}")
        if self.type == "log" and self.low <= 0:
            raise ValueError(f"a log dimension needs low > 0, got {self.low}")
        if self.step is not None:
            if self.type == "log":
                raise ValueError("a log dimension takes no step")
            if isinstance(self.step, bool) or not self.step > 0:
                raise ValueError(f"step must be a positive number, got {self.step!r}")

    @classmethod
    def from_dict(cls, params: Mapping[str, Any], *, section: str) -> Dimension:
        """Build from a mapping such as ``{type: log, low: 1e-4, high: 1e-2}``.

        Args:
            params: The dimension's keys (``type``, ``low``, ``high``, ``step``,
                ``choices``).
            section: Its place in the parameters, for the messages
                (``training.tuning.space.width``).

        Returns:
            The dimension.

        Raises:
            ValueError: Naming ``section`` and the bad key or value.
        """
        if not isinstance(params, Mapping):
            raise ValueError(
                f"{section} must be a mapping with a type ({'/'.join(_KINDS)}), got {params!r}"
            )
        try:
            return dataclass_from_params(cls, params, section=section)
        except ValueError as err:
            message = str(err)
            raise ValueError(message if section in message else f"{section}: {message}") from None

    def to_distribution(self) -> optuna.distributions.BaseDistribution:
        """The equivalent Optuna distribution."""
        if self.type == "categorical":
            return optuna.distributions.CategoricalDistribution(self.choices)
        if self.type == "int":
            step = 1 if self.step is None else int(self.step)
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), step=step)
        return optuna.distributions.FloatDistribution(
            float(self.low), float(self.high), log=self.type == "log", step=self.step
        )


def suggest(trial: optuna.Trial, space: Mapping[str, Dimension]) -> dict[str, Any]:
    """One value of every dimension of ``space``, drawn by ``trial``.

    Args:
        trial: An Optuna trial (a study's, or ``optuna.trial.FixedTrial`` with fixed values).
        space: Hyper-parameter name → its range.

    Returns:
        Hyper-parameter name → value (``int`` for integer dimensions), in ``space``'s order.

    Raises:
        ValueError: Naming the hyper-parameter, when a fixed trial's value lies outside
            its range.
    """
    values: dict[str, Any] = {}
    for name, dim in space.items():
        try:
            values[name] = _suggest_one(trial, name, dim)
        except ValueError as err:
            raise ValueError(f"hyper-parameter {name!r}: {err}") from err
    return values


def _suggest_one(trial: optuna.Trial, name: str, dim: Dimension) -> Any:
    if dim.type == "categorical":
        return trial.suggest_categorical(name, list(dim.choices))
    if dim.type == "int":
        step = 1 if dim.step is None else int(dim.step)
        return trial.suggest_int(name, int(dim.low), int(dim.high), step=step)
    return trial.suggest_float(
        name, float(dim.low), float(dim.high), log=dim.type == "log", step=dim.step
    )


@dataclass(frozen=True)
class TuningConfig:
    """The search: its budget, its seed, its pruner and its space.

    Attributes:
        n_trials: Trials added by one run (a rerun adds as many again to the same study).
        timeout_s: Stop starting new trials after this many seconds (``None``: no limit).
        seed: Seed of the TPE sampler (offset by the number of trials already in the study,
            so that a resumed study does not repeat its first suggestions).
        startup_trials: Trials before the sampler leaves random search and before the
            pruner prunes (TPE's ``n_startup_trials`` and the median pruner's).
        warmup_epochs: Epochs of a trial before it may be pruned (``n_warmup_steps``).
        study_name: The study's name in the journal file.
        space: Hyper-parameter name → :class:`Dimension`.
    """

    n_trials: int = 20
    timeout_s: float | None = None
    seed: int = 0
    startup_trials: int = 5
    warmup_epochs: int = 2
    study_name: str = "unet"
    space: Mapping[str, Dimension] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.n_trials, bool) or self.n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer, got {self.n_trials!r}")
        if self.timeout_s is not None and not self.timeout_s > 0:
            raise ValueError(f"timeout_s must be positive or null, got {self.timeout_s!r}")
        if self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.startup_trials < 0:
            raise ValueError(
                f"startup_trials must be a non-negative integer, got {self.startup_trials!r}"
            )
        if self.warmup_epochs < 0:
            raise ValueError(
                f"warmup_epochs must be a non-negative integer, got {self.warmup_epochs!r}"
            )
        if not self.study_name:
            raise ValueError("study_name must be a non-empty string")
        bad = [k for k, v in self.space.items() if not isinstance(v, Dimension)]
        if bad:
            raise ValueError(f"space entries {bad} are not Dimensions")

    @classmethod
    def from_dict(
        cls, params: Mapping[str, Any] | None, *, section: str = "tuning"
    ) -> TuningConfig:
        """Build from the parameters (unknown keys are errors naming ``section.key``).

        Args:
            params: ``n_trials``, ``timeout_s``, ``seed``, ``startup_trials``,
                ``warmup_epochs``, ``study_name`` and ``space`` (name → dimension mapping).
            section: The section's place in the parameters, for the messages.

        Returns:
            The config.

        Raises:
            ValueError: Naming ``section.key`` and the bad value.
        """
        if params is not None and not isinstance(params, Mapping):
            raise ValueError(f"{section} must be a mapping, got {params!r}")
        params = dict(params or {})
        space = params.pop("space", None) or {}
        if not isinstance(space, Mapping):
            raise ValueError(f"{section}.space must be a mapping of dimensions, got {space!r}")
        dims = {
            str(name): Dimension.from_dict(dim, section=f"{section}.space.{name}")
            for name, dim in space.items()
        }
        try:
            return dataclass_from_params(cls, {**params, "space": dims}, section=section)
        except ValueError as err:
            message = str(err)
            raise ValueError(message if section in message else f"{section}: {message}") from None


def open_study(
    path: str | Path,
    name: str,
    seed: int,
    *,
    startup_trials: int = 5,
    warmup_epochs: int = 2,
) -> optuna.Study:
    """Open the study ``name`` in the journal file ``path``, creating either if needed.

    The study minimises (a validation loss). Its sampler is ``TPESampler(seed=seed + n)``
    where ``n`` is the number of trials already in the study: the same file and seed give
    the same suggestions, and a resumed study draws new ones instead of repeating the
    first run's. Its pruner is a ``MedianPruner``. Optuna's log messages are handed to
    :mod:`logging` (its own stderr handler is turned off).

    Args:
        path: The journal file (its folder is created).
        name: The study's name.
        seed: Seed of the sampler.
        startup_trials: Trials before TPE leaves random search and before pruning starts.
        warmup_epochs: Epochs of each trial before it may be pruned.

    Returns:
        The study, with every trial already in the file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Optuna's messages go through ``logging`` (the application's handlers: Kedro's log
    # format) instead of Optuna's own handler on stderr, which printed each one twice.
    optuna.logging.disable_default_handler()
    optuna.logging.enable_propagation()
    storage = JournalStorage(JournalFileBackend(str(path)))
    done = 0
    if name in {s.study_name for s in storage.get_all_studies()}:
        done = len(optuna.load_study(study_name=name, storage=storage).trials)
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="minimize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed + done, n_startup_trials=startup_trials),
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs
        ),
    )
    logger.info("Optuna study %r in %s: %d trial(s) already", name, path, done)
    return study


def pruning_callback(trial: optuna.Trial) -> Callable[[int, dict[str, float]], None]:
    """An ``on_epoch`` callback for the training loop that prunes ``trial``.

    It reports the epoch's ``val_loss`` to the trial and raises ``optuna.TrialPruned``
    when the study's pruner says so (the training loop lets it through; the study records
    the trial as pruned).

    Args:
        trial: The trial being trained.

    Returns:
        ``on_epoch(epoch, metrics)``.
    """

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        trial.report(float(metrics["val_loss"]), step=epoch)
        if trial.should_prune():
            raise optuna.TrialPruned(
                f"trial {trial.number} pruned at epoch {epoch} (val_loss {metrics['val_loss']:.4g})"
            )

    return on_epoch


def study_summary(study: optuna.Study) -> dict[str, Any]:
    """The best trial of ``study`` and its counts, JSON-safe.

    Args:
        study: A study with at least one complete trial.

    Returns:
        ``study_name``, ``best_trial`` (number), ``best_value``, ``params``,
        ``user_attrs`` (of the best trial), ``n_trials`` and ``states`` (trials per state).

    Raises:
        ValueError: If no trial of the study is complete (all pruned or failed), naming
            the study and its counts.
    """
    states: dict[str, int] = {}
    for trial in study.trials:
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:
        raise ValueError(
            f"Optuna study {study.study_name!r} has no complete trial ({states or 'no trials'}): "
            "raise tuning.n_trials or tuning.warmup_epochs / startup_trials so that trials "
            "can finish before being pruned"
        )
    best = study.best_trial
    return {
        "study_name": study.study_name,
        "best_trial": best.number,
        "best_value": float(best.value),
        "params": dict(best.params),
        "user_attrs": dict(best.user_attrs),
        "n_trials": len(study.trials),
        "states": states,
    }
