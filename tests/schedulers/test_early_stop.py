import pytest

from hpt_magic import Study, TuneError, tune
from hpt_magic.schedulers import EarlyStopping, make_scheduler


def test_stops_after_patience_and_completes_with_best(curves):
    study = Study(scheduler=EarlyStopping(patience=3))
    study.optimize(curves([[5, 4, 3, 3.5, 3.2, 3.1, 2.0, 1.0]]), n_trials=1)
    trial = study.trials[0]
    assert trial.last_step == 5
    assert trial.state.value == "complete"
    assert trial.value == 3
    assert trial.user_attrs["best_step"] == 2
    assert trial.user_attrs["decision"] == "stop"


def test_min_delta_small_gains_do_not_reset_patience(curves):
    study = Study(scheduler=EarlyStopping(patience=2, min_delta=0.1))
    study.optimize(curves([[5, 4.95, 4.9, 4.85, 1.0]]), n_trials=1)
    trial = study.trials[0]
    assert trial.last_step == 2
    assert (trial.value, trial.user_attrs["best_step"]) == (4.9, 2)


def test_direction_maximize(curves):
    study = Study(direction="maximize", scheduler="early-stop", scheduler_args={"patience": 2})
    study.optimize(curves([[0.5, 0.8, 0.7, 0.6, 0.9], [0.1, 0.2, 0.3, 0.4, 0.5]]), n_trials=2)
    stopped, improving = study.trials
    assert (stopped.last_step, stopped.value, stopped.user_attrs["best_step"]) == (3, 0.8, 1)
    assert (improving.last_step, improving.value) == (4, 0.5)
    assert "decision" not in improving.user_attrs


def test_trial_that_keeps_improving_keeps_its_own_score():
    def objective(trial):
        for step in tune.steps(4):
            tune.report(10 - step)
        return 42.0

    study = Study(scheduler=EarlyStopping(patience=1))
    study.optimize(objective, n_trials=1)
    assert study.trials[0].value == 42.0


@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": 1.5}, {"min_delta": -1}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        make_scheduler("early-stop", **kwargs)
