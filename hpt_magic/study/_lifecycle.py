"""The trial lifecycle: one component owns a run from its first ``ask`` to its last clean-up.

:class:`Run` asks the study for trials (running ones are the sampler's pending points), hands
them to an executor, answers the requests of trials that run in other processes with the
study's own code, tells the outcomes, emits the run events, calls the callbacks, and on every
way out (the end, a timeout, ``stop()``, an interrupt, any ``BaseException``, a sampler or
scheduler error) leaves no trial of the run ``running``. Sequential runs, ``--jobs``,
``--dask``, background runs, manual trials and ``TuneSearchCV`` all go through it; executors
only run objectives and carry messages (:mod:`hpt_magic.executors`).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError
from ..executors import Executor, make_executor
from ..executors._worker import picklable
from ..trial import Trial, TrialState
from ._events import Event

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["Run", "RunInfo", "optimize", "run_one", "start_background", "should_end"]

#: Seconds between checks of the timeout and of ``study.stop()`` while trials run elsewhere.
_POLL = 0.1

Callback = Callable[["Study", Trial], None]


class RunInfo:
    """Facts about one run, filled as it goes (read by summaries and the dashboard)."""

    def __init__(self, n_trials: int | None, timeout: float | None) -> None:
        self.n_trials = n_trials
        self.timeout = timeout
        self.started = time.time()
        self.done = 0
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


class Run:
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
    """

    def __init__(self, study: Study, objective: Callable[[Trial], Any], *,
                 executor: Executor | None = None, n_trials: int | None = None,
                 timeout: float | None = None, catch: bool | tuple[type[Exception], ...] = True,
                 callbacks: list[Callback] | None = None, n_jobs: int = 1, dask: Any = None,
                 retries: int = 0, capture: bool = True, info: RunInfo | None = None,
                 params: Mapping[str, Any] | None = None, manual: bool = False,
                 run_events: bool = True) -> None:
        check_budget(n_trials, timeout)
        if not isinstance(retries, int) or retries < 0:
            raise TuneError(f"retries must be a whole number >= 0, got {retries!r}.")
        self.study = study
        self.info = info or RunInfo(n_trials, timeout)
        self.executor = executor or make_executor(objective, study, n_jobs=n_jobs, dask=dask,
                                                  catch=catch, capture=capture)
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
        study._stop.clear()
        study._runs.add(self)
        failure: BaseException | None = None
        if self.run_events:
            study.events.emit(Event("run_started", study, data={
                "n_trials": info.n_trials, "timeout": info.timeout}))
        try:
            self._loop()
        except KeyboardInterrupt:
            info.reason = "interrupted"
            raise
        except BaseException as exc:
            info.reason, failure = "error", exc
            raise
        finally:
            with _deferred_interrupts():
                try:
                    self._clean_up(failure)
                finally:
                    study._runs.discard(self)
                if self.run_events:
                    study.events.emit(Event("run_finished", study, data={
                        "reason": info.reason, "n_done": info.done, "elapsed": info.elapsed}))
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

    def _start_trials(self) -> str | None:
        """Start trials until every slot is busy; return why the run ends, if it does."""
        n_trials = self.info.n_trials
        while len(self.running) < self.executor.size:
            if n_trials is not None and self.info.done + len(self.running) >= n_trials:
                return None
            reason = should_end(self.study, self.info)
            if reason:
                return reason
            trial = self.study.ask(self.params, manual=self.manual)
            self.running[trial.number] = trial
            self.attempts[trial.number] = 1
            self._submit(trial)
        return None

    def _submit(self, trial: Trial) -> None:
        self.sent[trial.number] = dict(trial.user_attrs)
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
        self.begun.discard(trial.number)
        self.study.tell(trial, value, state=state, error=error, traceback=traceback)
        self.info.done += 1
        for callback in self.callbacks:
            callback(self.study, trial)

    # -- the way out -------------------------------------------------------------------------
    def _clean_up(self, failure: BaseException | None) -> None:
        """Stop the workers and finish every trial this run started and nobody told."""
        error = None
        try:
            if self.running:
                self.executor.cancel()
        except Exception as exc:  # the cluster may be gone already; the trials still end
            error = exc
        finally:
            try:
                self.executor.close()
            except Exception as exc:
                error = error or exc
        why = ("interrupted by the user" if failure is None else
               f"cancelled: the run stopped on {type(failure).__name__}: {failure}")
        # An interrupt can land between `ask` and the bookkeeping: every trial this run
        # started and nobody told is still running, so scan the study (leaving the trials of
        # another run of the same study alone), not only `running`.
        others = {n for run in self.study._runs if run is not self for n in run.running}
        for trial in self.study.trials[self.first_number:]:
            if trial.state is TrialState.RUNNING and trial.number not in others:
                self.study.tell(trial, state=TrialState.INTERRUPTED, error=why)
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


