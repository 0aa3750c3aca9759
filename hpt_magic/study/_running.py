"""Running a study: ``optimize``, which hands the run to the one run loop (``_lifecycle``),
and the controls of a run going on (``stop``, ``abort``, ``wait``, ``running``, the events to
``subscribe`` to). ``Study`` inherits these methods from :class:`RunMixin`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..trial import Trial
    from ._events import Event
    from ._study import Study

__all__ = ["RunMixin"]


class RunMixin:
    """``optimize`` and the controls of a run; mixed into ``Study``, whose stop flag,
    background thread and event bus they use."""

    def optimize(self, objective: Callable[[Trial], Any], n_trials: int | None = None,
                 timeout: float | None = None, *, catch: bool = True,
                 callbacks: Iterable[Callable[[Study, Trial], None]] = (),
                 show: bool = False, n_jobs: int = 1, dask: Any = None,
                 retries: int = 0, trial_timeout: float | None = None,
                 patience: int | None = None, min_improvement: float = 0.0,
                 on_repeat: str = "reuse", stop_on_bug: bool = True) -> None:
        """Run ``objective`` on new trials until ``n_trials`` or ``timeout`` is reached.

        Parameters
        ----------
        objective : callable
            ``objective(trial) -> score``.
        n_trials : int, optional
            Trials to add (``None``: until the timeout, the grid's end or :meth:`stop`).
        timeout : float, optional
            Seconds.
        catch : bool
            Record a trial that raises as failed and go on (``False`` re-raises).
        callbacks : iterable of callables
            ``callback(study, trial)`` after each trial.
        show : bool
            Show the live dashboard (in a notebook).
        n_jobs : int
            Local worker processes (1: in this process).
        dask : str or distributed.Client, optional
            Run trials on a Dask cluster (``"local:N"`` starts a LocalCluster of N workers).
        retries : int
            With ``n_jobs``/``dask``: times a trial whose worker process died is run again
            before it is recorded as failed.
        trial_timeout : float, optional
            Seconds one trial may run; it is then stopped and recorded failed with its curve.
        patience : int, optional
            Stop when the best score has not improved (by more than ``min_improvement``) in
            this many trials.
        on_repeat : {"reuse", "skip", "run"}
            A proposal that repeats a complete trial's parameters is recorded with its score
            without running the objective (``reuse``, not counted in ``n_trials``), replaced
            by another proposal (``skip``), or run.

        stop_on_bug : bool
            End the run with a warning when its first five trials all fail alike (raise the
            same error, or return a result of the same wrong type or shape: a bug in the
            objective, which every further trial would hit); the samplers
            then leave those trials out of their evidence.
        """
        from ._optimize import optimize

        dashboard = None
        if show:
            # A front end, built only when asked for (a named exception of the layers
            # contract): it follows the run through the study's events.
            from ..notebook._dashboard import Dashboard

            dashboard = Dashboard(self, n_trials=n_trials, timeout=timeout)
        try:
            info = optimize(self, objective, n_trials=n_trials, timeout=timeout, catch=catch,
                            callbacks=list(callbacks), n_jobs=n_jobs, dask=dask,
                            retries=retries, trial_timeout=trial_timeout, patience=patience,
                            min_improvement=min_improvement, on_repeat=on_repeat,
                            stop_on_bug=stop_on_bug)
        finally:
            if dashboard is not None:
                dashboard.close()
        if info.reason == "failing":
            from ._stopping import failing_text

            warnings.warn(failing_text(self, info), stacklevel=2)

    def stop(self) -> None:
        """Ask a running ``optimize`` to stop after the running trial(s)."""
        self._stop.set()

    def abort(self) -> None:
        """Stop now: the running trials are marked interrupted.

        In a background run the worker thread is interrupted at its next Python instruction: a
        trial blocked inside C code (``time.sleep``, a long numpy call) ends only when that
        call returns. Trials in worker processes are stopped at once. In a blocking cell use
        Kernel > Interrupt.
        """
        self._stop.set()
        if self._background is not None and not self._background[1].is_set():
            from ._optimize import interrupt_thread

            interrupt_thread(self._background[0])

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; return ``True`` when it has ended.

        An interrupt (Kernel > Interrupt) while waiting stops the waiting, not the run:
        ``study.running`` stays true and ``abort()`` still stops it.
        """
        if self._background is None:
            return True
        # An Event, not Thread.join: an interrupted join marks the thread stopped while it
        # still runs (Python 3.11), which would make `running` lie.
        return self._background[1].wait(timeout)

    @property
    def running(self) -> bool:
        """Whether a background run is going on."""
        return self._background is not None and not self._background[1].is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every study event; returns the unsubscribe function."""
        return self.events.subscribe(callback)
