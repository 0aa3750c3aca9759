"""Per-trial early stopping: end training once the score stops improving."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..exceptions import TuneError
from ._base import CONTINUE, STOP, Scheduler

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["EarlyStopping"]


class EarlyStopping(Scheduler):
    """Stop a trial after ``patience`` reports without an improvement of more than ``min_delta``.

    Each trial is judged on its own curve (the classic "stop when the validation loss starts to
    rise"). A stopped trial completes with its best reported value; ``trial.user_attrs``
    records ``best_step``, the step it was reached at. Better means lower or higher following
    the study's direction.

    Parameters
    ----------
    patience : int
        Reports without improvement that are tolerated.
    min_delta : float
        The smallest change that counts as an improvement.
    max_steps : int, optional
        Not needed; accepted like every scheduler.

    Examples
    --------
    >>> from hpt_magic import Study, tune
    >>> curve = [3.0, 2.0, 2.5, 2.4, 2.2, 1.0]
    >>> def objective(trial):
    ...     for step in tune.steps(len(curve)):
    ...         tune.report(curve[step])
    >>> study = Study(scheduler=EarlyStopping(patience=3))
    >>> study.optimize(objective, n_trials=1)
    >>> trial = study.trials[0]
    >>> trial.state.value, trial.value, trial.user_attrs["best_step"], trial.last_step
    ('complete', 2.0, 1, 4)
    """

    name = "early-stop"

    def __init__(self, patience: int = 5, min_delta: float = 0.0,
                 max_steps: int | None = None) -> None:
        if int(patience) != patience or patience < 1:
            raise TuneError(f"EarlyStopping needs patience >= 1 (a number of reports), got "
                            f"{patience!r}. Pass e.g. patience=5.")
        if not min_delta >= 0:
            raise TuneError(f"EarlyStopping needs min_delta >= 0, got {min_delta!r}. It is the "
                            "smallest change that counts as an improvement.")
        super().__init__(max_steps)
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        # trial number -> [reference loss for patience, reports waited, best loss]
        self._state: dict[int, list[float]] = {}

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        loss = study.direction.to_loss(value)
        ref, waited, best = self._state.setdefault(trial.number, [math.inf, 0, math.inf])
        if loss < best:
            best = loss
            trial.user_attrs["best_step"] = step
        if loss < ref - self.min_delta:
            ref, waited = loss, 0
        else:
            waited += 1
        self._state[trial.number] = [ref, waited, best]
        return STOP if waited >= self.patience else CONTINUE

    def stopped_result(self, trial: Trial) -> tuple[str, float | None]:
        step = trial.user_attrs.get("best_step")
        if step not in trial.intermediate:
            return "pruned", None
        return "complete", trial.intermediate[step]

    def on_trial_finished(self, study: Study, trial: Trial) -> None:
        self._state.pop(trial.number, None)

    def __repr__(self) -> str:
        return f"EarlyStopping(patience={self.patience}, min_delta={self.min_delta})"
