"""What a run records and how it decides to end.

:class:`RunInfo` holds the facts about one run that summaries and the dashboard read.
:func:`should_end` applies the budget (``n_trials``, ``timeout``), ``study.stop()`` and a
sampler with nothing left to propose; :class:`StoppingRules`, mixed into
:class:`~._lifecycle.Run`, adds ``patience`` (a best score or a Pareto front that stopped
improving), its automatic form (``patience="auto"``) and a search that keeps proposing points
already tried. :func:`check_budget`, :func:`check_iteration` and :func:`check_auto_patience`
refuse options that cannot mean anything, before anything is stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._format import error_line
from .._pareto import dominates
from ..exceptions import TuneError
from ..samplers._base import BUG_STREAK, FAILED_ALIKE
from ..trial import Trial, TrialState
from ._convergence import regret_bound
from ._tried import MAX_REPEATS

if TYPE_CHECKING:
    from ._study import Study
    from ._tried import Repeats

__all__ = ["RunInfo", "StoppingRules", "bug_kind", "check_auto_patience", "check_budget",
           "check_iteration", "failing_text", "should_end"]

#: Finished trials between two checks of the automatic stopping criterion.
_CHECK_EVERY = 5


class RunInfo:
    """Facts about one run, filled as it goes (read by summaries and the dashboard)."""

    def __init__(self, n_trials: int | None, timeout: float | None) -> None:
        self.n_trials = n_trials
        self.timeout = timeout
        self.started = time.time()
        self.done = 0
        #: The numbers of this run's trials that failed, in the order they finished.
        self.failed: list[int] = []
        #: Proposals that repeated a complete trial and were recorded with its score.
        self.reused = 0
        #: Repeated proposals replaced by a new one (``on_repeat="skip"``).
        self.redrawn = 0
        #: With ``patience="auto"``: the last remaining-regret bound and score noise computed.
        self.regret_bound: float | None = None
        self.noise: float | None = None
        #: The number of points of a finite search space when every one of them was tried
        #: (the run then ends as ``exhausted``), else ``None``.
        self.space_size: int | None = None
        self.reason = "running"

    @property
    def elapsed(self) -> float:
        return time.time() - self.started


def check_budget(n_trials: int | None, timeout: float | None) -> None:
    """Refuse a budget that cannot mean anything, before anything is stored."""
    if n_trials is not None and (not isinstance(n_trials, int) or n_trials < 0):
        raise TuneError(f"n_trials must be a whole number >= 0, got {n_trials!r}.")
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0
                                    and not math.isnan(timeout)):
        raise TuneError(f"timeout must be a positive number of seconds, got {timeout!r}.")


def check_iteration(trial_timeout: float | None, patience: int | str | None,
                    min_improvement: float, on_repeat: str, retries: int = 0) -> None:
    """Refuse options of an iterating run that cannot mean anything."""
    if trial_timeout is not None and not (isinstance(trial_timeout, (int, float))
                                          and trial_timeout > 0 and math.isfinite(trial_timeout)):
        raise TuneError(f"trial_timeout (--trial-timeout) must be a positive number of seconds, "
                        f"got {trial_timeout!r}.")
    if patience is not None and patience != "auto" and (
            not isinstance(patience, int) or isinstance(patience, bool) or patience < 1):
        raise TuneError(f"patience (--patience) must be a whole number of trials >= 1, or "
                        f"'auto' (stop when the remaining regret is below the score's noise), "
                        f"got {patience!r}.")
    if not (isinstance(min_improvement, (int, float)) and min_improvement >= 0):
        raise TuneError(f"min_improvement (--min-improvement) must be a number >= 0, got "
                        f"{min_improvement!r}.")
    if on_repeat not in ("reuse", "skip", "run"):
        raise TuneError(f"on_repeat (--on-repeat) must be 'reuse' (record a repeated proposal "
                        f"with the earlier score), 'skip' (ask the sampler for another point) "
                        f"or 'run', got {on_repeat!r}.")
    if not isinstance(retries, int) or retries < 0:
        raise TuneError(f"retries (--retries) must be a whole number >= 0, got {retries!r}.")


def check_auto_patience(patience: int | str | None, study: str, objectives: Sequence[str]
                        ) -> None:
    """Refuse ``patience="auto"`` for a study of several objectives: it judges one score.

    Parameters
    ----------
    patience : int, "auto" or None
    study : str
        The study's name, for the message.
    objectives : list of str
        The study's objectives (:attr:`Study.objectives`, or before the study is opened
        :func:`~._objectives.preview_objectives`).
    """
    if patience == "auto" and len(objectives) > 1:
        raise TuneError(
            f"patience='auto' (--patience auto) judges one score, and study {study!r} has "
            f"{len(objectives)} objectives: give a number of trials instead (the run ends "
            f"after that many trials without one joining the Pareto front).")


def should_end(study: Study, info: RunInfo) -> str | None:
    """Why the run should end now, or ``None`` to go on."""
    if info.n_trials is not None and info.done >= info.n_trials:
        return "done"
    if info.timeout is not None and info.elapsed >= info.timeout:
        return "timeout"
    if study.stop_requested:
        return "stopped"
    if study.sampler.exhausted(study):
        return "exhausted"
    return None


class StoppingRules:
    """The rules that end a run early, mixed into :class:`~._lifecycle.Run`.

    The run calls :meth:`_init_rules` once, :meth:`should_end` before it asks for a trial and
    :meth:`_follow_best` after each finished one.
    """

    study: Study
    info: RunInfo
    repeats: Repeats

    def _init_rules(self, patience: int | str | None, min_improvement: float,
                    stop_on_bug: bool = True) -> None:
        """Count from the study's best so far (``patience``; see :class:`~._lifecycle.Run`)."""
        self.patience, self.min_improvement = patience, min_improvement
        self.stop_on_bug = stop_on_bug
        #: Finished trials since the best score last improved (``patience``).
        self.stale = 0
        self._checked = -1
        self.best = _best_loss(self.study)
        #: Several objectives: the loss vectors of the front so far (``patience``).
        self.front = (_front_losses(self.study) if self.study.is_multi_objective
                      and isinstance(patience, int) else [])

    def should_end(self) -> str | None:
        """Why the run should end now (see :func:`should_end`, plus ``patience`` and a
        sampler that keeps repeating itself), or ``None``."""
        reason = should_end(self.study, self.info)
        if reason:
            return reason
        if (self.stop_on_bug and len(self.info.failed) >= BUG_STREAK
                and bug_kind(self.study, self.info) is not None):
            return "failing"
        if self.patience == "auto":
            if self._converged():
                return "converged"
        elif self.patience is not None and self.stale >= self.patience:
            return "no improvement"
        if self.repeats.in_a_row >= MAX_REPEATS:
            return "exhausted"
        size = self.repeats.used_up()
        if size is not None:
            self.info.space_size = size
            return "exhausted"
        return None

    def _mark_bug(self) -> None:
        """At the end of a run that a bug failed (:func:`bug_kind`, whatever ended it: the
        rule, the budget, an interrupt), list its trials that failed alike in the
        study, so that its samplers never hold their points against the space (see
        ``samplers._base.telling_failure``), in this kernel or the next."""
        kind = bug_kind(self.study, self.info) if self.stop_on_bug else None
        if kind is None:
            return
        numbers = {n for n in self.info.failed if _kind(self.study.trial(n)) == kind}

        def mark(attrs: dict) -> None:
            attrs[FAILED_ALIKE] = sorted({*attrs.get(FAILED_ALIKE, ()), *numbers})

        try:
            self.study._change_attrs(mark)
        except Exception:  # a read-only or damaged file: known to this kernel only
            self.study._bug_trials.update(numbers)

    def _converged(self) -> bool:
        """The automatic criterion: the remaining regret bound is below the score's noise
        (checked every few finished trials; see :mod:`._convergence`)."""
        if self.info.done == self._checked or self.info.done % _CHECK_EVERY:
            return False
        self._checked = self.info.done
        found = regret_bound(self.study, seed=self.info.done)
        if found is None:
            return False
        self.info.regret_bound, self.info.noise = found
        return found[0] < found[1]

    def _follow_best(self, trial: Trial) -> None:
        """Count finished trials since the best score improved (``patience``); with several
        objectives, since a trial last joined the Pareto front (see :meth:`_joins_front`)."""
        if not isinstance(self.patience, int):
            return
        if self.study.is_multi_objective:
            if self._joins_front(trial):
                self.stale = 0
                return
        elif trial.state is TrialState.COMPLETE and trial.value is not None:
            loss = self.study.direction.to_loss(trial.value)
            if self.best is None or self.best - loss > self.min_improvement:
                self.best, self.stale = loss, 0
                return
        self.stale += 1

    def _joins_front(self, trial: Trial) -> bool:
        """Whether ``trial`` improves the front: feasible, complete, and no point of the
        front so far is within ``min_improvement`` of being as good in every objective."""
        if (trial.state is not TrialState.COMPLETE or trial.values is None
                or trial.feasible is False):
            return False
        loss = [d.to_loss(v) for d, v in zip(self.study.directions, trial.values)]
        margin = self.min_improvement
        if any(all(f - margin <= x for f, x in zip(point, loss)) for point in self.front):
            return False
        self.front = [point for point in self.front if not dominates(loss, point)] + [loss]
        return True


