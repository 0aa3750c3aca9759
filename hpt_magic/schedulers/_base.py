"""The one base class that every scheduler subclasses."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["Scheduler", "CONTINUE", "STOP", "PAUSE"]

CONTINUE = "continue"
STOP = "stop"
#: Population-based training: end this run of the trial; it resumes from its checkpoint later.
PAUSE = "pause"


class Scheduler:
    """Decides, at every reported point, whether a trial goes on.

    Steps count from 0: a report at step ``s`` means ``s + 1`` units of resource (epochs) are
    done, which is what ``tune.steps(n)`` yields.

    Parameters
    ----------
    max_steps : int, optional
        The full resource (epochs); schedulers that need it say so.
    """

    name = "base"

    def __init__(self, max_steps: int | None = None) -> None:
        self.max_steps = max_steps

    def check(self) -> None:
        """Raise a :class:`TuneError` when the options cannot work.

        Called once ``max_steps`` is final and before the study stores anything, so that a
        scheduler that cannot run fails at once instead of at its first trial.
        """
        m = self.max_steps
        if m is not None and not (isinstance(m, (int, float)) and not isinstance(m, bool)
                                  and math.isfinite(m) and m == int(m) and m >= 1):
            raise TuneError(f"{type(self).__name__} needs max_steps, the full resource of a "
                            f"trial, to be a whole number of steps >= 1, got {m!r}.")

    def on_trial_start(self, study: Study, trial: Trial) -> dict[str, Any] | None:
        """Called before a trial samples; may return parameters to use instead of sampling
        (and may set ``trial.checkpoint``)."""
        return None

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        """Return ``CONTINUE``, ``STOP`` or ``PAUSE`` for this point of the trial's curve."""
        return CONTINUE

    def on_trial_finished(self, study: Study, trial: Trial) -> None:
        """Called once the trial has its final state."""

    def stopped_result(self, trial: Trial) -> tuple[str, float | None]:
        """The final state and score of a trial this scheduler stopped, once its loop ended
        quietly; the default is ``("pruned", None)``: pruned, scored by its last report."""
        return "pruned", None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(max_steps={self.max_steps})"