@contextlib.contextmanager
def _deferred_interrupts() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) while the run cleans up, then deliver it.

    A second interrupt must not leave a trial ``running`` half-way through the clean-up.
    Only the main thread receives signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not allowed here (an embedded interpreter)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)


def optimize(study: Study, objective: Callable[[Trial], Any], *, n_trials: int | None = None,
             timeout: float | None = None, catch: bool | tuple[type[Exception], ...] = True,
             callbacks: list[Callback] | None = None, n_jobs: int = 1, dask: Any = None,
             retries: int = 0, capture: bool = True, info: RunInfo | None = None) -> RunInfo:
    """Run ``objective`` on new trials until the budget is spent; return what happened.

    A ``KeyboardInterrupt`` ends the run with every finished trial kept and the running ones
    marked ``interrupted``, and is re-raised after the ``run_finished`` event.
    """
    return Run(study, objective, n_trials=n_trials, timeout=timeout, catch=catch,
               callbacks=callbacks, n_jobs=n_jobs, dask=dask, retries=retries,
               capture=capture, info=info).execute()


def run_one(study: Study, objective: Callable[[Trial], Any], params: Mapping[str, Any], *,
            manual: bool = True, callbacks: list[Callback] | None = None) -> Trial:
    """Run one trial with the given parameter values (manual tuning) through the lifecycle.

    A failing objective is recorded as failed; an interrupt marks the trial interrupted and is
    re-raised; a :class:`~hpt_magic.exceptions.SpaceError` is recorded and re-raised.
    """
    first = len(study.trials)
    Run(study, objective, n_trials=1, params=params, manual=manual, callbacks=callbacks,
        run_events=False).execute()
    return study.trials[first]


def start_background(study: Study, objective: Callable[[Trial], Any], *,
                     on_done: Callable[[RunInfo, BaseException | None], None] | None = None,
                     **kwargs: Any) -> threading.Thread:
    """Run :func:`optimize` in a daemon thread; ``on_done(info, error)`` is called at the end.

    ``study.wait()``, ``study.stop()`` and ``study.abort()`` control the run.
    """
    if study.running:
        raise TuneError(f"Study {study.name!r} is already running in the background. Wait for "
                        "it (study.wait()) or stop it (study.stop()) first.")
    check_budget(kwargs.get("n_trials"), kwargs.get("timeout"))
    info = RunInfo(kwargs.get("n_trials"), kwargs.get("timeout"))
    finished = threading.Event()

    def target() -> None:
        error: BaseException | None = None
        try:
            optimize(study, objective, info=info, **kwargs)
        except KeyboardInterrupt:
            pass
        except BaseException as exc:
            error = exc
        finally:
            # Set before on_done: a summary drawn there sees the run as over.
            finished.set()
        if on_done is not None:
            on_done(info, error)

    thread = threading.Thread(target=target, name=f"hpt-study-{study.name}", daemon=True)
    study._background = (thread, finished)
    thread.start()
    return thread


def interrupt_thread(thread: threading.Thread) -> None:
    """Raise ``KeyboardInterrupt`` inside ``thread`` at its next Python instruction."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident),
                                               ctypes.py_object(KeyboardInterrupt))


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
