"""What the run loop needs from an executor, and the executor that runs trials in this thread.

An executor only runs objectives and carries messages. The run loop (``study/_lifecycle.py``)
asks trials, hands them to :meth:`Executor.submit`, and reads :meth:`Executor.next_message`:

- ``("done", number, outcome)``: the trial's objective returned or raised (``outcome`` as
  :func:`~hpt_magic.executors._objective.call_objective` builds it);
- ``("suggest", number, name, dist, learned)`` and ``("report", number, value, step,
  checkpoint, learned)``: a trial in another process needs the study; the loop answers with
  :meth:`Executor.reply`;
- ``("begin", number)``: a Dask task starts (a second start means its worker died);
- ``("lost", number, why)``: the process running the trial died;
- ``("broken", None, why)``: the workers cannot run the objective at all.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import Any

from ..distributions import Distribution
from ..exceptions import TrialTimedOut
from ..trial import Trial, TrialHost, TrialState
from ._capture import ROUTER
from ._objective import call_objective

__all__ = ["Executor", "InlineExecutor"]


class Executor(ABC):
    """Runs the objective of submitted trials and carries their messages."""

    #: Trials to keep in flight.
    size: int = 1
    #: Whether a trial says when it really starts (``begin``): queued trials wait for a free
    #: worker there, so their time limit starts then.
    announces_start: bool = False

    @abstractmethod
    def submit(self, trial: Trial, known: dict[str, Distribution]) -> None:
        """Start running ``trial`` (``known``: the study's parameters so far)."""

    @abstractmethod
    def next_message(self, timeout: float) -> tuple | None:
        """The next message, or ``None`` when none came within ``timeout`` seconds."""

    @abstractmethod
    def reply(self, number: int, reply: tuple) -> None:
        """Answer the request of the worker running trial ``number``."""

    @abstractmethod
    def cancel(self) -> None:
        """Stop every running trial at once (the run is being interrupted)."""

    @abstractmethod
    def stop_trial(self, number: int) -> None:
        """Stop the running trial ``number`` now (it ran past its time limit); its worker is
        replaced."""

    @abstractmethod
    def close(self) -> None:
        """Release the workers (the run is over)."""


class InlineExecutor(Executor):
    """Runs each trial in the calling thread, when the loop asks for its next message.

    The trial talks to its host (the study) directly, so only ``done`` messages come back.
    ``capture=False`` lets the objective's output through (scikit-learn's verbose output and
    warnings in :class:`~hpt_magic.sklearn.TuneSearchCV`).
    """

    def __init__(self, objective: Callable[[Trial], Any], host: TrialHost, *,
                 catch: bool | tuple[type[Exception], ...] = True, capture: bool = True,
                 trial_timeout: float | None = None) -> None:
        self.objective = objective
        self.host = host
        self.catch = catch
        self.capture = capture
        self.trial_timeout = trial_timeout
        self._pending: Trial | None = None
        self._router = ROUTER if capture else None
        if self._router is not None:
            self._router.retain()  # once for the run, not once a trial

    def submit(self, trial: Trial, known: dict[str, Distribution]) -> None:
        trial._host = self.host
        self._pending = trial

    def next_message(self, timeout: float) -> tuple | None:
        trial, self._pending = self._pending, None
        if trial is None:
            return None
        if self.trial_timeout is None:
            return ("done", trial.number,
                    call_objective(self.objective, trial, self.catch, capture=self.capture))
        try:
            with time_limit(self.trial_timeout):
                outcome = call_objective(self.objective, trial, self.catch,
                                         capture=self.capture)
        except TrialTimedOut as exc:
            # The limit struck after the objective returned (while its output or score was
            # being collected): the trial still ran out of its time.
            outcome = {"state": TrialState.FAILED, "value": None, "output": "",
                       "error": str(exc) or "timed out"}
        return ("done", trial.number, outcome)

    def reply(self, number: int, reply: tuple) -> None:
        raise RuntimeError("a trial run in this thread sends no requests")

    def cancel(self) -> None:
        self._pending = None

    def stop_trial(self, number: int) -> None:
        raise RuntimeError("a trial run in this thread enforces its own time limit "
                           "(time_limit); the run loop never stops it from outside")

    def close(self) -> None:
        self._pending = None
        router, self._router = self._router, None
        if router is not None:
            router.release()


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TrialTimedOut` in this thread once ``seconds`` have passed.

    In the main thread an alarm signal interrupts even a blocking call (``time.sleep``, a
    socket read); in another thread (a background run) the exception is raised at the
    thread's next Python instruction, so code blocked inside a C extension that holds the GIL
    ends only when that call returns.
    """
    if seconds is None:
        yield
        return
    message = f"timed out after {seconds:g} s"
    armed = [True]
    lock = threading.Lock()
    if threading.current_thread() is threading.main_thread():
        def on_alarm(signum: int, frame: Any) -> None:
            if armed[0]:
                armed[0] = False
                raise TrialTimedOut(message)

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            armed[0] = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return
    ident = threading.get_ident()
    fired = [False]

    def expire() -> None:
        with lock:
            if armed[0]:
                fired[0] = True
                _async_raise(ident, _timed_out_type(message))

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            armed[0] = False
            timer.cancel()
            if fired[0]:
                _async_raise(ident, None)  # not delivered yet: withdraw it


def _timed_out_type(message: str) -> type[TrialTimedOut]:
    """A subclass carrying ``message``: an exception raised in another thread is given as a
    class, which Python instantiates without arguments."""
    return type("TrialTimedOut", (TrialTimedOut,), {"__str__": lambda self: message})


def _async_raise(ident: int, exc_type: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident),
                                               ctypes.py_object(exc_type) if exc_type else None)
