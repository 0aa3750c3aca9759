"""Samplers learn where the objective fails: failed trials count as bad observations."""

import pytest

from hpt_magic import Choice, Float, Study
from hpt_magic.samplers import make_sampler
from hpt_magic.samplers._base import failed_points, telling_failure


def edge_objective(trial):
    # The best scores lie next to a region where every trial raises (a batch size that runs
    # out of memory, say). Ignoring the failures leaves that region without a bad
    # observation, so a TPE finds its density ratio high there and a GP its uncertainty.
    x, y = trial.params["x"], trial.params["y"]
    if x > 0.5:
        raise MemoryError("out of memory")
    return (x - 0.45) ** 2 + (y - 0.5) ** 2


@pytest.mark.parametrize("sampler", ["tpe", "gp"])
def test_proposals_move_away_from_where_the_objective_fails(sampler):
    failed, best = {}, {}
    for consider in (True, False):
        study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, seed=0,
                      sampler=make_sampler(sampler, 0, consider_failed=consider))
        study.optimize(edge_objective, n_trials=40)
        failed[consider] = study.counts()["failed"]
        best[consider] = study.best_value
    assert failed[True] <= failed[False] / 2, failed
    assert best[True] <= best[False] * 1.5, best


def test_tpe_stops_proposing_an_option_that_always_fails():
    def objective(trial):
        if trial.params["solver"] == "broken":
            raise ValueError("this solver does not take that penalty")
        return (trial.params["c"] - 0.3) ** 2

    picked = {}
    for consider in (True, False):
        study = Study(space={"solver": Choice(["lbfgs", "saga", "broken"]), "c": Float(0, 1)},
                      sampler=make_sampler("tpe", 0, consider_failed=consider), seed=0)
        study.optimize(objective, n_trials=60)
        picked[consider] = sum(t.params["solver"] == "broken" for t in study.trials[20:])
    assert picked[True] <= 4 < picked[False], picked


def test_failures_that_look_like_bugs_are_not_held_against_their_parameters(tmp_path):
    # Errors of the code (a NameError), and the failures of a run that stopped because its
    # first trials all failed alike, say nothing about where they happened; failures with
    # one message that a region of the space causes do, however many in a row.
    path = tmp_path / "s.db"
    study = Study(space={"x": Float(0, 1)}, seed=0, storage=path, name="s")

    def buggy(t):
        raise TypeError("unsupported operand")

    with pytest.warns(UserWarning, match="all failed with TypeError"):
        study.optimize(buggy, n_trials=20)
    study.optimize(lambda t: t.params["x"], n_trials=2)
    told = []
    for error in ["MemoryError: out of memory"] * 6 + ["NameError: name 'modle' is not defined"]:
        trial = study.ask()
        study.tell(trial, state="failed", error=error)
        told.append(trial.number)
    counted = [t.number for t in study.trials if telling_failure(study, t)]
    assert counted == told[:6]
    # The mark is kept with the study: another kernel opening it sees the same.
    again = Study(name="s", storage=path)
    assert [t.number for t in again.trials if telling_failure(again, t)] == counted


def test_a_fixed_bug_does_not_steer_the_rest_of_the_study():
    # A run failed on a bug (it stopped after five alike), then the same study goes on with
    # the fix: neither sampler holds the failed points against the space.
    space = {"x": Float(0, 1), "y": Float(0, 1)}
    tpe = make_sampler("tpe", 0)
    study = Study(space=space, sampler=tpe, seed=0)

    def buggy(t):
        raise TypeError("unsupported operand")

    with pytest.warns(UserWarning, match="look"):
        study.optimize(buggy, n_trials=20)
    study.optimize(lambda t: (t.params["x"] - 0.3) ** 2 + t.params["y"], n_trials=15)
    assert (study.counts()["failed"], study.counts()["complete"]) == (5, 15)
    assert tpe._history.failed == [] and len(failed_points(study, space)) == 0
    # A failure of another kind, next to successes, counts.
    trial = study.ask()
    study.tell(trial, state="failed", error="MemoryError: out of memory")
    study.ask()
    assert len(tpe._history.failed) == 1 and len(failed_points(study, space)) == 1
