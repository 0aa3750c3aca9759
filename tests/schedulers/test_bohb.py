import numpy as np
import pytest

from hpt_magic import Float, Study, TuneError, tune
from hpt_magic.schedulers import BOHBScheduler


def objective(trial):
    x, y = trial.params["x"], trial.params["y"]
    for step in tune.steps(9):
        tune.report(-((x - 0.8) ** 2 + (y - 0.2) ** 2) * (1 + 1 / (step + 1)))


def distance(trial):
    return np.hypot(trial.params["x"] - 0.8, trial.params["y"] - 0.2)


def run(n_trials, **kwargs):
    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, direction="maximize", seed=3,
                  scheduler=BOHBScheduler(max_steps=9, **kwargs))
    study.optimize(objective, n_trials=n_trials)
    return study


def test_model_proposes_after_enough_observations():
    study = run(60, random_fraction=0.2)
    from_model = [t for t in study.trials if "model_budget" in t.user_attrs]
    others = [t for t in study.trials if "model_budget" not in t.user_attrs]
    # Two parameters: 3 good and 3 bad observations at a budget are needed first.
    assert all("model_budget" not in t.user_attrs for t in study.trials[:6])
    assert len(from_model) > 30
    assert np.median([distance(t) for t in from_model]) < 0.5 * np.median(
        [distance(t) for t in others])


def test_model_uses_the_largest_budget_with_enough_observations():
    study = run(60, random_fraction=0.0)
    budgets = [t.user_attrs["model_budget"] for t in study.trials if "model_budget" in
               t.user_attrs]
    assert budgets[0] in (1, 3)
    assert budgets[-1] == 9
    assert budgets == sorted(budgets)


def test_random_fraction_one_never_uses_the_model():
    study = run(30, random_fraction=1.0)
    assert not any("model_budget" in t.user_attrs for t in study.trials)


def test_define_by_run_space():
    def by_run(trial):
        x = tune.uniform(0, 1, name="x")
        for _ in tune.steps(3):
            tune.report((x - 0.3) ** 2)

    study = Study(scheduler="bohb", max_steps=3, seed=0,
                  scheduler_args={"random_fraction": 0.0})
    study.optimize(by_run, n_trials=25)
    assert any("model_budget" in t.user_attrs for t in study.trials)
    assert abs(study.best_params["x"] - 0.3) < 0.1


@pytest.mark.parametrize("kwargs", [{"random_fraction": 2}, {"top_n_percent": 0},
                                    {"min_points_in_model": 1}, {"num_samples": 0}])
def test_bad_options(kwargs):
    with pytest.raises(TuneError):
        BOHBScheduler(max_steps=9, **kwargs)


def test_continued_study_models_its_earlier_trials(tmp_path):
    space = {"x": Float(0, 1), "y": Float(0, 1)}
    path = tmp_path / "bohb.db"
    Study(space=space, direction="maximize", seed=3, name="b", storage=path).optimize(
        objective, n_trials=20)
    again = Study(space=space, direction="maximize", seed=3, name="b", storage=path,
                  scheduler=BOHBScheduler(max_steps=9, random_fraction=0.0))
    assert "model_budget" in again.ask().user_attrs
