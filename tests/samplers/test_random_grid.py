import math
import tracemalloc

import numpy as np
import pytest
from sampler_cases import SPACE

from hpt_magic import Choice, Float, Grid, GridSampler, Int, RandomSampler, SpaceError, Study


def _params(sampler, n, space=SPACE):
    study = Study(space=space, sampler=sampler)
    study.optimize(lambda t: 0.0, n_trials=n)
    return [t.params for t in study.trials]


def test_random_respects_bounds_steps_and_choices():
    params = _params(RandomSampler(seed=0), 300)
    for p in params:
        for name, dist in SPACE.items():
            assert dist.contains(p[name]), (name, p[name])
    assert {p["stepped"] for p in params} == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert {p["int"] for p in params} == set(range(1, 8))
    assert {p["intstep"] for p in params} == {0, 5, 10, 15, 20}
    assert {p["act"] for p in params} == {"relu", "tanh", "gelu"}


def test_random_samples_log_scales_uniformly_in_the_log():
    params = _params(RandomSampler(seed=1), 400)
    logs = np.log10([p["log"] for p in params])  # uniform on [-4, 0]
    assert abs(np.mean(logs) + 2) < 0.25
    assert 0.15 < np.mean(logs < -3) < 0.35
    small = np.mean([p["logint"] < 32 for p in params])  # ~ log(32/2) / log(500/2) = 0.5
    assert 0.4 < small < 0.6


def test_random_same_seed_same_trials():
    assert _params(RandomSampler(seed=3), 10) == _params(RandomSampler(seed=3), 10)
    assert _params(RandomSampler(seed=3), 10) != _params(RandomSampler(seed=4), 10)


@pytest.mark.parametrize("sampler", ["random", "grid"])
def test_resumed_seeded_study_does_not_repeat(tmp_path, sampler):
    space = {"a": Int(0, 9), "b": Choice(["x", "y", "z"])}
    db = str(tmp_path / "s.db")
    first = Study(space=space, sampler=sampler, seed=0, name="s", storage=db)
    first.optimize(lambda t: 0.0, n_trials=6)
    again = Study(space=space, sampler=sampler, seed=0, name="s", storage=db)
    again.optimize(lambda t: 0.0, n_trials=6)
    old = [t.params for t in again.trials[:6]]
    # Proposals that repeat a finished point are recorded with its score, not run.
    new = [t.params for t in again.trials[6:] if "repeat_of" not in t.user_attrs]
    assert len(new) == 6 and not any(p in old for p in new)


def test_grid_enumerates_every_combination_once_then_stops():
    space = {"a": Int(1, 3), "s": Float(0, 1, step=0.5), "g": Grid([10, 20])}
    study = Study(space=space, sampler="grid", seed=0)
    reasons = []
    study.subscribe(lambda e: reasons.append(e.data.get("reason"))
                    if e.kind == "run_finished" else None)
    study.optimize(lambda t: 0.0, n_trials=100)
    combos = [tuple(t.params.values()) for t in study.trials]
    assert len(combos) == 3 * 3 * 2 == len(set(combos))
    assert reasons == ["exhausted"] and study.sampler.exhausted(study)


def test_grid_order_depends_on_the_seed_only():
    space = {"a": Int(1, 4), "b": Choice(["x", "y"])}
    assert _params(GridSampler(seed=1), 8, space) == _params(GridSampler(seed=1), 8, space)
    assert _params(GridSampler(seed=1), 8, space) != _params(GridSampler(seed=2), 8, space)
    ordered = _params(GridSampler(seed=1, shuffle=False), 8, space)
    assert ordered[:2] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}]


def test_grid_needs_enumerable_parameters():
    with pytest.raises(SpaceError, match="grid"):
        Study(space={"x": Float(0, 1)}, sampler="grid").ask()


def test_grid_skips_points_tried_by_hand():
    study = Study(space={"a": Int(1, 3)}, sampler="grid", seed=0)
    study.tell(study.ask({"a": 2}), 0.0)
    study.optimize(lambda t: 0.0, n_trials=10)
    assert sorted(t.params["a"] for t in study.trials) == [1, 2, 3]
    assert not math.isnan(study.best_value)


def _pick_x(trial):
    """A define-by-run objective: the grid is not known before the first trial defines it."""
    return float(trial.suggest("x", Grid([0, 1, 2])))