def _front_losses(study: Study) -> list[list[float]]:
    return [[d.to_loss(v) for d, v in zip(study.directions, t.values)]
            for t in study.best_trials]


def _best_loss(study: Study) -> float | None:
    best = study.top_trials(1)
    return study.direction.to_loss(best[0].value) if best else None


def _kind(trial: Trial) -> str | None:
    """What ``trial``'s failure shares with failures of the same cause (see
    :class:`~..executors._objective.Failure`), ``None`` when its parameters may be the cause."""
    return getattr(trial.error, "kind", None)


def bug_kind(study: Study, info: RunInfo) -> str | None:
    """The kind of failure of a bug that fails every trial of this run: none of its finished
    trials worked, and the first :data:`BUG_STREAK` failed alike (raised the same error, or
    returned a result of the same wrong type or shape; not timeouts, scores that are NaN or
    infinite or lost workers); else ``None``."""
    failed = info.failed
    if len(failed) < BUG_STREAK or info.done != len(failed):
        return None
    kinds = {_kind(study.trial(n)) for n in failed[:BUG_STREAK]}
    return kinds.pop() if len(kinds) == 1 else None


def failing_text(study: Study, info: RunInfo) -> str:
    """Why a run ended as ``"failing"``, in one paragraph."""
    first = study.trial(info.failed[0])
    error = error_line(first.error).rstrip(".")
    if first.traceback:
        why = f"failed with {error}"  # (a message ends with its own stop)
        see = f" (study.trial({first.number}).traceback has the traceback)"
    else:  # a result of the wrong type or shape
        why, see = f"failed because {error}", ""
    return (f"Stopped: the first {BUG_STREAK} trials of this run all {why}. That looks like a "
            f"bug in the objective rather than bad parameters: fix it and run again{see}.")
