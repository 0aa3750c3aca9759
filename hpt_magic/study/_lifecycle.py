"""Running trials in this process: capture, errors, interrupts, the optimize loop."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..exceptions import SpaceError, TuneError
from ..executors._objective import call_objective
from ..trial import Trial, TrialState
from ._events import Event

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["run_trial", "optimize", "RunInfo", "start_background", "should_end"]


class RunInfo:
    """Facts about one ``optimize`` call, filled as it goes (read by summaries)."""

    def __init__(self, n_trials: int | None, timeout: float | None) -> None:
        self.n_trials = n_trials
        self.timeout = timeout
        self.started = time.time()
        self.done = 0
        self.reason = "running"

    @property
    def elapsed(self) -> float:
        return time.time() - self.started


def run_trial(study: Study, objective: Callable[[Trial], Any], trial: Trial,
              catch: bool = True) -> Trial:
    """Run ``objective(trial)`` with its output captured, and tell the study how it ended.

    A ``KeyboardInterrupt`` marks the trial ``interrupted`` and propagates; errors in the
    objective make it ``failed`` (and propagate only when ``catch`` is false); a
    :class:`SpaceError` always propagates.
    """
    outcome = call_objective(objective, trial, catch)
    trial.output = outcome["output"]
    state, value = outcome["state"], outcome["value"]
    if trial.should_stop and state in (None, TrialState.PRUNED):
        state, value = _stopped(study, trial)
    study.tell(trial, value, state=state, error=outcome.get("error"),
               traceback=outcome.get("traceback"))
    if "interrupt" in outcome:
        raise KeyboardInterrupt
    if "raise" in outcome:
        raise outcome["raise"]
    return trial


def _stopped(study: Study, trial: Trial) -> tuple[TrialState, Any]:
    """The final state of a trial that a scheduler stopped and that ended quietly."""
    decided = getattr(study.scheduler, "stopped_result", None)
    if decided is not None:
        state, value = decided(trial)
        return TrialState(state), value
    return TrialState.PRUNED, None


def optimize(study: Study, objective: Callable[[Trial], Any], *, n_trials: int | None = None,
             timeout: float | None = None, catch: bool = True,
             callbacks: list[Callable[[Study, Trial], None]] | None = None, show: bool = False,
             n_jobs: int = 1, dask: Any = None, retries: int = 0,
             info: RunInfo | None = None) -> RunInfo:
    """The loop behind :meth:`Study.optimize`; returns what happened.

    A ``KeyboardInterrupt`` ends the loop with every finished trial kept and is re-raised
    after the ``run_finished`` event.
    """
    if n_trials is not None and n_trials < 0:
        raise SpaceError(f"n_trials must be >= 0, got {n_trials}.")
    info = info or RunInfo(n_trials, timeout)
    dashboard = None
    if show:
        # The dashboard is a front end: imported only when asked for.
        from ..notebook._dashboard import Dashboard

        dashboard = Dashboard(study, n_trials=n_trials, timeout=timeout)
    study._stop.clear()
    study.events.emit(Event("run_started", study, data={"n_trials": n_trials,
                                                         "timeout": timeout}))
    interrupted = False
    try:
        if n_jobs != 1 or dask is not None:
            from ._dispatch import run_parallel

            run_parallel(study, objective, info, n_jobs=n_jobs, dask=dask, catch=catch,
                         callbacks=callbacks or [], retries=retries)
        else:
            _loop(study, objective, info, catch, callbacks or [])
    except KeyboardInterrupt:
        interrupted = True
        info.reason = "interrupted"
    finally:
        if info.reason == "running":
            info.reason = "error"
        study.events.emit(Event("run_finished", study, data={
            "reason": info.reason, "n_done": info.done, "elapsed": info.elapsed}))
        if dashboard is not None:
            dashboard.close()
    if interrupted:
        raise KeyboardInterrupt
    return info


def _loop(study: Study, objective: Callable[[Trial], Any], info: RunInfo, catch: bool,
          callbacks: list[Callable[[Study, Trial], None]]) -> None:
    while True:
        reason = should_end(study, info)
        if reason:
            info.reason = reason
            return
        trial = study.ask()
        run_trial(study, objective, trial, catch)
        info.done += 1
        for cb in callbacks:
            cb(study, trial)


def start_background(study: Study, objective: Callable[[Trial], Any], *,
                     on_done: Callable[[RunInfo, BaseException | None], None] | None = None,
                     **kwargs: Any) -> threading.Thread:
    """Run :func:`optimize` in a daemon thread; ``on_done(info, error)`` is called at the end.

    ``study.wait()``, ``study.stop()`` and ``study.abort()`` control the run.
    """
    if study.running:
        raise TuneError(f"Study {study.name!r} is already running in the background. Wait for "
                        "it (study.wait()) or stop it (study.stop()) first.")
    info = RunInfo(kwargs.get("n_trials"), kwargs.get("timeout"))

    def target() -> None:
        error: BaseException | None = None
        try:
            optimize(study, objective, info=info, **kwargs)
        except KeyboardInterrupt:
            pass
        except BaseException as exc:
            error = exc
        if on_done is not None:
            on_done(info, error)

    thread = threading.Thread(target=target, name=f"hpt-study-{study.name}", daemon=True)
    study._thread = thread
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
