"""Running a study of a model trained by the loop: the objective and the summary."""

from __future__ import annotations

import json

import optuna
import pytest

from rainscore.models.study import loss_objective, run_study
from rainscore.models.training import TrainResult
from rainscore.models.tuning import Dimension, TuningConfig

optuna.logging.set_verbosity(optuna.logging.WARNING)
SPACE = {"width": Dimension(type="int", low=1, high=9)}


def _train(values, on_epoch) -> TrainResult:
    """A fake training: the loss is (width - 4)² at epoch 3; it reports 2 epochs."""
    for epoch in (1, 2):
        on_epoch(epoch, {"train_loss": 1.0, "val_loss": 10.0 - epoch})
    return TrainResult(
        [], best_epoch=3, best_val_loss=float((values["width"] - 4) ** 2), state_dict={}
    )


def test_the_objective_returns_the_best_loss_and_records_the_best_epoch() -> None:
    trial = optuna.trial.FixedTrial({"width": 6})
    assert loss_objective(SPACE, _train, what="toy")(trial) == 4.0
    assert trial.user_attrs["best_epoch"] == 3


def test_a_study_summarises_its_best_trial_and_a_rerun_adds_trials(tmp_path) -> None:
    tuning = TuningConfig(n_trials=4, seed=1, startup_trials=2, study_name="toy", space=SPACE)
    journal = tmp_path / "study" / "journal.log"
    first = run_study(journal, tuning, loss_objective(SPACE, _train, what="toy"))
    assert first["n_trials"] == 4 and first["states"] == {"COMPLETE": 4}
    assert first["best_val_loss"] == min(
        (t.params["width"] - 4) ** 2
        for t in optuna.load_study(
            study_name="toy",
            storage=optuna.storages.JournalStorage(
                optuna.storages.journal.JournalFileBackend(str(journal))
            ),
        ).trials
    )
    assert first["best_epoch"] == 3 and first["journal"] == str(journal)
    json.dumps(first, allow_nan=False)  # JSON-safe
    second = run_study(journal, tuning, loss_objective(SPACE, _train, what="toy"))
    assert second["n_trials"] == 8 and second["best_val_loss"] <= first["best_val_loss"]


def test_a_study_without_a_complete_trial_is_an_error(tmp_path) -> None:
    def pruned(values, on_epoch) -> TrainResult:
        raise optuna.TrialPruned("always")

    tuning = TuningConfig(n_trials=2, study_name="toy", space=SPACE)
    with pytest.raises(ValueError, match=r"'toy' has no complete trial \(\{'PRUNED': 2\}"):
        run_study(tmp_path / "journal.log", tuning, loss_objective(SPACE, pruned, what="toy"))
