import math

import pytest
from sampler_cases import PLANE, quadratic

from hpt_magic import Choice, Float, Int, Study, TrialPruned, TuneError
from hpt_magic.samplers import SAMPLERS, CmaEsSampler, make_sampler


def test_registered_by_name():
    assert SAMPLERS["cmaes"] is CmaEsSampler
    sampler = make_sampler("cmaes", seed=2, popsize=8, sigma0=0.1)
    assert isinstance(sampler, CmaEsSampler) and (sampler.popsize, sampler.sigma0) == (8, 0.1)


@pytest.mark.parametrize("kwargs", [{"sigma0": 0}, {"sigma0": 2}, {"popsize": 1},
                                    {"popsize": 4.5}])
def test_bad_options_raise(kwargs):
    with pytest.raises(TuneError):
        CmaEsSampler(**kwargs)


def test_values_respect_bounds_logs_ints_and_choices():
    space = {"lr": Float(1e-5, 1e-1, log=True), "units": Int(8, 512, log=True),
             "layers": Int(1, 6), "drop": Float(0, 0.5, step=0.1),
             "act": Choice(["relu", "tanh"])}

    def score(t):
        p = t.params
        return ((math.log10(p["lr"]) + 3) ** 2 + (math.log2(p["units"]) - 6) ** 2
                + (p["layers"] - 2) ** 2 + p["drop"] + (p["act"] == "relu"))

    study = Study(space=space, sampler=CmaEsSampler(seed=0))
    study.optimize(score, n_trials=60)
    for t in study.trials:
        assert all(d.contains(t.params[n]) for n, d in space.items()), t.params
        assert isinstance(t.params["units"], int) and round(t.params["drop"] * 10, 9) % 1 == 0
    assert {t.params["act"] for t in study.trials} == {"relu", "tanh"}
    assert study.best_value < 1.5


def test_same_seed_same_trials():
    def run(seed):
        study = Study(space=PLANE, sampler="cmaes", seed=seed)
        study.optimize(quadratic, n_trials=20)
        return [t.params for t in study.trials]

    assert run(1) == run(1) != run(2)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_converges_on_a_quadratic(direction):
    sign = 1 if direction == "minimize" else -1
    study = Study(space=PLANE, sampler=CmaEsSampler(seed=0), direction=direction)
    study.optimize(lambda t: sign * quadratic(t), n_trials=90)
    assert abs(study.best_value) < 1e-3


def test_failed_and_pruned_trials():
    calls = []

    def objective(trial):
        calls.append(trial.number)
        if len(calls) % 4 == 0:
            raise RuntimeError("flaky")
        value = quadratic(trial)
        if len(calls) % 5 == 0:
            trial.report(value, 0)
            trial.report(value + 100.0, 1)
            raise TrialPruned()
        return value

    study = Study(space=PLANE, sampler=CmaEsSampler(seed=3))
    study.optimize(objective, n_trials=120)
    counts = study.counts()
    assert counts["failed"] == 30 and counts["pruned"] > 10
    assert study.best_value < 1e-2


def test_several_objectives_are_refused_before_anything_is_stored(tmp_path):
    path = tmp_path / "s.db"
    with pytest.raises(TuneError, match="'cmaes'.*2 objectives.*--sampler tpe"):
        Study(directions=["min", "max"], sampler="cmaes", storage=path, name="mo")
    assert not path.exists() or Study(storage=path, name="other").storage.get_study("mo") is None
    # A stored multi-objective study continued with CMA-ES is refused too.
    Study(directions=["min", "max"], storage=path, name="mo")
    with pytest.raises(TuneError, match="'cmaes'.*2 objectives"):
        Study(sampler="cmaes", storage=path, name="mo")


def test_a_sampler_set_after_opening_is_checked_when_the_run_starts():
    study = Study(directions=["min", "max"], objectives=["a", "b"], space={"x": Float(0, 1)})
    study.sampler = CmaEsSampler(seed=0)
    with pytest.raises(TuneError, match="'cmaes'.*2 objectives.*sampler='tpe'"):
        study.optimize(lambda t: {"a": t.params["x"], "b": t.params["x"]}, n_trials=3)
    assert study.trials == []


def test_a_constraint_ranks_the_trials_that_break_it_last():
    # The score prefers large x; the constraint keeps x <= 0.3.
    study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, objectives=["score"],
                  constraints=["x <= 0.3"], sampler=CmaEsSampler(seed=0, popsize=6))
    study.optimize(lambda t: {"score": -t.params["x"] + (t.params["y"] - 0.5) ** 2,
                              "x": t.params["x"]}, n_trials=60)
    late = study.trials[-24:]
    assert sum(t.feasible for t in late) >= 12  # at the boundary: about half, or 7 at random
    assert study.best_params["x"] == pytest.approx(0.3, abs=0.05)
