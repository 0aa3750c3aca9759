"""NSGA-II: its elite, kept up to date trial by trial, is the one of the whole history."""

from __future__ import annotations

import numpy as np
import pytest

from hpt_magic import Choice, Float, Int, Study, TrialState
from hpt_magic.samplers import NSGAIISampler
from hpt_magic.samplers._base import observations
from hpt_magic.samplers._mo import losses_matrix
from hpt_magic.study._pareto import nsga_order


class WholeHistory(NSGAIISampler):
    """The definition: rank every usable trial again at each ask."""

    def _elite(self, study, space):
        if not space:
            return None
        X, _, used = observations(study, space)
        L, V = losses_matrix(study, used)
        ok = ~np.isnan(L).any(axis=1)
        if ok.sum() < self.population_size:
            return None
        rows = np.flatnonzero(ok)
        return X[rows[nsga_order(L[ok], V[ok])][: self.population_size]]


def _run(sampler, space, objective, n, *, batch=1, **study_args):
    """Ask ``batch`` trials at a time and tell them in reverse order (as parallel workers
    finish out of order); the proposals made."""
    study = Study(space=space, sampler=sampler, **study_args)
    while len(study.trials) < n:
        trials = [study.ask() for _ in range(batch)]
        for trial in reversed(trials):
            result = objective(trial)
            if result is None:
                study.tell(trial, state=TrialState.PRUNED)
            else:
                study.tell(trial, result)
    return [t.params for t in study.trials]


def _zdt(t):
    x = np.array([t.params[f"x{i}"] for i in range(4)])
    g = 1 + 3 * x[1:].mean()
    return [x[0], g * (1 - np.sqrt(x[0] / g))]


def _dtlz(t):
    a, b, c = (t.params[k] for k in "abc")
    g = 1 + (c - 0.5) ** 2
    return [g * np.cos(a) * np.cos(b), g * np.cos(a) * np.sin(b), g * np.sin(a)]


def _constrained(t):
    x, n, kind = t.params["x"], t.params["n"], t.params["kind"]
    if t.number % 9 == 4:  # pruned, with its last reports
        t.report({"f": x, "g": n / 10}, step=0)
        return None
    return {"f": x + (kind == "b"), "g": (1 - x) ** 2 + n / 10, "h": x + n / 10}


@pytest.mark.parametrize("case", ["two objectives", "three objectives", "constraints",
                                  "one objective"])
def test_proposals_are_those_of_ranking_the_whole_history(case):
    if case == "two objectives":
        space = {f"x{i}": Float(0, 1) for i in range(4)}
        args = dict(objective=_zdt, directions=["min", "min"])
    elif case == "three objectives":
        space = {k: Float(0, 1.5) for k in "abc"}
        args = dict(objective=_dtlz, directions=["min"] * 3)
    elif case == "constraints":
        space = {"x": Float(0, 1), "n": Int(0, 9), "kind": Choice(["a", "b"])}
        args = dict(objective=_constrained, directions=["min", "min"], objectives=["f", "g"],
                    constraints=["h <= 1.2"])
    else:
        space = {"x": Float(0, 1), "n": Int(0, 3)}
        # Rounded: many ties, which must break the same way.
        args = dict(objective=lambda t: round((t.params["x"] - 0.4) ** 2 + t.params["n"], 1))
    objective = args.pop("objective")
    runs = [_run(cls(seed=3, population_size=8), space, objective, 160, batch=3, **args)
            for cls in (WholeHistory, NSGAIISampler)]
    assert runs[0] == runs[1]


def test_each_finished_trial_is_converted_once(monkeypatch):
    calls = []

    class Counted(Float):
        def to_unit(self, value):
            calls.append(value)
            return super().to_unit(value)

    space = {"x": Counted(0, 1), "y": Counted(0, 1)}
    study = Study(space=space, sampler=NSGAIISampler(seed=0, population_size=10),
                  directions=["min", "min"])
    study.optimize(lambda t: (t.params["x"], (1 - t.params["x"]) ** 2 + t.params["y"]),
                   n_trials=200)
    # Ranking the whole history at every ask converts about 2 * 200**2 / 2 = 40 000 values.
    assert len(calls) <= 2 * 2 * len(study.trials)


def test_partly_fixed_trials_and_a_second_study_get_the_elite_of_their_own_history():
    # A trial with ``x`` fixed samples ``y`` alone: the elite is then ranked in that space.
    def run(sampler):
        f = lambda t: (t.params["x"], 1 - t.params["x"] + t.params["y"])  # noqa: E731
        study = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, sampler=sampler,
                      directions=["min", "min"])
        for i in range(60):
            trial = study.ask({"x": 0.7} if i % 5 == 4 else None)
            study.tell(trial, f(trial))
        other = Study(space={"x": Float(0, 1), "y": Float(0, 1)}, sampler=sampler,
                      directions=["min", "max"])
        other.optimize(f, n_trials=30)
        return [t.params for t in study.trials + other.trials]

    runs = [run(cls(seed=1, population_size=6)) for cls in (WholeHistory, NSGAIISampler)]
    assert runs[0] == runs[1]
