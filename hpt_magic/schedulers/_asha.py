"""Asynchronous successive halving (ASHA; Li et al., 2020)."""

from __future__ import annotations

from ..exceptions import TuneError
from ._rungs import BracketScheduler, Rungs

__all__ = ["ASHAScheduler"]


class ASHAScheduler(BracketScheduler):
    """Stop trials that are not in the best ``1/reduction_factor`` of their rung.

    Rungs sit at ``min_resource * reduction_factor**k`` steps of resource (a report at step
    ``s`` counts ``s + 1``), below ``max_steps``. When a trial reports at a rung it goes on
    only if fewer than ``max(1, n // reduction_factor)`` of the ``n`` trials that reached the
    rung beat it; no trial ever waits for others. A trial's value at a rung is its smoothed
    curve there (:func:`~hpt_magic.schedulers._rungs.curve_value`), not its one noisy report.
    With ``brackets > 1``, trials are dealt in turn to brackets whose first rung is
    ``reduction_factor`` times later, which hedges against an early rung that misjudges slow
    starters.

    Parameters
    ----------
    max_steps : int, optional
        The full resource; the last rung is below it. Without it the rungs go on.
    min_resource : int
        Resource of the first rung.
    reduction_factor : int
        ``eta``: one trial in ``eta`` goes on at each rung.
    brackets : int
        Number of brackets.

    Examples
    --------
    >>> ASHAScheduler(max_steps=81).rungs
    [[1, 3, 9, 27]]
    >>> ASHAScheduler(max_steps=81, brackets=2).rungs
    [[1, 3, 9, 27], [3, 9, 27]]
    """

    name = "asha"

    def __init__(self, max_steps: int | None = None, min_resource: int = 1,
                 reduction_factor: int = 3, brackets: int = 1) -> None:
        super().__init__(max_steps, min_resource, reduction_factor)
        if int(brackets) != brackets or brackets < 1:
            raise TuneError(f"ASHAScheduler needs brackets >= 1, got {brackets!r}.")
        self.brackets = int(brackets)
        self.check()

    def _layout(self) -> list[tuple[int, int]]:
        return [(self.min_resource * self.reduction_factor**s, 1) for s in range(self.brackets)]

    @property
    def rungs(self) -> list[list[int]]:
        """The rung resources of each bracket."""
        return [Rungs(first, self.reduction_factor, self.max_steps).resources
                for first, _ in self._layout()]

    def __repr__(self) -> str:
        return (f"ASHAScheduler(max_steps={self.max_steps}, min_resource={self.min_resource}, "
                f"reduction_factor={self.reduction_factor}, brackets={self.brackets})")
