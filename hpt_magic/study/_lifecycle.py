"""The trial lifecycle: one component owns a run from its first ``ask`` to its last clean-up.

:class:`Run` asks the study for trials (running ones are the sampler's pending points), hands
them to an executor, answers the requests of trials that run in other processes with the
study's own code, tells the outcomes, emits the run events, calls the callbacks, and on every
way out (the end, a timeout, ``stop()``, an interrupt, any ``BaseException``, a sampler or
scheduler error) leaves no trial of the run ``running``. Sequential runs, ``--jobs``,
``--dask``, background runs, manual trials and ``TuneSearchCV`` all go through it; executors
only run objectives and carry messages (:mod:`hpt_magic.executors`). What a run records and
the rules that end it early are in :mod:`._stopping`; the ways in (``optimize``, background
runs, one manual trial) in :mod:`._optimize`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._signals import hold_interrupts
from ..exceptions import TuneError
from ..executors import Executor, InlineExecutor, make_executor
from ..executors._worker import picklable
from ..trial import Trial, TrialState
from ._events import Event
from ._objectives import check_scheduler
from ._stopping import (
    RunInfo,
    StoppingRules,
    check_auto_patience,
    check_budget,
    check_iteration,
    should_end,
)
from ._tried import Repeats

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["Callback", "Run"]

#: Seconds between checks of the timeout and of ``study.stop()`` while trials run elsewhere.
_POLL = 0.1

Callback = Callable[["Study", Trial], None]


class Run(StoppingRules):
    """One run of ``objective`` on new trials of ``study``.

    Parameters
    ----------
    study : Study
    objective : callable
        ``objective(trial) -> score``.
    executor : Executor, optional
        Where objectives run; default: built from ``n_jobs`` / ``dask``.
    n_trials, timeout : int, float, optional
        The budget (``None``: until the timeout, the sampler's end or ``study.stop()``).
    catch : bool or tuple of exception types
        Record failing trials and go on (``True``), only these errors, or none.
    callbacks : list of callables
        ``callback(study, trial)`` after each finished trial.
    retries : int
        Times a trial whose worker process died is run again before it counts as failed.
    params, manual : dict, bool
        Values for every trial of the run (manual tuning: one trial with the sliders' values).
    run_events : bool
        Emit ``run_started`` / ``run_finished`` (a manual trial is part of no run).
    trial_timeout : float, optional
        Seconds a trial may run; then it is stopped and recorded failed ("timed out after
        60 s") with its curve so far, and the run goes on.
    patience : int or "auto", optional
        End the run when the best score has not improved by more than ``min_improvement``
        in this many finished trials (several objectives: no trial joined the Pareto front,
        beating every point of it by more than ``min_improvement`` somewhere); ``"auto"``:
        when the bound of the regret still to gain falls below the noise of the score
        (:func:`~._convergence.regret_bound`; one objective only).
    on_repeat : {"reuse", "skip", "run"}
        What to do when the sampler proposes parameters a complete trial already has:
        ``reuse`` records the repeat with the earlier score (``user_attrs["repeat_of"]``)
        without running the objective and (unless ``count_repeats``) without spending the
        budget; ``skip`` asks the
        sampler for another point from fresh random streams (up to 10 times, then reuses);
        ``run`` runs it (noisy objectives). Unless ``run``, the run ends (``exhausted``) when
        every point of a finite space (integers, options, floats with a step) has a complete trial.
    stop_on_bug : bool
        End the run when its first five trials all failed alike (raised the same error, or
        returned a result of the same wrong type or shape: a bug in the objective), and list
        the trials a bug failed in the study's ``failed_alike`` attribute, which the samplers
        leave out of their evidence.
    count_repeats : bool
        A repeat recorded with an earlier trial's score spends one trial of ``n_trials``, as
        a trial that ran does: the run then adds exactly ``n_trials`` trials to the study
        (``TuneSearchCV``, whose ``n_trials`` are rows of ``cv_results_``). The run's
        ``n_done`` counts them too.
    """

    def __init__(self, study: Study, objective: Callable[[Trial], Any], *,
                 executor: Executor | None = None, n_trials: int | None = None,
                 timeout: float | None = None, catch: bool | tuple[type[Exception], ...] = True,
                 callbacks: list[Callback] | None = None, n_jobs: int = 1, dask: Any = None,
                 retries: int = 0, capture: bool = True, info: RunInfo | None = None,
                 params: Mapping[str, Any] | None = None, manual: bool = False,
                 run_events: bool = True, trial_timeout: float | None = None,
                 patience: int | None = None, min_improvement: float = 0.0,
                 on_repeat: str = "reuse", stop_on_bug: bool = True,
                 count_repeats: bool = False) -> None:
        check_budget(n_trials, timeout)
        check_iteration(trial_timeout, patience, min_improvement, on_repeat, retries)
        check_auto_patience(patience, study.name, study.objectives)
        study.refresh()  # what another kernel on the same file did meanwhile
        check_scheduler(study)  # again: study.sampler or .scheduler may be set since
        self.study = study
        self.info = info or RunInfo(n_trials, timeout)
        # Built when the run starts (inside its clean-up's reach), so workers never leak.
        self.executor = executor
        self._make_executor = lambda: make_executor(objective, study, n_jobs=n_jobs, dask=dask,
                                                    catch=catch, capture=capture,
                                                    trial_timeout=trial_timeout,
                                                    n_trials=n_trials)
        self.trial_timeout = trial_timeout
        self._init_rules(patience, min_improvement, stop_on_bug)
        #: When each trial in flight must end (trials run by workers; ``trial_timeout``).
        self.deadlines: dict[int, float] = {}
        self.repeats = Repeats(study, on_repeat, manual, self.info)
        self.count_repeats = count_repeats
        self.callbacks = list(callbacks or [])
        self.retries = retries
        self.params = dict(params) if params is not None else None
        self.manual = manual
        self.run_events = run_events
        self.running: dict[int, Trial] = {}
        #: A trial's user attributes as sent to a worker: what the worker changed comes back.
        self.sent: dict[int, dict[str, Any]] = {}
        self.attempts: dict[int, int] = {}
        self.begun: set[int] = set()
        self.first_number = len(study.trials)

    # -- the loop ----------------------------------------------------------------------------
    def execute(self) -> RunInfo:
        """Run until the budget is spent; re-raise an interrupt or error after cleaning up."""
        study, info = self.study, self.info
        failure: BaseException | None = None
        try:
            with study._lock:
                study._runs.add(self)
            if self.executor is None:
                self.executor = self._make_executor()
            if self.run_events:
                study.events.emit(Event("run_started", study, data={
                    "n_trials": info.n_trials, "timeout": info.timeout,
                    "count_repeats": self.count_repeats}))
            self._loop()
        except KeyboardInterrupt:
            info.reason = "interrupted"
            raise
        except BaseException as exc:
            info.reason, failure = "error", exc
            raise
        finally:
            with hold_interrupts():
                try:
                    self._clean_up(failure)
                finally:
                    with study._lock:
                        study._runs.discard(self)
                    try:
                        self._mark_bug()
                    except Exception:  # a study that cannot say is read as before: no mark
                        pass
                if self.run_events:
                    study.events.emit(Event("run_finished", study, data={
                        "reason": info.reason, "n_done": info.done, "elapsed": info.elapsed,
                        "space_size": info.space_size}))
        return info

    def _loop(self) -> None:
        reason = None
        while True:
            if reason is None:
                reason = self._start_trials()
            if not self.running:
                self.info.reason = reason or should_end(self.study, self.info) or "done"
                return
            message = self.executor.next_message(_POLL)
            if message is not None:
                self._handle(message)
            if self.deadlines:
                self._enforce_deadlines()

    def _start_trials(self) -> str | None:
        """Start trials until every slot is busy; return why the run ends, if it does."""
        n_trials = self.info.n_trials
        while len(self.running) < self.executor.size:
            if n_trials is not None and self.info.done + len(self.running) >= n_trials:
                return None
            reason = self.should_end()
            if reason:
                return reason
            if self.repeats.rest_running(self.running.values()):
                return None  # wait: a trial that fails frees its point
            trial = self.study.ask(self.params, manual=self.manual, owner=self)
            self.running[trial.number] = trial
            self.attempts[trial.number] = 1
            if self._reuse_repeat(trial):
                continue
            self._submit(trial)
        return None

    def _reuse_repeat(self, trial: Trial) -> bool:
        """Record ``trial`` with an earlier trial's score when it repeats its parameters
        (see :class:`~._tried.Repeats`)."""
        earlier = self.repeats.earlier(trial)
        if earlier is None:
            return False
        for name, dist in self.study.search_space().items():
            if name in earlier.params:
                trial.suggest(name, dist)
        trial.user_attrs["repeat_of"] = earlier.number
        del self.running[trial.number], self.attempts[trial.number]
        # All that the earlier trial returned: every objective and the constrained metrics.
        metrics = getattr(earlier, "metrics", None)
        several = getattr(self.study, "is_multi_objective", False) or getattr(
            self.study, "constraints", None)
        self.study.tell(trial, metrics if metrics and several else earlier.value)
        if self.count_repeats:
            self.info.done += 1
        for callback in self.callbacks:
            callback(self.study, trial)
        return True

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for number, deadline in list(self.deadlines.items()):
            if now >= deadline and number in self.running:
                self.executor.stop_trial(number)
                self._close(self.running[number], None, TrialState.FAILED,
                            f"timed out after {self.trial_timeout:g} s", None)

    def _submit(self, trial: Trial) -> None:
        self.sent[trial.number] = dict(trial.user_attrs)
        if self.trial_timeout is not None and not isinstance(self.executor, InlineExecutor):
            # From now for a worker process; a Dask task starts its clock when it begins.
            self.deadlines[trial.number] = (math.inf if self.executor.announces_start
                                            else time.monotonic() + self.trial_timeout)
        self.executor.submit(trial, self.study.search_space())

    # -- messages ----------------------------------------------------------------------------
    def _handle(self, message: tuple) -> None:
        kind, number = message[0], message[1]
        if kind == "broken":
            raise TuneError(
                f"A worker could not load the objective ({message[2]}). Every module and file "
                "the objective uses must be importable where the workers run (for Dask: "
                "install hpt-magic and your packages on the workers).")
        trial = self.running.get(number)
        if trial is None:  # a trial already given up on (its worker was lost)
            if kind in ("begin", "suggest", "report"):
                self.executor.reply(number, ("cancel",))
            return
        if kind == "begin":
            self._begin(trial)
        elif kind == "suggest":
            _, _, name, dist, learned = message
            self._learn(trial, learned)
            self._answer(number, lambda: self.study.sample_param(trial, name, dist))
        elif kind == "report":
            _, _, value, step, checkpoint, learned = message
            self._learn(trial, learned)
            self._answer(number, lambda: self.study.record_report(trial, value, step,
                                                                  checkpoint))
        elif kind == "done":
            self._finish(trial, message[2])
        elif kind == "lost" and self._lost(trial, message[2]):
            self.begun.discard(number)  # a new task: its first start is not a re-run
            self._submit(trial)

    def _answer(self, number: int, compute: Callable[[], Any]) -> None:
        try:
            reply: tuple = ("ok", compute())
        except Exception as exc:
            reply = ("raise", exc if picklable(exc) else TuneError(f"{type(exc).__name__}: {exc}"))
        self.executor.reply(number, reply)

    def _learn(self, trial: Trial, learned: list[tuple[str, Any]]) -> None:
        """Record the parameters a worker resolved from the trial's preset values."""
        for name, dist in learned:
            self.study.sample_param(trial, name, dist)

    def _begin(self, trial: Trial) -> None:
        """A Dask task starts; a second start means the worker of the first one died."""
        if trial.number in self.deadlines:
            self.deadlines[trial.number] = time.monotonic() + self.trial_timeout
        if trial.number not in self.begun:
            self.begun.add(trial.number)
            self.executor.reply(trial.number, ("ok", None))
        elif self._lost(trial, "Dask started its task again"):
            self.executor.reply(trial.number, ("ok", None))
        else:
            self.executor.reply(trial.number, ("cancel",))

    def _lost(self, trial: Trial, why: str) -> bool:
        """The process running ``trial`` died: return whether to run it again."""
        number = trial.number
        if self.attempts[number] <= self.retries:
            self.attempts[number] += 1
            trial.user_attrs["retried"] = self.attempts[number] - 1
            trial.intermediate.clear()
            trial.should_stop = False
            return True
        self._close(trial, None, TrialState.FAILED,
                    f"the worker process running it died ({why})", None)
        return False

    def _finish(self, trial: Trial, outcome: dict[str, Any]) -> None:
        self._learn(trial, outcome.get("learned", ()))
        trial.output = outcome["output"]
        sent = self.sent.get(trial.number, {})
        trial.user_attrs.update({k: v for k, v in outcome.get("user_attrs", {}).items()
                                 if k not in sent or sent[k] != v})
        state, value = outcome["state"], outcome["value"]
        if trial.should_stop and state in (None, TrialState.PRUNED):
            state, value = stopped_result(self.study, trial)
        self._close(trial, value, state, outcome.get("error"), outcome.get("traceback"))
        if "interrupt" in outcome:
            raise KeyboardInterrupt
        if "raise" in outcome:
            raise outcome["raise"]

    def _close(self, trial: Trial, value: Any, state: TrialState | None, error: str | None,
               traceback: str | None) -> None:
        del self.running[trial.number], self.attempts[trial.number]
        self.sent.pop(trial.number, None)
        self.deadlines.pop(trial.number, None)
        self.begun.discard(trial.number)
        self.study.tell(trial, value, state=state, error=error, traceback=traceback)
        self.info.done += 1
        if trial.state is TrialState.FAILED:
            self.info.failed.append(trial.number)
        self._follow_best(trial)
        self.repeats.remember(trial)
        for callback in self.callbacks:
            callback(self.study, trial)

    # -- the way out -------------------------------------------------------------------------
    def _clean_up(self, failure: BaseException | None) -> None:
        """Stop the workers and finish every trial this run started and nobody told."""
        error = None
        try:
            if self.running and self.executor is not None:
                self.executor.cancel()
        except Exception as exc:  # the cluster may be gone already; the trials still end
            error = exc
        finally:
            try:
                if self.executor is not None:
                    self.executor.close()
            except Exception as exc:
                error = error or exc
        why = ("interrupted by the user" if failure is None else
               f"cancelled: the run stopped on {type(failure).__name__}: {failure}")
        # An interrupt can land between `ask` and the bookkeeping: every trial this run
        # asked for and nobody told is still running, so scan the study, not only `running`
        # (the trials of another run of the same study, or of ask/tell by hand, have another
        # owner).
        for trial in self.study.trials[self.first_number:]:
            if trial.state is TrialState.RUNNING and trial._owner is self:
                try:
                    self.study.tell(trial, state=TrialState.INTERRUPTED, error=why)
                except Exception as exc:
                    # The storage refuses writes (a locked or damaged file, a storage of the
                    # user's that fails otherwise): the other trials are still told, and the
                    # next kernel to open the study finds this one's owner gone and recovers it.
                    error = error or exc
        self.running.clear()
        if error is not None and self.info.reason not in ("interrupted", "error"):
            raise error


def stopped_result(study: Study, trial: Trial) -> tuple[TrialState, Any]:
    """The final state of a trial that a scheduler stopped and that ended quietly."""
    decided = getattr(study.scheduler, "stopped_result", None)
    if decided is not None:
        state, value = decided(trial)
        return TrialState(state), value
    return TrialState.PRUNED, None
