import math

import numpy as np
import pytest
from sampler_cases import SPACE, quadratic, score

from hpt_magic import Choice, Float, Int, RandomSampler, Study, TuneError
from hpt_magic.samplers import SAMPLERS, TPESampler, make_sampler


def test_registered_by_name():
    assert SAMPLERS["tpe"] is TPESampler
    sampler = make_sampler("tpe", seed=3, n_startup_trials=4)
    assert isinstance(sampler, TPESampler) and sampler.seed == 3
    assert sampler.n_startup_trials == 4


@pytest.mark.parametrize("kwargs", [{"n_startup_trials": -1}, {"n_ei_candidates": 0},
                                    {"gamma": 1.5}, {"gamma": "a"}, {"prior_weight": 0}])
def test_bad_options_raise(kwargs):
    with pytest.raises(TuneError):
        TPESampler(**kwargs)


@pytest.mark.parametrize("multivariate", [True, False])
def test_values_respect_bounds_steps_logs_and_choices(multivariate):
    study = Study(space=SPACE, sampler=TPESampler(seed=1, n_startup_trials=5,
                                                  multivariate=multivariate))
    study.optimize(lambda t: score(t.params), n_trials=40)
    for t in study.trials:
        for name, dist in SPACE.items():
            assert dist.contains(t.params[name]), (name, t.params[name])
        assert t.params["stepped"] in (0.0, 0.25, 0.5, 0.75, 1.0)
        assert isinstance(t.params["int"], int) and t.params["intstep"] % 5 == 0
    model = study.trials[5:]
    assert len({t.params["lin"] for t in model}) > 20  # proposals, not one repeated point
    # The model learns the log-scale optimum (1e-2) of "log" and the best option.
    best = sorted(study.trials, key=lambda t: t.value)[:5]
    assert all(1e-4 <= t.params["log"] <= 1e-1 for t in best)
    assert study.best_value < 4


@pytest.mark.parametrize("multivariate", [True, False])
def test_converges_on_a_2d_quadratic(multivariate):
    study = Study(space={"x": Float(-5, 5), "y": Float(-5, 5)},
                  sampler=TPESampler(seed=0, multivariate=multivariate))
    study.optimize(quadratic, n_trials=60)
    # Random search gets below 0.1 in 60 trials with probability ~0.17.
    assert study.best_value < 0.1
    assert abs(study.best_params["x"] - 1) < 0.3 and abs(study.best_params["y"] + 2) < 0.3


def test_maximize():
    study = Study(space={"x": Float(-5, 5), "y": Float(-5, 5)}, sampler="tpe", seed=0,
                  direction="maximize")
    study.optimize(lambda t: -quadratic(t), n_trials=60)
    assert study.best_value > -0.05


def test_beats_random_search_with_the_same_budget():
    def run(sampler):
        study = Study(space=SPACE, sampler=sampler)
        study.optimize(lambda t: score(t.params), n_trials=50)
        return study.best_value

    tpe = [run(TPESampler(seed=s)) for s in range(3)]
    rnd = [run(RandomSampler(seed=s)) for s in range(3)]
    assert np.median(tpe) < np.median(rnd)


def test_same_seed_same_trials_other_seed_other_trials():
    def params(seed):
        study = Study(space=SPACE, sampler="tpe", seed=seed)
        study.optimize(lambda t: score(t.params), n_trials=20)
        return [t.params for t in study.trials]

    assert params(7) == params(7)
    assert params(7) != params(8)


def test_warm_up_is_random_search():
    space = {"x": Float(0, 1), "act": Choice(["a", "b"])}
    tpe = Study(space=space, sampler=TPESampler(seed=5, n_startup_trials=6))
    rnd = Study(space=space, sampler=RandomSampler(seed=5))
    for study in (tpe, rnd):
        study.optimize(lambda t: t.params["x"], n_trials=8)
    assert [t.params for t in tpe.trials[:6]] == [t.params for t in rnd.trials[:6]]
    assert tpe.trials[6].params != rnd.trials[6].params


def test_resumed_seeded_study_does_not_repeat(tmp_path):
    db = str(tmp_path / "s.db")
    first = Study(space=SPACE, sampler="tpe", seed=0, name="s", storage=db)
    first.optimize(lambda t: score(t.params), n_trials=15)
    old = [t.params for t in first.trials]
    again = Study(space=SPACE, sampler="tpe", seed=0, name="s", storage=db)
    assert again.resumed
    again.optimize(lambda t: score(t.params), n_trials=10)
    new = [t.params for t in again.trials[15:]]
    assert len(new) == 10 and not any(p in old for p in new)
    assert again.best_value <= first.best_value


