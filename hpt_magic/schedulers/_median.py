"""The median stopping rule (Golovin et al., 2017, Google Vizier)."""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING

from ..exceptions import TuneError
from ..trial import TrialState
from ._base import CONTINUE, STOP, Scheduler
from ._pareto_rank import in_worse_half
from ._rungs import curve_value

if TYPE_CHECKING:
    from ..study._study import Study
    from ..trial import Trial

__all__ = ["MedianStopping"]


class MedianStopping(Scheduler):
    """Stop a trial whose best value up to step ``s`` is worse than the median at ``s``.

    The median is taken over the values that complete trials reported at step ``s``, so a
    trial is judged against finished curves at the same point of training (as Optuna's
    ``MedianPruner``). Using the trial's best value so far, not its last one, keeps a noisy
    curve from being stopped by one bad epoch.

    Parameters
    ----------
    n_warmup_steps : int
        No decision before this step (early epochs say little).
    n_min_trials : int
        No decision at a step until this many complete trials reported there.
    max_steps : int, optional
        Not needed; accepted like every scheduler.

    Examples
    --------
    >>> from hpt_magic import Study, tune
    >>> curves = [[1, 2, 3], [2, 3, 4], [0, 1, 1]]
    >>> def objective(trial):
    ...     for step in tune.steps(3):
    ...         tune.report(curves[trial.number][step])
    >>> study = Study(direction="maximize",
    ...               scheduler=MedianStopping(n_warmup_steps=1, n_min_trials=2))
    >>> study.optimize(objective, n_trials=3)
    >>> [(t.state.value, t.last_step) for t in study.trials]
    [('complete', 2), ('complete', 2), ('pruned', 1)]
    """

    name = "median"

    def __init__(self, n_warmup_steps: int = 5, n_min_trials: int = 5,
                 max_steps: int | None = None) -> None:
        if int(n_warmup_steps) != n_warmup_steps or n_warmup_steps < 0:
            raise TuneError(f"MedianStopping needs n_warmup_steps >= 0 (a step), got "
                            f"{n_warmup_steps!r}.")
        if int(n_min_trials) != n_min_trials or n_min_trials < 1:
            raise TuneError(f"MedianStopping needs n_min_trials >= 1, got {n_min_trials!r}: "
                            "the median of no trials decides nothing.")
        super().__init__(max_steps)
        self.n_warmup_steps = int(n_warmup_steps)
        self.n_min_trials = int(n_min_trials)
        # step -> sorted losses of complete trials at that step
        self._at: dict[int, list[float]] = {}
        self._best: dict[int, float] = {}
        self._synced = False

    def on_trial_start(self, study: Study, trial: Trial) -> None:
        self._sync(study)

    def on_report(self, study: Study, trial: Trial, step: int, value: float) -> str:
        if study.is_multi_objective:
            # Several objectives: the worse half by non-dominated sorting (see _pareto_rank).
            worse = step >= self.n_warmup_steps and in_worse_half(
                study, trial, step, self.n_min_trials, curve_value)
            return STOP if worse else CONTINUE
        self._sync(study)
        best = min(self._best.get(trial.number, math.inf), study.direction.to_loss(value))
        self._best[trial.number] = best
        losses = self._at.get(step)
        if step < self.n_warmup_steps or losses is None or len(losses) < self.n_min_trials:
            return CONTINUE
        return STOP if best > _median(losses) else CONTINUE

    def on_trial_finished(self, study: Study, trial: Trial) -> None:
        self._best.pop(trial.number, None)
        if trial.state is TrialState.COMPLETE:
            self._add(study, trial)

    def _add(self, study: Study, trial: Trial) -> None:
        for step, value in trial.intermediate.items():
            bisect.insort(self._at.setdefault(step, []), study.direction.to_loss(value))

    def _sync(self, study: Study) -> None:
        """Learn the curves of a continued study's earlier trials, once."""
        if self._synced:
            return
        self._synced = True
        for t in study.trials:
            if t.state is TrialState.COMPLETE:
                self._add(study, t)

    def __repr__(self) -> str:
        return (f"MedianStopping(n_warmup_steps={self.n_warmup_steps}, "
                f"n_min_trials={self.n_min_trials})")


def _median(sorted_values: list[float]) -> float:
    n = len(sorted_values)
    mid = n // 2
    return sorted_values[mid] if n % 2 else 0.5 * (sorted_values[mid - 1] + sorted_values[mid])
