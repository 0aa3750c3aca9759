"""A space-filling initial design without scipy: a scrambled Halton sequence.

Point ``i`` in dimension ``j`` is the radical inverse of ``i`` in the ``j``-th prime base,
each digit position of each dimension passed through its own random permutation of the
digits (Owen-style digit scrambling, as in Mascagni and Chi, 2004). Unscrambled Halton points
line up in high dimensions (bases 29 and 31 give nearly equal coordinates for the first
trials); the permutations break that up while every prefix of the sequence stays stratified
in each coordinate. It is what the GP sampler's first trials use: drawn in microseconds, and
the first trial of a kernel does not wait for ``scipy.stats`` to import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

__all__ = ["SPAN", "halton_point"]

#: Points of the sequence that are told apart in every base (beyond them: a coarser grid).
SPAN = 1 << 16


def _primes(n: int) -> list[int]:
    """The first ``n`` primes."""
    out: list[int] = []
    k = 2
    while len(out) < n:
        if all(k % p for p in out if p * p <= k):
            out.append(k)
        k += 1
    return out


def halton_point(index: int, dim: int, seed: Sequence[int] | int) -> np.ndarray:
    """Point ``index`` (from 0) of the ``dim``-dimensional scrambled Halton sequence that
    ``seed`` (non-negative integers, as ``numpy.random.default_rng`` takes them) chooses;
    coordinates in ``[0, 1)``.

    Examples
    --------
    >>> first = [halton_point(i, 1, 0)[0] for i in range(4)]
    >>> sorted(int(2 * u) for u in first[:2]), sorted(int(4 * u) for u in first)
    ([0, 1], [0, 1, 2, 3])
    """
    key = tuple(seed) if isinstance(seed, Sequence) else (int(seed),)
    out = np.empty(dim)
    for j, (base, perms) in enumerate(_scrambling(key, dim)):
        value, scale, i = 0.0, 1.0 / base, index
        for perm in perms:
            value += perm[i % base] * scale
            i //= base
            scale /= base
        out[j] = value
    return out


@lru_cache(maxsize=16)
def _scrambling(seed: tuple[int, ...], dim: int) -> tuple[tuple[int, list[list[int]]], ...]:
    """Each dimension's base and the digit permutations of each of its digit positions (the
    design trials of one study share them: drawn once)."""
    rng = np.random.default_rng(list(seed))
    out = []
    for base in _primes(dim):
        digits = max(1, math.ceil(math.log(SPAN) / math.log(base)))
        out.append((base, [rng.permutation(base).tolist() for _ in range(digits)]))
    return tuple(out)
