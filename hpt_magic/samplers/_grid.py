"""Grid search over the cartesian product of the space's grids."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Choice, Distribution, ParameterGrid
from ..exceptions import SpaceError
from ..trial import Trial, TrialState
from ._base import Sampler

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["GridSampler"]

#: The most points grid search enumerates: it keeps their shuffled order in memory.
MAX_POINTS = 10_000_000


class GridSampler(Sampler):
    """Tries every combination once, in an order shuffled by the seed.

    ``Choice``, ``Int`` and stepped ``Float`` parameters are enumerated; a continuous ``Float``
    needs explicit points (``tune.grid([...])``). The study stops when the grid is exhausted.
    Combinations already tried (also in earlier runs of the study) are skipped, and those of
    running trials are reserved, so parallel trials never share a point, also when a
    define-by-run space is not yet known when they start.
    """

    name = "grid"

    def __init__(self, seed: int | None = None, *, shuffle: bool = True) -> None:
        super().__init__(seed)
        self.shuffle = shuffle
        self._grid: ParameterGrid | None = None
        self._order: np.ndarray | None = None

    def check_space(self, space: Mapping[str, Distribution]) -> None:
        """Refuse a space whose grid cannot be enumerated: a continuous ``Float``, or more
        than :data:`MAX_POINTS` points.

        Examples
        --------
        >>> from hpt_magic import Float
        >>> GridSampler().check_space({"x": Float(0, 1)})
        Traceback (most recent call last):
        ...
        hpt_magic.exceptions.SpaceError: Grid search: Float(0, 1) cannot be enumerated ...
        """
        _check_size(space)

    def _combinations(self, space: Mapping[str, Distribution]) -> ParameterGrid:
        if self._grid is None or self._grid.names != list(space):
            _check_size(space)
            grid = ParameterGrid(space)
            order = np.arange(grid.size)
            if self.shuffle:
                np.random.default_rng(self.seed).shuffle(order)
            self._grid, self._order = grid, order
        return self._grid

    def _plan(self, study: Study,
              space: Mapping[str, Distribution]) -> Iterator[tuple[dict[str, Any], Trial | None]]:
        """The grid points no trial holds, in the seeded order, each with the running trial it is
        reserved for (``None``: free).

        A running trial that has not defined its whole point yet (define-by-run trials started
        before the space was known, or the trial being sampled) reserves the first point that
        fits the values it has, so that no later trial takes the point it will need.
        """
        grid = self._combinations(space)
        names = grid.names
        taken, waiting = set(), []
        for t in study.trials:
            if t.state is TrialState.WAITING or t.state is TrialState.INTERRUPTED:
                continue
            # A running trial of a parallel run may hold its point in `relative` only so far.
            p = {**t.fixed, **t.relative, **t.params} if t.state is TrialState.RUNNING \
                else t.params
            if all(n in p for n in names):
                taken.add(tuple(_key(space[n], p[n]) for n in names))
            elif t.state is TrialState.RUNNING:
                waiting.append((t, {n: _key(space[n], p[n]) for n in names if n in p}))
        for i in self._order:
            point = grid[int(i)]
            key = tuple(_key(space[n], v) for n, v in point.items())
            if key in taken:
                continue
            fits = next((w for w in waiting if all(
                key[names.index(n)] == r for n, r in w[1].items())), None)
            if fits is None:
                yield point, None
            else:
                waiting.remove(fits)
                yield point, fits[0]

    def _reserved(self, study: Study, space: Mapping[str, Distribution],
                  trial: Trial) -> dict[str, Any]:
        return next((p for p, owner in self._plan(study, space) if owner is trial), {})

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space:
            return {}
        return dict(self._reserved(study, space, trial))

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        space = study.search_space()
        if name in space and space[name] == dist:
            point = self._reserved(study, space, trial)
            if name in point:
                return point[name]
        # A parameter of the first trials of a define-by-run study, before any space is
        # known (or of a grid with no point left): prefer a value that no other trial agreeing
        # with this one so far holds, so that trials started together differ.
        _check_size({name: dist})
        values = dist.grid()
        start = int(self.rng(trial.number, name).integers(len(values)))
        mine = {n: _key(space.get(n), v) for n, v in {**trial.relative, **trial.params}.items()}
        held = Counter(_key(dist, p[name]) for p in _points(study, trial) if name in p and all(
            n in p and _key(space.get(n), p[n]) == k for n, k in mine.items()))
        return min(values[start:] + values[:start], key=lambda v: held[_key(dist, v)])

    def exhausted(self, study: Study) -> bool:
        space = study.search_space()
        return bool(space) and all(owner is not None for _, owner in self._plan(study, space))


def _key(dist: Distribution | None, value: Any) -> Any:
    """What the trials holding the same value of ``dist`` share, as the engine compares the
    parameters of two trials (``study._tried._params_key``): an option by its place among the
    choice's options (a class or a lambda that the cell defined anew is another object, which
    prints otherwise; a list read from a file is its tuple), a number as a number (``2``,
    ``2.0`` given by hand and ``np.int64(2)`` alike, ``True`` apart from ``1``), anything else
    by its type and ``repr``."""
    if isinstance(dist, Choice):
        i = dist.find(value)
        return repr(value) if i is None else i
    if isinstance(value, np.generic):
        value = value.item()
    if type(value) in (int, float):
        return value
    return type(value).__name__, repr(value)


def _check_size(space: Mapping[str, Distribution]) -> None:
    """Refuse a space whose grid cannot be enumerated: a continuous Float, or more than
    :data:`MAX_POINTS` points. Counted from the distributions' levels, before any value is
    listed (an integer range can hold more values than memory)."""
    counts = []
    for dist in space.values():
        if dist.n_levels is None:
            try:
                counts.append(len(dist.grid()))
            except SpaceError as exc:
                raise SpaceError(f"Grid search: {exc}") from None
        else:
            counts.append(dist.n_levels)
    size = math.prod(counts)
    if size > MAX_POINTS:
        raise SpaceError(
            f"Grid search: the grid has {size} points ({' x '.join(map(str, counts))} values), "
            f"more than the {MAX_POINTS} it can enumerate. Give the parameters fewer values, or "
            "search this space with sampler 'random' or 'tpe'.")


def _points(study: Study, trial: Trial) -> list[dict[str, Any]]:
    """The (partial) points of the study's trials other than ``trial``."""
    return [{**t.fixed, **t.relative, **t.params} if t.state is TrialState.RUNNING else t.params
            for t in study.trials if t is not trial
            and t.state is not TrialState.WAITING and t.state is not TrialState.INTERRUPTED]
