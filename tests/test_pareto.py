"""Non-dominated sorting and crowding (``hpt_magic/_pareto.py``) against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpt_magic.study._pareto import (
    crowding_distance,
    dominates,
    non_dominated_ranks,
    nsga_order,
)


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
