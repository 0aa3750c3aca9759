"""Executors run objectives and carry messages: in this thread, in local processes, on Dask.

They decide nothing: the run loop in :mod:`hpt_magic.study` asks the trials, answers the
workers' requests with the study's own code, and tells the outcomes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..exceptions import TuneError
from ..trial import Trial, TrialHost
from ._base import Executor, InlineExecutor

__all__ = ["Executor", "InlineExecutor", "make_executor", "n_workers"]


def make_executor(objective: Callable[[Trial], Any], host: TrialHost, *, n_jobs: int = 1,
                  dask: Any = None, catch: bool | tuple[type[Exception], ...] = True,
                  capture: bool = True, trial_timeout: float | None = None,
                  n_trials: int | None = None) -> Executor:
    """The executor for ``n_jobs`` / ``dask``: this thread, local processes or Dask.

    ``trial_timeout`` is enforced by the executor itself only in this thread; for workers
    the run loop watches the clock and calls :meth:`Executor.stop_trial`. No more local
    processes than ``n_trials`` (the run's budget, if it has one) are started.

    Raises
    ------
    TuneError
        When ``n_jobs`` is not a positive number or -1, or the objective (or a value it uses)
        cannot be pickled for other processes.
    """
    if n_jobs == 1 and dask is None:
        return InlineExecutor(objective, host, catch=catch, capture=capture,
                              trial_timeout=trial_timeout)
    from ._worker import dump_objective

    size = n_workers(n_jobs) if dask is None else n_jobs
    blob = dump_objective(objective)
    if dask is not None:
        from ._dask import DaskPool

        return DaskPool(dask, blob, size, catch=catch)
    from ._processes import ProcessPool

    if n_trials is not None:  # each costs a process start, and would wait idle
        size = max(1, min(size, n_trials))
    return ProcessPool(size, blob, catch=catch)


def n_workers(n_jobs: int) -> int:
    """Worker processes for ``n_jobs`` (``-1``: the number of cores)."""
    if n_jobs == -1:
        return os.cpu_count() or 1
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise TuneError(f"n_jobs must be a positive number of processes or -1 (one per core), "
                        f"got {n_jobs!r}.")
    return n_jobs
