"""Samplers work in the unit interval through the distributions' own encoding."""

import math
from collections import Counter

import numpy as np
import pytest

from hpt_magic import Choice, Distribution, Float, Int, Study
from hpt_magic.samplers import make_sampler


class PowersOfTwo(Distribution):
    """1, 2, 4, ..., 2 ** (n - 1), one equal-width level each: levels that only the
    distribution knows."""

    def __init__(self, n):
        self.n, self.default = n, 1
        #: Vectorised (array) calls of the level methods: those come from the samplers' models.
        self.calls = Counter()

    @property
    def n_levels(self):
        return self.n

    def level_index(self, u):
        self.calls["level_index"] += np.ndim(u) > 0
        return super().level_index(u)

    def level_units(self, k):
        self.calls["level_units"] += np.ndim(k) > 0
        return super().level_units(k)

    def to_unit(self, value):
        return float(self.level_units(int(value).bit_length() - 1)[0])

    def from_unit(self, u):
        return 2 ** int(self.level_index(u))

    def grid(self):
        return [2**k for k in range(self.n)]

    def contains(self, value):
        return value in self.grid()

    def to_json(self):
        return {"type": "powers_of_two", "n": self.n}

    def __repr__(self):
        return f"PowersOfTwo({self.n})"


@pytest.mark.parametrize("name, kwargs", [("tpe", {}), ("tpe", {"multivariate": False}),
                                          ("gp", {})])
def test_model_based_samplers_use_the_distributions_levels(name, kwargs):
    batch = PowersOfTwo(8)
    study = Study(space={"batch": batch, "x": Float(0, 1)},
                  sampler=make_sampler(name, seed=0, n_startup_trials=5, **kwargs))
    study.optimize(lambda t: (math.log2(t.params["batch"]) - 5) ** 2
                   + (t.params["x"] - 0.3) ** 2, n_trials=25)
    assert all(batch.contains(t.params["batch"]) for t in study.trials)
    # The model snapped its candidates to the distribution's levels, not to a copy of them.
    assert batch.calls["level_index"] > 0 and batch.calls["level_units"] > 0
    assert study.best_params["batch"] == 32


@pytest.mark.parametrize("name", ["tpe", "gp", "cmaes"])
def test_steps_are_honoured(name):
    space = {"f": Float(0.1, 1.0, step=0.3), "i": Int(3, 43, step=5), "x": Float(-1, 1)}
    study = Study(space=space, sampler=make_sampler(name, seed=1))
    study.optimize(lambda t: ((t.params["f"] - 0.7) ** 2 + (t.params["i"] - 28) ** 2 / 100
                              + t.params["x"] ** 2), n_trials=30)
    levels = {round(t.params["f"], 12) for t in study.trials}
    assert levels == {0.1, 0.4, 0.7, 1.0}  # every step, both ends included, nothing between
    ints = {t.params["i"] for t in study.trials}
    assert ints <= set(range(3, 44, 5)) and {3, 43} & ints and len(ints) >= 5


@pytest.mark.parametrize("dist", [Float(0.1, 1.0, step=0.3), Int(3, 43, step=5), Int(1, 9),
                                  Int(1, 1000, log=True), Choice(["a", "b", "c"])])
def test_tpe_level_tables_agree_with_the_distribution(dist):
    from hpt_magic.samplers._parzen import _Dim

    dim = _Dim(dist)
    assert dim.upper is not None
    u = np.random.default_rng(0).random(5000)
    assert np.array_equal(dim.index(u), dist.level_index(u))
    k = dist.level_index(u)
    for table, method in zip(dim.units(k), dist.level_units(k)):
        assert np.allclose(table, method)
