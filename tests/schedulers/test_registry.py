import pytest

from hpt_magic import Study, tune
from hpt_magic.schedulers import SCHEDULERS, make_scheduler


def test_names():
    assert sorted(SCHEDULERS) == ["asha", "bohb", "early-stop", "hyperband", "median", "mobster",
                                 "pbt"]


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_scheduler_runs_from_its_name_and_stops_loops_quietly(name):
    after_loop = []

    def objective(trial):
        x = tune.uniform(0, 1, name="x")
        w = tune.restore(0.0)
        for step in tune.steps(9):
            w += x
            tune.report(w + step * 0.01, checkpoint=w)
        after_loop.append(trial.number)

    study = Study(scheduler=name, max_steps=9, direction="maximize", seed=0,
                  scheduler_args={"patience": 1} if name == "early-stop" else None)
    study.optimize(objective, n_trials=20)
    assert study.counts()["failed"] == 0
    assert study.counts()["pruned"] + study.counts()["complete"] == 20
    assert len(after_loop) == 20
    assert repr(study.scheduler).startswith(type(study.scheduler).__name__)


def test_options_by_keyword():
    sched = make_scheduler("asha", max_steps=27, reduction_factor=2, brackets=2)
    assert (sched.max_steps, sched.reduction_factor, sched.brackets) == (27, 2, 2)
