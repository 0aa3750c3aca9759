"""The unit-cube encoding of a search space that the engine's GP models and searches (the
``gp`` sampler, and ``mobster``'s model over configuration and resource).

No scipy here: the GP's design trials decode their points with it before scipy is needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .distributions import Choice, Distribution

__all__ = ["MAX_ENUMERATED", "Encoding"]

#: Discrete columns with at most this many levels are searched by enumeration; larger ones are
#: relaxed to a continuum during gradient steps, rounded, then moved among their neighbours.
MAX_ENUMERATED = 16


class Encoding:
    """The unit-cube columns of a space, with vectorised rounding to valid values.

    Each column is its distribution's unit-interval encoding: rounding is the distribution's
    ``snap_unit`` (``to_unit(from_unit(u))``), levels are its ``level_index``/``level_units``.
    """

    def __init__(self, space: Mapping[str, Distribution]) -> None:
        self.names = list(space)
        self.dists = [space[n] for n in self.names]
        self.categorical = np.array([isinstance(d, Choice) for d in self.dists])
        #: Levels of each column, 0 for a continuous one.
        self.levels = np.array([d.n_levels or 0 for d in self.dists])
        self.enumerated = np.flatnonzero((self.levels > 0) & (
            (self.levels <= MAX_ENUMERATED) | self.categorical))
        self.relaxed = np.setdiff1d(np.arange(len(self.dists)), self.enumerated)

    @property
    def dim(self) -> int:
        return len(self.dists)

    def round(self, X: np.ndarray) -> np.ndarray:
        """A copy of ``X`` (shape (m, d)) clipped to the cube, discrete columns rounded."""
        X = np.clip(X, 0.0, 1.0)
        for j in np.flatnonzero(self.levels):
            X[:, j] = self.dists[j].snap_unit(X[:, j])
        return X

    def choices(self, j: int) -> np.ndarray:
        """The unit values of every level of discrete column ``j``."""
        return self.dists[j].unit_levels()

    def levels_near(self, j: int, u: np.ndarray, radius: int = 3) -> np.ndarray:
        """Unit values of the levels of column ``j`` within ``radius`` levels of each ``u``,
        shape ``(len(u), 2 * radius + 1)`` (repeated at the ends of the range)."""
        dist = self.dists[j]
        k = dist.level_index(u)[:, None] + np.arange(-radius, radius + 1)
        return dist.level_units(np.clip(k, 0, self.levels[j] - 1))[0]

    def decode(self, x: np.ndarray) -> dict[str, Any]:
        """Parameter values of one point of the cube."""
        return {n: d.from_unit(float(u)) for n, d, u in zip(self.names, self.dists, x)}
