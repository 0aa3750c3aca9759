import itertools
import math

import numpy as np
import pytest

from hpt_magic import Choice, Float, Grid, Int, ParameterGrid, SpaceError, Study
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
    (lambda: Int(-10**20, 10**20), "64-bit"),
    (lambda: Int(0, 2**63), "64-bit"),
    (lambda: Int(-2**62, 2**62), "at most 2\\*\\*62 values"),
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


# -- the unit-interval encoding ------------------------------------------------------------------
DISCRETE = [
    Float(0, 1, step=0.25), Float(0, 1, step=0.3), Float(0.1, 1.0, step=0.1),
    Float(-2, 2, step=0.6), Int(1, 8), Int(0, 9, step=4), Int(-3, 3), Int(0, 10**6),
    Int(1, 2, log=True), Int(1, 3, log=True), Int(16, 256, log=True), Int(1, 1000, log=True),
    Choice(["relu", "tanh", None]), Choice([True]), Grid([1, 2, 3]),
]


@pytest.mark.parametrize("dist", DISCRETE, ids=repr)
def test_every_level_round_trips_through_its_bin(dist):
    values = dist.grid()
    n = dist.n_levels
    assert n == len(values) == len(dist.unit_levels())
    idx = np.arange(n) if n <= 1000 else np.array([0, 1, 2, n // 2, n - 2, n - 1])
    centre, lower, upper = dist.level_units(idx)
    for k, c in zip(idx, centre):
        v = values[k]
        assert dist.to_unit(v) == pytest.approx(c, abs=1e-12)
        assert dist.from_unit(c) == v and dist.level_index(c) == k
    assert np.all((lower < centre) & (centre < upper))
    if n <= 1000:  # the bins tile [0, 1]
        assert lower[0] == pytest.approx(0, abs=1e-12) and upper[-1] == pytest.approx(1)
        np.testing.assert_allclose(upper[:-1], lower[1:])
    # The ends of the interval, and beyond, give the first and last values.
    assert dist.from_unit(0.0) == dist.from_unit(-0.5) == values[0]
    assert dist.from_unit(1.0) == dist.from_unit(1.5) == values[-1]


@pytest.mark.parametrize("dist", DISCRETE, ids=repr)
def test_snap_unit_is_to_unit_of_from_unit_vectorised(dist):
    u = np.concatenate([np.linspace(-0.1, 1.1, 241), [0.0, 1.0, 0.5, 1 - 1e-15]])
    expected = [dist.to_unit(dist.from_unit(x)) for x in u]
    np.testing.assert_allclose(dist.snap_unit(u), expected, rtol=0, atol=1e-12)
    values = dist.grid()
    assert [values[k] for k in dist.level_index(u)] == [dist.from_unit(x) for x in u]


@pytest.mark.parametrize("dist", [Float(-5, 10), Float(1e-4, 1e-1, log=True)], ids=repr)
def test_continuous_floats_map_their_ends_exactly_and_have_no_levels(dist):
    assert dist.n_levels is None
    assert dist.to_unit(dist.low) == 0.0 and dist.to_unit(dist.high) == 1.0
    assert dist.from_unit(0.0) == dist.low and dist.from_unit(1.0) == dist.high
    assert dist.from_unit(-1.0) == dist.low and dist.from_unit(2.0) == dist.high
    np.testing.assert_array_equal(dist.snap_unit([-0.5, 0.25, 1.5]), [0.0, 0.25, 1.0])
    with pytest.raises(SpaceError, match="continuous"):
        dist.level_index(0.5)


def test_log_int_levels_are_uniform_in_the_log():
    d = Int(1, 3, log=True)
    # 1, 2 and 3 own [0.5, 1.5], [1.5, 2.5], [2.5, 3.5] on a log scale.
    _, lower, upper = d.level_units(np.arange(3))
    widths = np.log([1.5 / 0.5, 2.5 / 1.5, 3.5 / 2.5]) / np.log(3.5 / 0.5)
    np.testing.assert_allclose(upper - lower, widths)
    u = np.random.default_rng(0).random(20000)
    shares = np.bincount(d.level_index(u), minlength=3) / len(u)
    np.testing.assert_allclose(shares, widths, atol=0.01)


def test_values_at_the_ends_map_inside_the_unit_interval():
    # 1.0 lies in the range of Float(0, 1, step=0.6) but is not a step: it used to map to 1.25.
    d = Float(0, 1, step=0.6)
    assert d.contains(1.0) and d.to_unit(1.0) == 0.75 and d.clip(1.0) == 0.6
    assert Int(0, 9, step=4).to_unit(9) == pytest.approx(5 / 6)


# -- grids too large for len() -------------------------------------------------------------------
def test_huge_parameter_grid_has_an_exact_size_and_lazy_access():
    g = ParameterGrid({f"p{i}": Int(0, 9) for i in range(20)})
    assert g.size == 10**20  # np.prod overflowed to 7766279631452241920
    with pytest.raises(SpaceError, match="100000000000000000000 points.*grid.size"):
        len(g)
    assert g[0] == {f"p{i}": 0 for i in range(20)}
    assert g[-1] == g[g.size - 1] == {f"p{i}": 9 for i in range(20)}
    assert list(g[12345678901234567890].values()) == [int(c) for c in "12345678901234567890"]
    assert g[np.int64(7)]["p19"] == 7
    with pytest.raises(IndexError):
        g[g.size]
    first = next(iter(g))
    assert first == g[0]


def test_parameter_grid_indexing_matches_iteration():
    g = ParameterGrid({"a": Int(1, 3), "b": Choice(["x", "y"]), "c": Grid([0.5, 1.5])})
    assert list(g) == [g[i] for i in range(len(g))] == [g[i - len(g)] for i in range(len(g))]
    assert ParameterGrid({}).size == len(ParameterGrid({})) == 0


def test_a_parameter_grid_of_a_huge_integer_range_lists_no_value():
    g = ParameterGrid({"n": Int(0, 10**18), "act": Choice(["relu", "tanh"])})
    assert g.size == 2 * (10**18 + 1)
    assert g[-1] == {"n": 10**18, "act": "tanh"}
    assert list(itertools.islice(g, 3)) == [g[0], g[1], g[2]]


def test_the_last_values_of_a_huge_integer_range_are_exact():
    d = Int(0, 2**62 - 1)
    assert d.contains(d.high) and not d.contains(d.high + 1)
    assert d.level_index(np.array([0.0, 1.0])).tolist() == [0, d.n_levels - 1]
    assert d.from_unit(1.0) == d.high
    log = Int(1, 2**62, log=True)
    assert log.level_index(np.array([1.0])).tolist() == [log.n_levels - 1]


def test_a_large_integer_given_by_hand_runs_as_given():
    d = Int(2**60, 2**60 + 6, step=2)
    assert d.clip(2**60 + 4) == 2**60 + 4  # through a float it became 2**60
    assert d.clip(np.int64(2**60 + 2)) == 2**60 + 2
    assert d.clip(2**61) == d.high and d.clip(0) == d.low
    study = Study(space={"n": Int(2**60, 2**60 + 3)})
    assert study.ask({"n": 2**60 + 1}).params["n"] == 2**60 + 1
    # Small values round as before: half to even, onto the steps.
    assert [Int(0, 10, step=3).clip(x) for x in (1.4, 1.5, 4.5, 7.5, 11)] == [0, 3, 3, 9, 9]


# -- options that compare in unusual ways --------------------------------------------------------
def test_options_mixing_numpy_values_tuples_and_arrays_compare_without_error():
    mixed = Choice([None, (1, 2), np.float64(0.5)])
    assert [mixed.index(v) for v in (None, (1, 2), 0.5, np.float64(0.5))] == [0, 1, 2, 2]
    assert not mixed.contains((1, 3))
    arrays = Choice([np.array([1, 2]), np.array([3, 4])], default=np.array([3, 4]))
    assert arrays.index(np.array([3, 4])) == 1 and arrays.default is arrays.options[1]
    assert not arrays.contains(np.array([5, 6])) and not arrays.contains(None)
    # A value read from a study file: the array as a list, the tuple as a list.
    assert arrays.from_stored([1, 2]) is arrays.options[0]
    assert mixed.from_stored([1, 2]) == (1, 2) and mixed.to_stored((1, 2)) == [1, 2]
    assert from_json(arrays.to_json()) == arrays and from_json(mixed.to_json()) == mixed


@pytest.mark.parametrize("sampler", ["random", "tpe", "gp", "grid"])
def test_a_study_runs_on_options_mixing_numpy_values_tuples_and_arrays(sampler):
    space = {"c": Choice([None, (1, 2), np.float64(0.5)]),
             "w": Choice([np.array([1, 2]), np.array([3, 4])])}
    study = Study(space=space, sampler=sampler, seed=0)
    study.enqueue({"c": (1, 2), "w": np.array([3, 4])})
    study.optimize(lambda t: float(t.params["w"][0]) + (t.params["c"] is None), n_trials=12)
    run = [t for t in study.trials if "repeat_of" not in t.user_attrs]
    assert len(run) == 6  # every point once, then the space is used up
    assert study.counts()["complete"] == len(study.trials)
    assert study.trials[0].params["w"] is space["w"].options[1]


def test_a_value_between_the_steps_of_a_float_is_taken_to_the_nearest_step():
    d = Float(0, 1, step=0.1)
    assert Float(0, 1, step=0.1, default=0.33).default == d.clip(0.33) == 0.30000000000000004
    study = Study(space={"x": d})
    study.enqueue({"x": 0.33})
    assert study.ask().params == {"x": d.clip(0.33)}
    assert study.ask({"x": 0.71}).params == {"x": d.clip(0.71)}
    big = Float(1e9, 1e9 + 10, step=1e-4)  # steps finer than the float spacing near low
    rng = np.random.default_rng(0)
    assert all(big.contains(big.sample(rng)) for _ in range(200))


def test_a_float_range_too_wide_to_compute_with_is_refused():
    with pytest.raises(SpaceError, match="too wide"):
        Float(-1e308, 1e308)
    assert Float(1e-300, 1e300, log=True).contains(1.0)


def test_the_default_of_a_float_range_near_the_largest_float_is_its_centre():
    assert Float(1e308, 1.7e308).default == 1.35e308
    assert Float(1e300, 1e306, log=True).default == pytest.approx(1e303)
