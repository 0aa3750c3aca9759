"""Grid search over the cartesian product of the space's grids."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..distributions import Distribution, ParameterGrid
from ..exceptions import SpaceError
from ..trial import Trial, TrialState
from ._base import Sampler

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["GridSampler"]


class GridSampler(Sampler):
    """Tries every combination once, in an order shuffled by the seed.

    ``Choice``, ``Int`` and stepped ``Float`` parameters are enumerated; a continuous ``Float``
    needs explicit points (``tune.grid([...])``). The study stops when the grid is exhausted.
    Combinations already tried (also in earlier runs of the study) are skipped.
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
                self._grid = ParameterGrid(space)
            except SpaceError as exc:
                raise SpaceError(f"Grid search: {exc}") from None
            n = len(self._grid)
            order = np.arange(n)
            if self.shuffle:
                np.random.default_rng(self.seed).shuffle(order)
            self._order = order
        return self._grid

    def _remaining(self, study: Study, space: Mapping[str, Distribution]) -> list[dict[str, Any]]:
        grid = self._combinations(space)
        names = grid.names
        # A running trial of a parallel run may hold its point in `relative` only so far.
        points = [{**t.relative, **t.params} if t.state is TrialState.RUNNING else t.params
                  for t in study.trials
                  if t.state is not TrialState.WAITING and t.state is not TrialState.INTERRUPTED]
        seen = {tuple(repr(p.get(n)) for n in names) for p in points
                if all(n in p for n in names)}
        combos = (grid[int(i)] for i in self._order)
        return [p for p in combos if tuple(repr(v) for v in p.values()) not in seen]

    def sample_joint(self, study: Study, trial: Trial,
                     space: Mapping[str, Distribution]) -> dict[str, Any]:
        if not space:
            return {}
        others = [t for t in study.trials if t is not trial]
        remaining = self._remaining(_View(study, others), space)
        return dict(remaining[0]) if remaining else {}

    def sample_one(self, study: Study, trial: Trial, name: str, dist: Distribution) -> Any:
        values = dist.grid()
        return values[int(self.rng(trial.number, name).integers(len(values)))]

    def exhausted(self, study: Study) -> bool:
        space = study.search_space()
        return bool(space) and not self._remaining(study, space)


class _View:
    """The study's trials minus the one being sampled."""

    def __init__(self, study: Study, trials: list[Trial]) -> None:
        self.trials = trials
        self.direction = study.direction
