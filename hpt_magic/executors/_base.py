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

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from ..distributions import Distribution
from ..trial import Trial, TrialHost
from ._objective import call_objective

__all__ = ["Executor", "InlineExecutor"]


class Executor(ABC):
    """Runs the objective of submitted trials and carries their messages."""

    #: Trials to keep in flight.
    size: int = 1

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
    def close(self) -> None:
        """Release the workers (the run is over)."""


class InlineExecutor(Executor):
    """Runs each trial in the calling thread, when the loop asks for its next message.

    The trial talks to its host (the study) directly, so only ``done`` messages come back.
    ``capture=False`` lets the objective's output through (scikit-learn's verbose output and
    warnings in :class:`~hpt_magic.sklearn.TuneSearchCV`).
    """

    def __init__(self, objective: Callable[[Trial], Any], host: TrialHost, *,
                 catch: bool | tuple[type[Exception], ...] = True, capture: bool = True) -> None:
        self.objective = objective
        self.host = host
        self.catch = catch
        self.capture = capture
        self._pending: Trial | None = None

    def submit(self, trial: Trial, known: dict[str, Distribution]) -> None:
        trial._host = self.host
        self._pending = trial

    def next_message(self, timeout: float) -> tuple | None:
        trial, self._pending = self._pending, None
        if trial is None:
            return None
        return ("done", trial.number, call_objective(self.objective, trial, self.catch,
                                                     capture=self.capture))

    def reply(self, number: int, reply: tuple) -> None:
        raise RuntimeError("a trial run in this thread sends no requests")

    def cancel(self) -> None:
        self._pending = None

    def close(self) -> None:
        self._pending = None