@pytest.mark.parametrize("multivariate", [True, False])
def test_conditional_space(multivariate):
    def objective(trial):
        model = trial.suggest("model", Choice(["linear", "tree"]))
        if model == "linear":
            c = trial.suggest("c", Float(1e-3, 1e3, log=True))
            return 1 + (math.log10(c) - 1) ** 2
        depth = trial.suggest("depth", Int(1, 12))
        rate = trial.suggest("rate", Float(0, 1))
        return (depth - 4) ** 2 / 10 + (rate - 0.3) ** 2

    study = Study(sampler=TPESampler(seed=0, multivariate=multivariate))
    study.optimize(objective, n_trials=60, catch=False)
    for t in study.trials:
        expected = {"model", "c"} if t.params["model"] == "linear" else {"model", "depth",
                                                                          "rate"}
        assert set(t.params) == expected
    tree = [t for t in study.trials[30:] if t.params["model"] == "tree"]
    assert len(tree) > 20  # the better branch is preferred
    assert study.best_params["model"] == "tree" and study.best_value < 0.1


def _seeded_history(consider_pruned):
    """Ten complete trials scoring 100 everywhere, and pruned ones that reported 0 near 8."""
    study = Study(space={"x": Float(0, 10)}, sampler=TPESampler(
        seed=0, n_startup_trials=5, consider_pruned=consider_pruned))
    for k in range(10):
        study.tell(study.ask({"x": k + 0.5}), 100.0)
    for x in (7.8, 8.0, 8.2):
        trial = study.ask({"x": x})
        trial.report(0.0, step=1)
        study.tell(trial, state="pruned")
    return study


def _near_8(study):
    xs = [study.tell(study.ask(), 100.0).params["x"] for _ in range(8)]
    return sum(6.5 < x < 9.5 for x in xs)


def test_pruned_trials_count_with_their_last_report():
    assert _near_8(_seeded_history(consider_pruned=True)) >= 5


def test_pruned_trials_ignored_when_asked():
    assert _near_8(_seeded_history(consider_pruned=False)) <= 2


def test_failed_trials_are_ignored():
    space = {"x": Float(0, 10)}
    study = Study(space=space, sampler=TPESampler(seed=2, n_startup_trials=3))
    for _ in range(6):
        study.tell(study.ask(), state="failed")
    study.tell(study.ask(), float("nan"))  # a non-finite score fails the trial too
    trial = study.ask()
    # Seven failed trials are no observations: this is still warm-up, i.e. random search.
    expected = RandomSampler(seed=2).sample_one(study, trial, "x", space["x"])
    assert trial.params["x"] == expected


def test_running_trials_push_parallel_proposals_apart():
    def spread(liar):
        out = []
        for seed in range(8):
            study = Study(space={"x": Float(0, 10)},
                          sampler=TPESampler(seed=seed, constant_liar=liar))
            study.optimize(lambda t: (t.params["x"] - 3) ** 2, n_trials=40)
            pending = [study.ask().params["x"] for _ in range(12)]
            out.append(np.mean(np.abs(np.array(pending) - 3)))
        return np.mean(out)

    assert spread(True) > 1.2 * spread(False)


@pytest.mark.parametrize("multivariate", [True, False])
@pytest.mark.parametrize("level", [Choice(["a", "b", "c"]), Int(1, 6)])
def test_running_trials_do_not_push_parallel_proposals_off_the_best_level(multivariate, level):
    # Twelve workers busy at once: the running trials mostly try the best option (or integer
    # level), which is no evidence against it. They spread the proposals along x instead.
    best = level.from_unit(0.5)

    def share_of_best(liar):
        hits = 0
        for seed in range(10):
            study = Study(space={"x": Float(0, 1), "level": level},
                          sampler=TPESampler(seed=seed, constant_liar=liar,
                                             multivariate=multivariate))
            study.optimize(lambda t: (t.params["x"] - 0.5) ** 2 + (t.params["level"] != best),
                           n_trials=20)
            hits += sum(study.ask().params["level"] == best for _ in range(12))
        return hits / 120

    assert share_of_best(True) >= share_of_best(False)


@pytest.mark.parametrize("multivariate", [True, False])
def test_running_trials_spread_proposals_in_a_space_without_continuous_parameters(multivariate):
    # With nothing continuous to spread along, the liar keeps the running trials' levels:
    # six workers must not be handed the same configuration.
    def distinct(liar):
        n = 0
        for seed in range(10):
            study = Study(space={"i": Int(0, 49), "c": Choice(list("abcdefgh"))},
                          sampler=TPESampler(seed=seed, constant_liar=liar,
                                             multivariate=multivariate))
            study.optimize(lambda t: abs(t.params["i"] - 20) + (t.params["c"] != "c"),
                           n_trials=12)
            n += len({tuple(study.ask().params.items()) for _ in range(6)})
        return n / 10

    assert distinct(True) >= distinct(False) + 1


@pytest.mark.parametrize("shape, axis", [((24, 301), -1), ((24, 301, 5), 1), ((3, 1), -1)])
def test_logsumexp_agrees_with_scipy_also_on_infinite_rows(shape, axis):
    from scipy.special import logsumexp

    from hpt_magic.samplers._parzen import _logsumexp

    a = np.random.default_rng(0).normal(scale=50, size=shape)
    a[0] = -np.inf  # no kernel has mass there: -inf, not nan
    a[1, 0] = np.inf
    a[2, :2] = -np.inf
    expected = logsumexp(a, axis=axis)
    assert np.isneginf(expected[0]).all() and np.isposinf(expected[1]).all()
    np.testing.assert_allclose(_logsumexp(a, axis=axis), expected, rtol=1e-13)
