"""Non-dominated sorting, crowding and the hypervolume (``hpt_magic/_pareto.py``) against
their definitions."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from hpt_magic import _pareto
from hpt_magic.study._pareto import (
    crowding_distance,
    dominates,
    hypervolume,
    non_dominated_ranks,
    nsga_order,
    prefix_hypervolumes,
)
from hpt_magic.trial import Direction, Trial, TrialState


def _cases(n_cases=150):
    rng = np.random.default_rng(0)
    for i in range(n_cases):
        n, m = int(rng.integers(0, 30)), int(rng.integers(1, 4))
        # Half on a small grid: duplicates and ties in every objective.
        L = rng.integers(0, 4, (n, m)).astype(float) if i % 2 else rng.random((n, m))
        V = np.where(rng.random(n) < 0.25, rng.integers(1, 3, n), 0).astype(float)
        yield L, V


def _ranks_by_definition(L):
    ranks, left, r = np.full(len(L), -1), set(range(len(L))), 0
    while left:
        front = {i for i in left if not any(dominates(L[j], L[i]) for j in left)}
        ranks[list(front)] = r
        left -= front
        r += 1
    return ranks


def _crowding_by_definition(L):
    n, m = L.shape
    if n <= 2:
        return np.full(n, math.inf)
    dist = np.zeros(n)
    for k in range(m):
        order = sorted(range(n), key=lambda i: L[i, k])
        span = L[order[-1], k] - L[order[0], k]
        dist[[order[0], order[-1]]] = math.inf
        for a, i, b in zip(order, order[1:], order[2:]):
            dist[i] += (L[b, k] - L[a, k]) / span if span > 0 else 0.0
    return dist


def test_the_front_of_two_objectives_matches_its_definition():
    # Two objectives take a sweep: ties, duplicates and infinities included.
    rng = np.random.default_rng(1)
    for i in range(300):
        n = int(rng.integers(0, 30))
        L = rng.integers(0, 4, (n, 2)).astype(float) if i % 2 else rng.random((n, 2))
        L[rng.random((n, 2)) < 0.05 * (i % 3)] = [math.inf, -math.inf][i % 2]
        expected = [not any(dominates(L[j], L[k]) for j in range(n)) for k in range(n)]
        assert _pareto.pareto_mask(L).tolist() == expected


def _mask_by_definition(L):
    """Rows no row dominates: no worse in every objective and better in one (NaN compares
    with nothing)."""
    no_worse = (L[:, None, :] <= L[None, :, :]).all(axis=2)
    better = (L[:, None, :] < L[None, :, :]).any(axis=2)
    return ~(no_worse & better).any(axis=0)


@pytest.mark.parametrize("block", [3, 128])
def test_the_front_of_any_number_of_objectives_matches_its_definition(monkeypatch, block):
    # Three and more objectives (and one, and two with a NaN) go block by block in
    # lexicographic order: small blocks put ties and duplicates across their borders.
    monkeypatch.setattr(_pareto, "_BLOCK", block)
    rng = np.random.default_rng(2)
    for i in range(300):
        n, m = int(rng.integers(0, 300 if i % 10 == 0 else 40)), int(rng.integers(1, 6))
        L = rng.integers(0, 3, (n, m)).astype(float) if i % 2 else rng.random((n, m))
        L[rng.random((n, m)) < 0.05 * (i % 3)] = [math.inf, -math.inf][i % 2]
        if i % 7 == 0:
            L[rng.random((n, m)) < 0.05] = math.nan
        assert _pareto.pareto_mask(L).tolist() == _mask_by_definition(L).tolist()


def test_the_front_of_three_objectives_never_compares_every_trial_with_every_other(
        monkeypatch):
    # A live study document finds the front at every update: n x n comparisons took about
    # 200 ms at 5000 trials. The front of 2000 points is found in tables of a block of rows.
    tables = []
    dominance = _pareto._dominance
    monkeypatch.setattr(_pareto, "_dominance",
                        lambda losses: tables.append(len(losses)) or dominance(losses))
    L = np.random.default_rng(0).random((2000, 3))
    assert _pareto.pareto_mask(L).tolist() == _mask_by_definition(L).tolist()
    assert tables and max(tables) <= 128


def test_pareto_front_keeps_complete_feasible_finite_trials_in_order():
    # The front as the study, the document and list_studies give it: best first in the first
    # objective, ties by the next ones, then by trial number.
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, k = int(rng.integers(0, 40)), int(rng.integers(1, 4))
        directions = ["min", "max", "min"][:k]
        trials = []
        for number in rng.permutation(n).tolist():
            values = rng.integers(0, 3, len(directions)).astype(float).tolist()
            if rng.random() < 0.1:
                values[0] = [math.inf, math.nan, None][number % 3]
            trials.append(Trial(number, state=["complete", "complete", "failed"][number % 3],
                                values=values, feasible=[None, True, False][number % 4 % 3]))
        done = [t for t in trials if t.state is TrialState.COMPLETE and t.feasible is not False
                and all(v is not None and math.isfinite(v) for v in t.values)]
        L = np.array([[Direction(d).sign * v for d, v in zip(directions, t.values)]
                      for t in done]).reshape(len(done), len(directions))
        expected = sorted((tuple(row), t.number) for row, t, ok in
                          zip(L.tolist(), done, _mask_by_definition(L)) if ok)
        assert [t.number for t in _pareto.pareto_front(trials, directions)] == \
            [number for _, number in expected]


def test_ranks_and_crowding_match_their_definitions():
    for L, _ in _cases():
        assert non_dominated_ranks(L).tolist() == _ranks_by_definition(L).tolist()
        assert crowding_distance(L) == pytest.approx(_crowding_by_definition(L))


def test_nsga_order_sorts_fronts_by_crowding_then_infeasible_by_violation():
    for L, V in _cases():
        order = nsga_order(L, V).tolist()
        ok = np.flatnonzero(V <= 0)
        ranks, crowd = np.zeros(len(L), dtype=int), np.zeros(len(L))
        if len(ok):
            ranks[ok] = _ranks_by_definition(L[ok])
            for r in set(ranks[ok].tolist()):
                members = ok[ranks[ok] == r]
                crowd[members] = _crowding_by_definition(L[members])
        if L.shape[1] == 1:  # a plain sort by loss
            ranks, crowd = np.where(V > 0, 0, L[:, 0]), np.zeros(len(L))
        key = [(V[i] > 0, V[i], ranks[i], -crowd[i], i) for i in range(len(L))]
        assert order == sorted(range(len(L)), key=lambda i: key[i])


@pytest.mark.parametrize("best", [0, 1, 5, 17, 40])
def test_nsga_order_best_is_the_head_of_the_full_order(best):
    for L, V in _cases():
        assert nsga_order(L, V, best=best).tolist() == nsga_order(L, V).tolist()[:best]


def _simplex(n, k, seed):
    """``n`` points with losses summing to 1: none dominates another, all on the front."""
    v = np.random.default_rng(seed).random((n, k))
    return v / v.sum(axis=1, keepdims=True)


def _box(losses, ref):
    """The volume between the best loss of each objective and the reference."""
    return float(np.prod(np.asarray(ref) - losses.min(axis=0)))


def test_the_hypervolume_estimate_is_within_its_stated_accuracy_of_the_exact_value(
        monkeypatch):
    cases = [_simplex(n, k, seed) for k in (3, 4, 5) for n in (4, 12, 25) for seed in range(4)]
    exact = [hypervolume(L, np.ones(L.shape[1])) for L in cases]
    monkeypatch.setattr(_pareto, "EXACT_WORK", 0)  # every front estimated
    for L, value in zip(cases, exact):
        ref = np.ones(L.shape[1])
        estimate = hypervolume(L, ref)
        assert estimate != value
        # Documented: standard error at most 0.28 % of the box, over 1 % a 1-in-3000 event.
        assert abs(estimate - value) <= 0.01 * _box(L, ref)


def test_eight_objectives_are_estimated_fast_and_the_same_every_time():
    losses, ref = _simplex(40, 8, 0), np.ones(8)
    start = time.perf_counter()
    value = hypervolume(losses, ref)
    assert time.perf_counter() - start < 5  # exact slicing: over two minutes
    assert hypervolume(losses, ref) == value
    assert hypervolume(losses[::-1], ref) == value  # the same samples, whatever the order
    # An independent Monte Carlo count (other samples) agrees within the stated accuracy.
    low = losses.min(axis=0)
    samples = low + np.random.default_rng(1).random((100_000, 8)) * (ref - low)
    hit = np.zeros(len(samples), dtype=bool)
    for p in losses:
        hit |= (p <= samples).all(axis=1)
    assert abs(value - hit.mean() * _box(losses, ref)) <= 0.01 * _box(losses, ref)


def test_an_estimated_history_grows_in_one_pass_and_ends_at_the_hypervolume():
    losses, ref = _simplex(80, 6, 2), np.ones(6)
    ends = [1, 5, 10, 40, 80]
    start = time.perf_counter()
    history = prefix_hypervolumes(losses, ref, ends)
    assert time.perf_counter() - start < 5  # exact: a minute per prefix
    assert (np.diff(history) >= 0).all()
    assert history[-1] == hypervolume(losses, ref)
    box = _box(losses, ref)
    for end, value in zip(ends[:3], history):  # prefixes small enough to be exact
        assert abs(value - hypervolume(losses[:end], ref)) <= 0.01 * box
    # Cheap prefixes of a cheap study: every value exact.
    assert prefix_hypervolumes(losses[:, :3], ref[:3], ends).tolist() == [
        hypervolume(losses[:end, :3], ref[:3]) for end in ends]
