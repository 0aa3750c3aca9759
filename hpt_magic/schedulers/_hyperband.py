"""Hyperband (Li et al., 2018): successive halving in several brackets."""

from __future__ import annotations

from ..exceptions import TuneError
from ._rungs import BracketScheduler, Rungs

__all__ = ["HyperbandScheduler"]

_NEEDS_MAX_STEPS = ("{} needs max_steps, the full resource of a trial (e.g. the number of "
                    "epochs) that its brackets divide: pass max_steps=81 (--max-steps 81).")


class HyperbandScheduler(BracketScheduler):
    """Successive halving in brackets that trade many short trials against few long ones.

    With ``R = max_steps / min_resource`` and ``eta = reduction_factor``, bracket ``s`` (from
    ``s_max = floor(log_eta R)`` down to 0) starts ``n = ceil((s_max + 1) eta**s / (s + 1))``
    configurations at ``R eta**-s`` steps, as in the paper: for ``R = 81, eta = 3`` the
    brackets are 81 trials from 1 step, 34 from 3, 15 from 9, 8 from 27 and 5 trained fully.
    New trials are dealt to the brackets in these numbers, the most aggressive bracket first
    (``trial.user_attrs["bracket"]`` says where, 0 being the most aggressive), so a short
    budget is spent on successive halving, not on the first trial of every bracket trained
    fully; inside a bracket each rung lets the best
    ``1/eta`` of the trials that reached it go on, asynchronously, so a sequential run never
    waits for a rung to fill.

    Parameters
    ----------
    max_steps : int
        The full resource ``R`` (times ``min_resource``).
    reduction_factor : int
        ``eta``.
    min_resource : int
        The smallest resource a trial gets.

    Examples
    --------
    >>> HyperbandScheduler(max_steps=81).brackets
    [(81, 1), (34, 3), (15, 9), (8, 27), (5, 81)]
    """

    name = "hyperband"

    def __init__(self, max_steps: int | None = None, reduction_factor: int = 3,
                 min_resource: int = 1) -> None:
        super().__init__(max_steps, min_resource, reduction_factor)
        if max_steps is not None:
            self.check()

    def check(self) -> None:
        if self.max_steps is None:
            raise TuneError(_NEEDS_MAX_STEPS.format(type(self).__name__))
        super().check()

    @property
    def brackets(self) -> list[tuple[int, int]]:
        """``(number of configurations, first resource)`` of each bracket."""
        if self.max_steps is None:
            raise TuneError(_NEEDS_MAX_STEPS.format(type(self).__name__))
        eta, unit = self.reduction_factor, self.min_resource
        big = self.max_steps // unit
        s_max = 0
        while eta ** (s_max + 1) <= big:
            s_max += 1
        out = []
        for s in range(s_max, -1, -1):
            n = -(-(s_max + 1) * eta**s // (s + 1))
            out.append((n, max(unit, round(self.max_steps / eta**s))))
        return out

    def _layout(self) -> list[tuple[int, int]]:
        return [(first, n) for n, first in self.brackets]

    @property
    def rungs(self) -> list[list[int]]:
        """The rung resources of each bracket (the last, full-resource one has none)."""
        return [Rungs(first, self.reduction_factor, self.max_steps).resources
                for _, first in self.brackets]

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(max_steps={self.max_steps}, "
                f"reduction_factor={self.reduction_factor}, min_resource={self.min_resource})")
