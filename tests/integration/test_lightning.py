"""tune.lightning_callback: a Lightning Trainer reporting epochs to the trial."""

import logging
import sys

import pytest
from framework_cases import assert_pruned_with_curve

from hpt_magic import Study, TrialState, tune

pl = pytest.importorskip("lightning.pytorch")
torch = pytest.importorskip("torch")

EPOCHS = 4
CALLBACK = tune.lightning_callback("val_loss")


class Classifier(pl.LightningModule):
    def __init__(self, lr):
        super().__init__()
        self.lr = lr
        self.net = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.ReLU(),
                                       torch.nn.Linear(8, 2))

    def training_step(self, batch, _):
        x, y = batch
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, _):
        x, y = batch
        self.log("val_loss", torch.nn.functional.cross_entropy(self.net(x), y))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.lr)


def objective_for(data):
    X, y, Xv, yv = (torch.as_tensor(a) for a in data)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=32)
    valid = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xv, yv), batch_size=200)

    def objective(trial):
        torch.manual_seed(0)
        model = Classifier(tune.loguniform(1e-5, 1.0, name="lr"))
        trainer = pl.Trainer(max_epochs=EPOCHS, callbacks=[CALLBACK], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(model, loader, valid)
        return trainer.callback_metrics["val_loss"].item()
    return objective


def test_uses_only_current_hooks():
    hooks = [name for name in vars(type(CALLBACK)) if name.startswith("on_")]
    assert hooks and all(callable(getattr(pl.Callback, name, None)) for name in hooks)


def test_asha_prunes_a_poor_trial_and_the_callback_carries_nothing_over(binary):
    study = Study(scheduler="asha", max_steps=EPOCHS, scheduler_args={"reduction_factor": 2})
    for lr in (0.3, 1e-5, 0.6):  # distinct (a repeat reuses its result), the last best
        study.enqueue({"lr": lr})
    study.optimize(objective_for(binary), n_trials=3)
    good, poor, again = study.trials
    assert good.state is again.state is TrialState.COMPLETE, (good.error, again.error)
    assert sorted(good.intermediate) == sorted(again.intermediate) == list(range(EPOCHS))
    assert_pruned_with_curve(poor, [0])


def test_only_fitting_reports_and_max_steps_alone_trains_to_the_end(binary):
    X, y, Xv, yv = (torch.as_tensor(a) for a in binary)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=50)
    valid = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xv, yv), batch_size=200)
    batches = len(loader)

    def objective(trial):
        model = Classifier(tune.uniform(0.1, 0.2, name="lr"))
        trainer = pl.Trainer(max_steps=3 * batches, callbacks=[CALLBACK], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0)
        trainer.fit(model, loader, valid)
        assert trainer.global_step == 3 * batches  # max_epochs is -1: no early stop
        return trainer.validate(model, valid, verbose=False)[0]["val_loss"]

    study = Study(seed=0)
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.COMPLETE, trial.error
    # Three epochs fitted: three points; validate() after fit trained nothing and adds none.
    assert sorted(trial.intermediate) == [0, 1, 2]


def test_lightnings_log_lines_stay_in_the_trials_output(binary, capsys, monkeypatch):
    """In a kernel Lightning logs through a handler of its own made at import, holding the
    stderr of that moment: its lines must not pass the trial's capture into the cell."""
    handler = logging.StreamHandler(sys.stderr)
    monkeypatch.setattr(logging.getLogger("lightning.pytorch"), "handlers", [handler])
    monkeypatch.setattr(logging.getLogger("lightning.pytorch"), "propagate", False)
    study = Study(seed=0)
    study.optimize(objective_for(binary), n_trials=1)
    trial = study.trials[0]
    assert trial.state is TrialState.COMPLETE, trial.error
    assert "GPU available" in trial.output
    assert "GPU available" not in capsys.readouterr().err
    assert handler.stream is sys.stderr  # given back when the run ends


def test_a_loss_in_a_study_that_maximizes_fails_the_trial_and_says_so(binary):
    study = Study(seed=0, direction="maximize", scheduler="asha", max_steps=EPOCHS)
    study.optimize(objective_for(binary), n_trials=2)
    assert all(t.state is TrialState.FAILED for t in study.trials)
    assert "tune.lightning_callback: for 'val_loss' lower is better" in study.trials[0].error
    assert "--minimize" in study.trials[0].error


@pytest.mark.parametrize("validation", ["no loader", "limit_val_batches=0"])
def test_a_trainer_that_never_validates_fails_the_trial_and_says_why(binary, validation):
    # The callback reports after each validation: without one, trials trained to the end
    # with no curve, and no scheduler could stop them.
    X, y, Xv, yv = (torch.as_tensor(a) for a in binary)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=50)
    valid = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(Xv, yv), batch_size=200)
    epochs = []

    def objective(trial):
        model = Classifier(tune.uniform(0.1, 0.2, name="lr"))
        model.on_train_epoch_start = lambda: epochs.append(model.current_epoch)
        trainer = pl.Trainer(max_epochs=EPOCHS, callbacks=[CALLBACK], logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False,
                             limit_val_batches=0 if validation != "no loader" else None)
        trainer.fit(model, loader, None if validation == "no loader" else valid)
        return 0.0

    study = Study(seed=0, scheduler="asha", max_steps=EPOCHS)
    study.optimize(objective, n_trials=1)
    trial, = study.trials
    assert trial.state is TrialState.FAILED
    assert "tune.lightning_callback: this Trainer runs no validation" in trial.error
    assert "val_dataloaders" in trial.error and "'val_loss'" in trial.error
    assert "\n" not in trial.error
    assert epochs == []  # said before training
    # Outside a trial (a final fit on all the data with the same callbacks) it trains.
    objective(None)
    assert epochs == list(range(EPOCHS))
