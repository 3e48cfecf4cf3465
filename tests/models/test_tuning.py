"""Optuna tuning: the search space, suggestions, the study journal and pruning."""

from __future__ import annotations

import logging

import optuna
import pytest

from rainscore.models.tuning import (
    Dimension,
    TuningConfig,
    open_study,
    pruning_callback,
    study_summary,
    suggest,
)

optuna.logging.set_verbosity(optuna.logging.WARNING)

SPACE = {
    "width": Dimension(type="categorical", choices=(8, 16)),
    "depth": Dimension(type="int", low=2, high=4),
    "dropout": Dimension(type="float", low=0.0, high=0.3),
    "learning_rate": Dimension(type="log", low=1e-4, high=1e-2),
}


def _objective(trial: optuna.Trial) -> float:
    values = suggest(trial, SPACE)
    return (values["learning_rate"] - 1e-3) ** 2 + values["dropout"] + values["depth"]


def test_suggest_under_a_fixed_trial_returns_the_fixed_values() -> None:
    fixed = {"width": 16, "depth": 3, "dropout": 0.1, "learning_rate": 1e-3}
    assert suggest(optuna.trial.FixedTrial(fixed), SPACE) == fixed
    assert _objective(optuna.trial.FixedTrial(fixed)) == pytest.approx(3.1)


def test_suggest_refuses_a_fixed_value_outside_the_space() -> None:
    fixed = {"width": 32, "depth": 3, "dropout": 0.1, "learning_rate": 1e-3}
    with pytest.raises(ValueError, match="width"):
        suggest(optuna.trial.FixedTrial(fixed), SPACE)


def test_suggested_values_lie_in_their_ranges_with_their_types() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    for _ in range(20):
        values = suggest(study.ask(), SPACE)
        assert values["width"] in (8, 16)
        assert isinstance(values["depth"], int) and 2 <= values["depth"] <= 4
        assert 0.0 <= values["dropout"] <= 0.3
        assert 1e-4 <= values["learning_rate"] <= 1e-2


def test_config_from_parameters() -> None:
    config = TuningConfig.from_dict(
        {
            "n_trials": 3,
            "seed": 7,
            "space": {
                "width": {"type": "categorical", "choices": [8, 16]},
                "learning_rate": {"type": "log", "low": 1e-4, "high": 1e-2},
                "depth": {"type": "int", "low": 2, "high": 3},
            },
        },
        section="training.tuning",
    )
    assert config.n_trials == 3 and config.seed == 7 and config.timeout_s is None
    assert config.space["width"] == Dimension(type="categorical", choices=(8, 16))
    assert config.space["learning_rate"].to_distribution() == (
        optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)
    )
    assert config.space["depth"].to_distribution() == optuna.distributions.IntDistribution(2, 3)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_trial": 2}, r"training.tuning parameters \['n_trial'\].*did you mean 'n_trials'"),
        ({"n_trials": 0}, "n_trials must be a positive integer, got 0"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
        ({"space": {"lr": {"type": "log", "low": 0, "high": 1}}}, r"space\.lr.*low > 0"),
        ({"space": {"lr": {"type": "uniform", "low": 0, "high": 1}}}, r"space\.lr.*uniform"),
        ({"space": {"w": {"type": "categorical"}}}, r"space\.w.*choices"),
        ({"space": {"d": {"type": "int", "low": 3, "high": 2}}}, r"space\.d.*low 3 is above"),
        ({"space": {"d": {"type": "int", "low": 1, "hihg": 2}}}, r"space\.d.*'hihg'"),
        ({"space": {"d": 3}}, r"space\.d must be a mapping"),
    ],
)
def test_bad_parameters_are_named(params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TuningConfig.from_dict(params, section="training.tuning")


def test_resuming_a_study_adds_trials(tmp_path) -> None:
    journal = tmp_path / "studies" / "journal.log"
    first = open_study(journal, "unet", seed=3)
    first.optimize(_objective, n_trials=2)
    again = open_study(journal, "unet", seed=3)
    assert len(again.trials) == 2
    again.optimize(_objective, n_trials=3)
    reopened = open_study(journal, "unet", seed=3)
    assert [t.number for t in reopened.trials] == [0, 1, 2, 3, 4]
    assert reopened.best_value == min(t.value for t in reopened.trials)
    # a resumed study draws new values instead of replaying the first run's suggestions
    assert reopened.trials[2].params != reopened.trials[0].params


def test_a_seeded_study_is_reproducible(tmp_path) -> None:
    runs = []
    for name in ("a", "b"):
        study = open_study(tmp_path / name / "journal.log", "unet", seed=11)
        study.optimize(_objective, n_trials=4)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    other = open_study(tmp_path / "c" / "journal.log", "unet", seed=12)
    other.optimize(_objective, n_trials=4)
    assert [t.params for t in other.trials] != runs[0]


def test_the_pruning_callback_prunes_a_trial_worse_than_the_median(tmp_path) -> None:
    study = open_study(tmp_path / "journal.log", "p", seed=0, startup_trials=1, warmup_epochs=1)

    def objective(trial: optuna.Trial) -> float:
        on_epoch = pruning_callback(trial)
        offset = 0.0 if trial.number == 0 else 10.0
        for epoch in range(4):
            on_epoch(epoch, {"train_loss": 1.0, "val_loss": offset + 1.0 / (epoch + 1)})
        return offset

    study.optimize(objective, n_trials=2)
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED]
    # pruned after the warm-up epoch: epochs 0 and 1 reported, not more
    assert sorted(study.trials[1].intermediate_values) == [0, 1]


def test_the_pruning_callback_never_prunes_a_fixed_trial() -> None:
    on_epoch = pruning_callback(optuna.trial.FixedTrial({}))
    for epoch in range(3):
        on_epoch(epoch, {"train_loss": 1.0, "val_loss": 1e9})


def test_optuna_messages_go_through_logging(tmp_path, caplog) -> None:
    study = open_study(tmp_path / "journal.log", "unet", seed=0)
    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        with caplog.at_level("INFO", logger="optuna"):
            study.optimize(_objective, n_trials=1)
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    assert any("Trial 0 finished" in r.getMessage() for r in caplog.records)
    optuna_logger = logging.getLogger("optuna")
    assert optuna_logger.propagate
    assert not [h for h in optuna_logger.handlers if type(h) is logging.StreamHandler]


def test_the_summary_names_the_best_trial_and_the_counts(tmp_path) -> None:
    study = open_study(tmp_path / "journal.log", "unet", seed=5)

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("best_epoch", trial.number + 1)
        return _objective(trial)

    study.optimize(objective, n_trials=3)
    summary = study_summary(study)
    best = min(study.trials, key=lambda t: t.value)
    assert summary == {
        "study_name": "unet",
        "best_trial": best.number,
        "best_value": best.value,
        "params": best.params,
        "user_attrs": {"best_epoch": best.number + 1},
        "n_trials": 3,
        "states": {"COMPLETE": 3},
    }


def test_a_study_without_a_complete_trial_is_named(tmp_path) -> None:
    study = open_study(tmp_path / "journal.log", "unet", seed=5)

    def pruned(trial: optuna.Trial) -> float:
        raise optuna.TrialPruned

    study.optimize(pruned, n_trials=2)
    with pytest.raises(ValueError, match=r"study 'unet' has no complete trial \(\{'PRUNED': 2\}\)"):
        study_summary(study)
