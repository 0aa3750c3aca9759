"""The ways into the run loop: a blocking run, a background run, one manual trial.

:func:`optimize` runs :class:`~._lifecycle.Run` to the end of its budget; :func:`start_background`
does the same in a daemon thread that ``study.wait()``, ``study.stop()`` and ``study.abort()``
(through :func:`interrupt_thread`) control; :func:`run_one` runs one trial with given values
(manual tuning).
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError
from ..trial import Trial
from ._lifecycle import Callback, Run
from ._stopping import RunInfo, check_budget

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["interrupt_thread", "optimize", "run_one", "start_background"]


def optimize(study: Study, objective: Callable[[Trial], Any], *, n_trials: int | None = None,
             timeout: float | None = None, catch: bool | tuple[type[Exception], ...] = True,
             callbacks: list[Callback] | None = None, n_jobs: int = 1, dask: Any = None,
             retries: int = 0, capture: bool = True, info: RunInfo | None = None,
             clear_stop: bool = True, **iteration: Any) -> RunInfo:
    """Run ``objective`` on new trials until the budget is spent; return what happened.

    A ``KeyboardInterrupt`` ends the run with every finished trial kept and the running ones
    marked ``interrupted``, and is re-raised after the ``run_finished`` event.
    ``iteration``: ``trial_timeout``, ``patience``, ``min_improvement``, ``on_repeat``,
    ``stop_on_bug``, ``count_repeats`` (see :class:`Run`).
    """
    if clear_stop:
        study._stop.clear()  # a stop() of an earlier run does not end this one
    return Run(study, objective, n_trials=n_trials, timeout=timeout, catch=catch,
               callbacks=callbacks, n_jobs=n_jobs, dask=dask, retries=retries,
               capture=capture, info=info, **iteration).execute()


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
    study._stop.clear()  # here, not in the thread: a stop() right after the start counts

    def target() -> None:
        error: BaseException | None = None
        try:
            optimize(study, objective, info=info, clear_stop=False, **kwargs)
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
