"""Parallel runs: trials in local worker processes or on a Dask cluster, decided in the kernel.

The kernel's main thread is the only place that asks, samples, records reports, asks the
scheduler, tells and writes storage; workers only run the objective. The loop keeps ``size``
trials in flight: as soon as one finishes the next is asked (asynchronous, no batches), and
running trials are in ``study.trials`` as pending points for the sampler.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError
from ..executors._worker import _picklable, dump_objective, trial_spec
from ..trial import Trial, TrialState
from ._lifecycle import RunInfo, _stopped, should_end

if TYPE_CHECKING:
    from ..study._study import Study

__all__ = ["run_parallel", "n_workers"]

#: Seconds between checks of the timeout and of ``study.stop()`` while trials run.
_POLL = 0.1


def run_parallel(study: Study, objective: Callable[[Trial], Any], info: RunInfo, *,
                 n_jobs: int = 1, dask: Any = None, catch: bool = True,
                 callbacks: list[Callable[[Study, Trial], None]] | None = None,
                 retries: int = 0) -> None:
    """Run the study's trials in ``n_jobs`` local processes or on Dask until ``info`` says stop.

    Parameters
    ----------
    n_jobs : int
        Worker processes (``-1``: one per core). With ``dask``, trials kept in flight
        (default: one per Dask worker thread).
    dask : str or distributed.Client, optional
        ``"local:N"`` starts a ``LocalCluster`` of N single-threaded processes for this run;
        ``"tcp://host:port"`` connects to a running scheduler; a ``Client`` is used as is.
    catch : bool
        Record a failing trial and go on (``False``: stop the run and re-raise its error).
    retries : int
        Times a trial whose worker process died is run again before it counts as failed.

    Raises
    ------
    TuneError
        When the objective (or a value it uses) cannot be pickled, or the workers cannot load
        it. ``KeyboardInterrupt`` cancels the running trials (marked ``interrupted``).
    """
    if retries < 0:
        raise TuneError(f"retries must be >= 0, got {retries}.")
    blob = dump_objective(objective)
    if dask is not None:
        from ..executors._dask import DaskPool

        pool: Any = DaskPool(dask, blob, n_jobs)
    else:
        from ..executors._processes import ProcessPool

        pool = ProcessPool(n_workers(n_jobs), blob)
    try:
        _Dispatcher(study, pool, info, catch, callbacks or [], retries).run()
    finally:
        pool.close()


def n_workers(n_jobs: int) -> int:
    """Worker processes for ``n_jobs`` (``-1``: the number of cores)."""
    if n_jobs == -1:
        return os.cpu_count() or 1
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise TuneError(f"n_jobs must be a positive number of processes or -1 (one per core), "
                        f"got {n_jobs!r}.")
    return n_jobs


class _Dispatcher:
    """The kernel side of a parallel run: dispatch, answer workers, tell, recover."""

    def __init__(self, study: Study, pool: Any, info: RunInfo, catch: bool,
                 callbacks: list[Callable[[Study, Trial], None]], retries: int) -> None:
        self.study = study
        self.pool = pool
        self.info = info
        self.catch = catch
        self.callbacks = callbacks
        self.retries = retries
        self.running: dict[int, Trial] = {}
        self.specs: dict[int, dict[str, Any]] = {}
        self.attempts: dict[int, int] = {}
        self.begun: set[int] = set()
        self.first_number = len(study.trials)

    def run(self) -> None:
        reason = None
        try:
            while True:
                if reason is None:
                    reason = self._dispatch()
                if not self.running:
                    self.info.reason = reason or should_end(self.study, self.info) or "done"
                    return
                message = self.pool.next_message(_POLL)
                if message is not None:
                    self._handle(message)
        except BaseException as exc:
            self._cancel(exc)
            raise

    def _dispatch(self) -> str | None:
        """Start trials until every slot is busy; return why the run ends, if it does."""
        n_trials = self.info.n_trials
        while len(self.running) < self.pool.size:
            if n_trials is not None and self.info.done + len(self.running) >= n_trials:
                return None
            reason = should_end(self.study, self.info)
            if reason:
                return reason
            trial = self.study.ask()
            spec = trial_spec(self.study, trial, self.catch)
            self.running[trial.number] = trial
            self.specs[trial.number] = spec
            self.attempts[trial.number] = 1
            self.pool.submit(spec)
        return None

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
                self.pool.reply(number, ("cancel",))
            return
        if kind == "begin":
            self._begin(trial)
        elif kind == "suggest":
            _, _, name, dist, learned = message
            self._learn(trial, learned)
            self._answer(number, lambda: self.study._suggest(trial, name, dist))
        elif kind == "report":
            _, _, value, step, checkpoint, learned = message
            self._learn(trial, learned)
            self._answer(number, lambda: self.study._report(trial, value, step, checkpoint))
        elif kind == "done":
            self._finish(trial, message[2])
        elif kind == "lost":
            if self._lost(trial, message[2]):
                self.begun.discard(number)  # a new task: its first start is not a re-run
                self.pool.submit(self.specs[number])

    def _answer(self, number: int, compute: Callable[[], Any]) -> None:
        try:
            reply: tuple = ("ok", compute())
        except Exception as exc:
            reply = ("raise", exc if _picklable(exc) else TuneError(f"{type(exc).__name__}: {exc}"))
        self.pool.reply(number, reply)

    def _learn(self, trial: Trial, learned: list[tuple[str, Any]]) -> None:
        """Record the parameters a worker resolved from the values sampled at ask time."""
        for name, dist in learned:
            self.study._suggest(trial, name, dist)

    def _begin(self, trial: Trial) -> None:
        """A Dask task starts; a second start means the worker of the first one died."""
        if trial.number not in self.begun:
            self.begun.add(trial.number)
            self.pool.reply(trial.number, ("ok", None))
        elif self._lost(trial, "Dask started its task again"):
            self.pool.reply(trial.number, ("ok", None))
        else:
            self.pool.reply(trial.number, ("cancel",))

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
        self._learn(trial, outcome["learned"])
        trial.output = outcome["output"]
        sent = self.specs[trial.number]["user_attrs"]
        trial.user_attrs.update({k: v for k, v in outcome["user_attrs"].items()
                                 if k not in sent or sent[k] != v})
        state, value = outcome["state"], outcome["value"]
        if state is None and trial.should_stop:
            state, value = _stopped(self.study, trial)
        self._close(trial, value, state, outcome.get("error"), outcome.get("traceback"))
        if "raise" in outcome:
            raise outcome["raise"]

    def _close(self, trial: Trial, value: Any, state: TrialState | None, error: str | None,
               traceback: str | None) -> None:
        del self.running[trial.number]
        del self.specs[trial.number], self.attempts[trial.number]
        self.begun.discard(trial.number)
        self.study.tell(trial, value, state=state, error=error, traceback=traceback)
        self.info.done += 1
        for callback in self.callbacks:
            callback(self.study, trial)

    def _cancel(self, exc: BaseException) -> None:
        """Stop every running trial at once and mark it interrupted."""
        try:
            self.pool.cancel()
        finally:
            self._interrupt_running(exc)

    def _interrupt_running(self, exc: BaseException) -> None:
        why = ("interrupted by the user" if isinstance(exc, KeyboardInterrupt)
               else f"cancelled: the run stopped on {type(exc).__name__}: {exc}")
        # An interrupt can land between `ask` and the bookkeeping: every trial this run
        # started and nobody told yet is running, so scan the study, not only `running`.
        for trial in self.study.trials[self.first_number:]:
            if trial.state is TrialState.RUNNING:
                self.study.tell(trial, state=TrialState.INTERRUPTED, error=why)
        self.running.clear()
