import math

import numpy as np
import pytest

from hpt_magic import Choice, Float, Grid, Int, ParameterGrid, SpaceError
from hpt_magic.distributions import check_space, from_json


@pytest.mark.parametrize("dist", [
    Float(-5, 10), Float(1e-4, 1e-1, log=True), Float(0, 1, step=0.25), Int(1, 8),
    Int(16, 256, log=True), Int(0, 10, step=5), Choice(["relu", "tanh", None]), Grid([1, 2, 3]),
])
def test_samples_stay_in_range_and_round_trip_through_the_unit_interval(dist):
    rng = np.random.default_rng(0)
    for _ in range(200):
        v = dist.sample(rng)
        assert dist.contains(v)
        u = dist.to_unit(v)
        assert 0.0 <= u <= 1.0
        back = dist.from_unit(u)
        assert back == pytest.approx(v) if isinstance(v, float) else back == v
    assert dist.contains(dist.default)
    assert from_json(dist.to_json()) == dist


def test_defaults_are_sensible_centres():
    assert Float(0, 10).default == 5
    assert Float(1e-4, 1e-2, log=True).default == pytest.approx(1e-3)
    assert Int(1, 9).default == 5
    assert Choice(["a", "b"]).default == "a"
    assert Float(0, 1, default=0.2).default == 0.2


def test_log_float_samples_are_uniform_in_log_space():
    d = Float(1e-4, 1.0, log=True)
    rng = np.random.default_rng(1)
    logs = np.log10([d.sample(rng) for _ in range(4000)])
    assert abs(np.mean(logs) + 2) < 0.1  # centre of [-4, 0]
    assert np.mean(logs < -3) == pytest.approx(0.25, abs=0.03)


def test_steps_and_ints_are_respected():
    rng = np.random.default_rng(2)
    stepped = {Float(0, 1, step=0.25).sample(rng) for _ in range(300)}
    assert stepped == {0.0, 0.25, 0.5, 0.75, 1.0}
    ints = {Int(0, 10, step=5).sample(rng) for _ in range(300)}
    assert ints == {0, 5, 10}
    assert all(isinstance(v, int) for v in ints)


@pytest.mark.parametrize("make, fragment", [
    (lambda: Float(1, 1), "smaller than"),
    (lambda: Float(2, 1), "smaller than"),
    (lambda: Float(0, 1, log=True), "log scale needs low > 0"),
    (lambda: Float(0, float("inf")), "not finite"),
    (lambda: Float("a", 1), "not a number"),
    (lambda: Int(1.5, 3), "integers"),
    (lambda: Choice([]), "empty"),
    (lambda: Choice(["a", "a"]), "duplicates"),
    (lambda: Choice("abc"), "must be a list"),
    (lambda: Float(0, 1, default=2), "outside"),
    (lambda: Choice(["a"], default="b"), "not one of"),
])
def test_invalid_distributions_raise_clear_errors(make, fragment):
    with pytest.raises(SpaceError, match=fragment):
        make()


def test_check_space_rejects_empty_and_non_distributions():
    with pytest.raises(SpaceError, match="empty"):
        check_space({})
    with pytest.raises(SpaceError, match="not a distribution"):
        check_space({"x": 3})
    assert isinstance(check_space({"x": [1, 2]})["x"], Grid)


def test_continuous_float_has_no_grid():
    with pytest.raises(SpaceError, match="tune.grid"):
        Float(0, 1).grid()


def test_parameter_grid_enumerates_the_product():
    g = ParameterGrid({"a": Int(1, 3), "b": Choice(["x", "y"]), "c": Float(0, 1, step=0.5)})
    items = list(g)
    assert len(g) == len(items) == 18
    assert len({tuple(d.values()) for d in items}) == 18
    assert math.isclose(items[-1]["c"], 1.0)
