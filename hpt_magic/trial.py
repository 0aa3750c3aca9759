"""A trial: one evaluation of the objective, with its parameters, curve, state and output."""

from __future__ import annotations

import math
import time
from enum import Enum
from typing import TYPE_CHECKING, Any

from .distributions import Choice, Distribution, Float, Int
from .exceptions import TrialPruned, TuneError

if TYPE_CHECKING:
    from .study._study import Study

__all__ = ["Trial", "TrialState"]


class TrialState(str, Enum):
    """Where a trial is in its life. ``waiting`` trials are enqueued but not started."""

    WAITING = "waiting"
    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def finished(self) -> bool:
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED,
                        TrialState.INTERRUPTED)

    def __str__(self) -> str:
        return self.value


class Trial:
    """One evaluation of the objective.

    Objectives read ``trial.params`` (fixed space) or call ``trial.suggest(...)`` /
    ``tune.*`` (define-by-run), and may ``trial.report(value, step)`` a learning curve.

    Attributes
    ----------
    number : int
        0-based position in the study.
    params : dict
        The hyperparameters, in the order they were suggested.
    state : TrialState
    value : float or None
        The score (``None`` until the trial finishes, or when it failed).
    intermediate : dict of int -> float
        The reported learning curve.
    error : str or None
        Why a trial failed (one line); ``traceback`` holds the full text.
    output : str
        What the trial printed and warned, captured.
    """

    def __init__(
        self, number: int, *, params: dict[str, Any] | None = None,
        distributions: dict[str, Distribution] | None = None,
        state: TrialState = TrialState.RUNNING,
        value: float | None = None, intermediate: dict[int, float] | None = None,
        started: float | None = None, finished: float | None = None, error: str | None = None,
        traceback: str | None = None, output: str = "", manual: bool = False,
        user_attrs: dict[str, Any] | None = None, trial_id: int | None = None,
    ) -> None:
        self.number = number
        self.params: dict[str, Any] = dict(params or {})
        self.distributions: dict[str, Distribution] = dict(distributions or {})
        self.state = TrialState(state)
        self.value = value
        self.intermediate: dict[int, float] = dict(intermediate or {})
        self.started = time.time() if started is None else started
        self.finished = finished
        self.error = error
        self.traceback = traceback
        self.output = output
        self.manual = manual
        self.user_attrs: dict[str, Any] = dict(user_attrs or {})
        self.trial_id = trial_id
        # Run-time only, never stored.
        self.should_stop = False
        self.in_steps = False
        self.checkpoint: Any = None
        self.relative: dict[str, Any] = {}
        self.fixed: dict[str, Any] = {}
        self._study: Study | None = None

    # -- define-by-run -----------------------------------------------------------------------
    def suggest(self, name: str, dist: Distribution) -> Any:
        """Return the value of parameter ``name`` drawn from ``dist`` for this trial."""
        if self._study is None:
            raise TuneError(f"Trial {self.number} is finished or detached; it cannot suggest "
                            f"{name!r}. Ask the study for a new trial.")
        return self._study._suggest(self, name, dist)

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False,
                      step: float | None = None) -> float:
        """Shorthand for ``suggest(name, Float(low, high, log=log, step=step))``."""
        return self.suggest(name, Float(low, high, log=log, step=step))

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False,
                    step: int = 1) -> int:
        """Shorthand for ``suggest(name, Int(low, high, log=log, step=step))``."""
        return self.suggest(name, Int(low, high, log=log, step=step))

    def suggest_choice(self, name: str, options: list[Any]) -> Any:
        """Shorthand for ``suggest(name, Choice(options))``."""
        return self.suggest(name, Choice(options))

    def report(self, value: float, step: int | None = None, *, checkpoint: Any = None) -> bool:
        """Record a point of the learning curve; return ``True`` when the trial should stop.

        Outside ``tune.steps`` a stop decision raises :class:`TrialPruned`, which the runner
        turns into a pruned trial.
        """
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TuneError(f"tune.report needs a number, got {value!r} "
                            f"({type(value).__name__}). Report a float score.") from None
        if step is None and self.in_steps and "step" in self.user_attrs:
            step = self.user_attrs["step"]
        elif step is None:
            step = (max(self.intermediate) + 1) if self.intermediate else 0
        if self._study is None:
            self.record_point(int(step), value)
            return False
        stop = self._study._report(self, value, int(step), checkpoint)
        if stop and not self.in_steps:
            raise TrialPruned(f"stopped by the scheduler at step {step}")
        return stop

    def record_param(self, name: str, dist: Distribution, value: Any) -> Any:
        """Keep a parameter's value and distribution (whoever sampled it); return the value."""
        self.params[name] = value
        self.distributions[name] = dist
        return value

    def record_point(self, step: int, value: float, checkpoint: Any = None) -> None:
        """Keep a point of the learning curve (and the checkpoint that came with it)."""
        self.intermediate[step] = value
        if checkpoint is not None:
            self.checkpoint = checkpoint

    # -- facts -------------------------------------------------------------------------------
    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, ``None`` while running."""
        return None if self.finished is None else self.finished - self.started

    @property
    def last_step(self) -> int | None:
        return max(self.intermediate) if self.intermediate else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record of the trial."""
        return {
            "number": self.number, "state": self.state.value, "value": _json_number(self.value),
            "params": dict(self.params), "intermediate": {str(k): _json_number(v) for k, v in
                                                          self.intermediate.items()},
            "started": self.started, "finished": self.finished, "error": self.error,
            "manual": self.manual, "user_attrs": dict(self.user_attrs),
        }

    def __repr__(self) -> str:
        val = "" if self.value is None else f", value={self.value:.6g}"
        return f"Trial(number={self.number}, state={self.state.value}{val}, params={self.params})"


def _json_number(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return v
