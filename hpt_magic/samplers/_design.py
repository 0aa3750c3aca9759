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


def halton_point(index: int, dim: int, seed: object) -> np.ndarray:
    """Point ``index`` (from 0) of the ``dim``-dimensional scrambled Halton sequence that
    ``seed`` (anything ``numpy.random.default_rng`` takes) chooses; coordinates in ``[0, 1)``.

    Examples
    --------
    >>> first = [halton_point(i, 1, 0)[0] for i in range(4)]
    >>> sorted(int(2 * u) for u in first[:2]), sorted(int(4 * u) for u in first)
    ([0, 1], [0, 1, 2, 3])
    """
    rng = np.random.default_rng(seed)
    out = np.empty(dim)
    for j, base in enumerate(_primes(dim)):
        digits = max(1, math.ceil(math.log(SPAN) / math.log(base)))
        perms = [rng.permutation(base) for _ in range(digits)]
        value, scale, i = 0.0, 1.0 / base, index
        for perm in perms:
            value += perm[i % base] * scale
            i //= base
            scale /= base
        out[j] = value
    return out
