"""Grid search over the cartesian product of the space's grids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Distribution, ParameterGrid
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

    def _combinations(self, space: Mapping[str, Distribution]) -> ParameterGrid:
        if self._grid is None or self._grid.names != list(space):
            try:
                grid = ParameterGrid(space)
            except SpaceError as exc:
                raise SpaceError(f"Grid search: {exc}") from None
            if grid.size > MAX_POINTS:
                shape = " x ".join(str(len(v)) for v in grid.values)
                raise SpaceError(
                    f"Grid search: the grid has {grid.size} points ({shape} values), more than "
                    f"the {MAX_POINTS} it can enumerate. Give the parameters fewer values, or "
                    "search this space with sampler 'random' or 'tpe'.")
            order = np.arange(grid.size)
            if self.shuffle:
                np.random.default_rng(self.seed).shuffle(order)
            self._grid, self._order = grid, order
        return self._grid

    def _remaining(self, study: Study, space: Mapping[str, Distribution],
                   trial: Trial | None = None) -> Iterator[dict[str, Any]]:
        """The grid points, in the seeded order, that no trial but ``trial`` has taken."""
        grid = self._combinations(space)
        names = grid.names
        taken = {tuple(repr(p[n]) for n in names) for p in _points(study, trial)
                 if all(n in p for n in names)}
        for i in self._order:
            point = grid[int(i)]
            if tuple(repr(v) for v in point.values()) not in taken:
                yield point

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space:
            return {}
        return next(self._remaining(study, space, trial), {})

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        # A parameter the space did not know when the trial started (e.g. every parameter of
        # the first parallel trials of a define-by-run study). Prefer a value that no other
        # trial agreeing with this one so far holds: trials started together then differ.
        values = dist.grid()
        start = int(self.rng(trial.number, name).integers(len(values)))
        mine = {n: repr(v) for n, v in {**trial.relative, **trial.params}.items()}
        held = Counter(repr(p[name]) for p in _points(study, trial)
                       if name in p and all(n in p and repr(p[n]) == r for n, r in mine.items()))
        return min(values[start:] + values[:start], key=lambda v: held[repr(v)])

    def exhausted(self, study: Study) -> bool:
        space = study.search_space()
        return bool(space) and next(self._remaining(study, space), None) is None


def _points(study: Study, trial: Trial | None) -> list[dict[str, Any]]:
    """The points of the study's trials other than ``trial``: finished ones, and running ones
    (reserved; a running trial of a parallel run may hold its point in ``relative`` only)."""
    return [{**t.relative, **t.params} if t.state is TrialState.RUNNING else t.params
            for t in study.trials if t is not trial
            and t.state is not TrialState.WAITING and t.state is not TrialState.INTERRUPTED]