@pytest.mark.parametrize("seed", range(6))
def test_grid_trials_started_together_never_share_a_point(seed):
    study = Study(sampler="grid", seed=seed)  # define-by-run: no space when the trials start
    running = [study.ask() for _ in range(3)]
    points = [trial.suggest("x", Grid([0, 1, 2, 3, 4, 5])) for trial in running]
    assert len(set(points)) == 3  # each drew independently before: a repeat in 4 runs of 9
    for trial in running:
        study.tell(trial, 0.0)
    study.optimize(lambda t: t.suggest("x", Grid([0, 1, 2, 3, 4, 5])) * 0.0)
    assert sorted(t.params["x"] for t in study.trials) == [0, 1, 2, 3, 4, 5]


def test_grid_reserves_points_of_running_trials_with_several_parameters():
    space = {"a": Int(1, 2), "b": Choice(["x", "y"])}
    fixed = Study(space=space, sampler="grid", seed=0)
    assert len({tuple(t.params.values()) for t in [fixed.ask() for _ in range(4)]}) == 4
    free = Study(sampler="grid", seed=0)
    running = [free.ask() for _ in range(4)]
    for name in ("a", "b"):  # every trial picks a, then every trial picks b
        for trial in running:
            trial.suggest(name, space[name])
    assert len({(t.params["a"], t.params["b"]) for t in running}) == 4


@pytest.mark.parametrize("seed", range(3))
def test_grid_with_two_jobs_runs_every_point_exactly_once(seed):
    study = Study(sampler="grid", seed=seed)
    study.optimize(_pick_x, n_jobs=2)
    assert sorted(t.params["x"] for t in study.trials) == [0, 1, 2]
    assert study.sampler.exhausted(study)


def test_grid_too_large_to_enumerate_says_so():
    study = Study(space={f"p{i}": Int(0, 9) for i in range(20)}, sampler="grid")
    with pytest.raises(SpaceError, match="100000000000000000000 points.*'random' or 'tpe'"):
        study.ask()


@pytest.mark.parametrize("dist", [Int(0, 12_000_000), Int(1, 10**18, log=True)])
def test_grid_refuses_a_huge_integer_range_before_listing_its_values(dist):
    study = Study(space={"n": dist}, sampler="grid")
    tracemalloc.start()
    try:
        with pytest.raises(SpaceError, match=f"{dist.n_levels} points"):
            study.ask()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # listing 12 million integers took 500 MB
    assert study.counts()["failed"] == 1 and study.counts()["running"] == 0


def test_grid_refuses_a_huge_integer_range_defined_as_the_trial_runs():
    study = Study(sampler="grid")
    with pytest.raises(SpaceError, match="1000000000000000001 points"):
        study.optimize(lambda t: t.suggest_int("n", 0, 10**18), n_trials=1)


@pytest.mark.parametrize("given", [2.0, np.int64(2), np.float64(2.0)])
def test_grid_reserves_a_point_given_as_another_kind_of_number(given):
    """A value given by hand (read from a DataFrame, a numpy array) is the integer the trial
    runs with: the trials started with it leave its point to it."""
    study = Study(sampler="grid", seed=0)  # define-by-run: no space when the trials start
    first = study.ask({"n": given})
    others = [study.ask() for _ in range(3)]
    points = [t.suggest("n", Int(0, 3)) for t in [*others, first]]
    assert sorted(points) == [0, 1, 2, 3]


def test_grid_tells_apart_integers_beyond_a_floats_precision():
    study = Study(sampler="grid", seed=0)
    running = [study.ask() for _ in range(4)]
    points = [t.suggest("n", Int(2**60, 2**60 + 3)) for t in running]
    assert sorted(points) == [2**60, 2**60 + 1, 2**60 + 2, 2**60 + 3]


@pytest.mark.parametrize("seed", range(6))
def test_grid_new_parameter_avoids_the_value_of_a_trial_that_agrees_so_far(seed):
    """The first trial to define a parameter takes a value that no trial agreeing with it so
    far holds, also when that trial was given its values as other kinds of numbers."""
    study = Study(sampler="grid", seed=seed)
    held = study.ask({"a": 1.0, "b": np.int64(0)})
    late = study.ask({"a": 1})
    assert late.suggest("a", Int(0, 1)) == 1
    assert late.suggest("b", Int(0, 1)) == 1
    assert held.suggest("b", Int(0, 1)) == 0
