"""Samplers learn where the objective fails: failed trials count as bad observations."""

import pytest

from hpt_magic import Choice, Float, Study
from hpt_magic.samplers import make_sampler


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
