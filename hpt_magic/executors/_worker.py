"""A trial as a worker process runs it: parameters from, and reports to, the kernel.

The worker builds an ordinary :class:`Trial` from the kernel's trial spec and attaches a
:class:`_KernelLink` where a trial normally holds its study. ``trial.suggest`` and
``trial.report`` (and so every ``tune.*`` call) then go through the link: values the kernel
already sampled at ask time are read locally, everything else is one round trip over the
channel, so sampling, storage, events and scheduler decisions all stay in the kernel.

A channel is any object with ``request(message) -> reply``. Messages are tuples sent to the
kernel; replies are ``("ok", value)``, ``("raise", exception)`` or ``("cancel",)``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any, Protocol

import cloudpickle

from ..distributions import Distribution
from ..exceptions import TuneError
from ..trial import UNSET, Trial
from ._objective import call_objective

__all__ = ["Channel", "Cancelled", "trial_spec", "run_remote", "dump_outcome", "dump_objective",
           "dumps", "loads", "with_worker", "unpicklable_part"]

dumps = cloudpickle.dumps
loads = cloudpickle.loads


class Channel(Protocol):
    def request(self, message: tuple) -> tuple: ...


class Cancelled(BaseException):
    """Raised in a worker when the kernel cancels the run (not an ``Exception``, so user code
    that catches everything does not swallow it)."""


def trial_spec(trial: Trial, known: dict[str, Distribution],
               catch: bool | tuple[type[Exception], ...]) -> dict[str, Any]:
    """What a worker needs to run ``trial``: everything the kernel decided at ask time, and
    the study's parameters so far (``known``)."""
    return {
        "number": trial.number, "params": dict(trial.params),
        "distributions": dict(trial.distributions), "fixed": dict(trial.fixed),
        "queued": dict(trial.queued),
        "relative": dict(trial.relative), "known": dict(known),
        "user_attrs": dict(trial.user_attrs), "checkpoint": trial.checkpoint,
        "started": trial.started, "catch": catch, "scoring": trial.scoring,
        "judged": trial.judged,
    }


class _KernelLink:
    """The host of a trial running in a worker (see :class:`~hpt_magic.trial.TrialHost`):
    the kernel's study, one message away."""

    def __init__(self, channel: Channel, known: dict[str, Distribution]) -> None:
        self.channel = channel
        self.known = known
        #: Parameters resolved here and not yet recorded by the kernel; sent with the next
        #: message so the kernel's copy of the trial catches up.
        self.learned: list[tuple[str, Distribution]] = []

    def _ask(self, message: tuple) -> Any:
        learned, self.learned = self.learned, []
        try:
            reply = self.channel.request((*message, learned))
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self.learned = learned + self.learned  # sent with the outcome instead
            raise TuneError(
                f"tune.{message[0]} in trial {message[1]} cannot send its values to the kernel "
                f"({type(exc).__name__}: {exc}). Report numbers, and a checkpoint that pickles "
                "(e.g. a model's state dict rather than the model).") from None
        if reply[0] == "cancel":
            raise Cancelled
        if reply[0] == "raise":
            raise reply[1]
        return reply[1]

    def sample_param(self, trial: Trial, name: str, dist: Distribution) -> Any:
        value = UNSET
        if self.known.get(name) == dist:
            # The trial's own preset value, as the kernel's study would resolve it: recorded
            # there with the next message instead of a round trip now.
            value = trial.preset_value(name, dist)
        if value is UNSET:
            value = self._ask(("suggest", trial.number, name, dist))
        else:
            self.learned.append((name, dist))
        return trial.record_param(name, dist, value)

    def record_report(self, trial: Trial, value: float, step: int, checkpoint: Any = None) -> bool:
        trial.record_point(step, value, checkpoint)
        trial.should_stop = bool(self._ask(("report", trial.number, value, step, checkpoint)))
        return trial.should_stop


def run_remote(objective: Callable[[Trial], Any], spec: dict[str, Any],
               channel: Channel) -> dict[str, Any]:
    """Run one trial in this worker; return its outcome for the kernel's ``study.tell``.

    The outcome holds ``state`` (``None``: complete unless the scheduler stopped it),
    ``value``, ``error``, ``traceback``, captured ``output``, ``user_attrs``, the ``learned``
    parameters the kernel has not seen, and ``raise`` (an exception the kernel re-raises: a
    :class:`SpaceError`, or any error when ``catch`` is false).
    """
    trial = Trial(spec["number"], params=spec["params"], distributions=spec["distributions"],
                  user_attrs=spec["user_attrs"], started=spec["started"])
    trial.fixed, trial.relative = spec["fixed"], spec["relative"]
    trial.queued = spec["queued"]
    trial.checkpoint = spec["checkpoint"]
    trial.scoring = spec.get("scoring")
    trial.judged = spec.get("judged", True)
    link = _KernelLink(channel, spec["known"])
    trial._host = link
    outcome = call_objective(objective, trial, spec["catch"], interrupts=(Cancelled,),
                             why="cancelled: the run was interrupted")
    outcome.pop("interrupt", None)
    outcome.update(user_attrs=trial.user_attrs, learned=link.learned)
    return outcome


def with_worker(outcome: dict[str, Any], lane: int, name: str | None = None) -> dict[str, Any]:
    """``outcome`` with the worker that ran the trial in its ``user_attrs``: ``worker``, a lane
    number stable for the run (the timeline's rows), and ``worker_name`` where it has one."""
    attrs = dict(outcome.get("user_attrs", {}))
    if "worker" in attrs:  # the user's own attribute: theirs to keep
        return outcome
    attrs["worker"] = lane
    if name is not None:
        attrs.setdefault("worker_name", name)
    return {**outcome, "user_attrs": attrs}


def dump_outcome(outcome: dict[str, Any]) -> bytes:
    """Pickle an outcome; a score or exception that cannot travel is replaced by its text."""
    try:
        return dumps(outcome)
    except Exception:
        outcome = dict(outcome)
        if "raise" in outcome:
            exc = outcome["raise"]
            outcome["raise"] = RuntimeError(f"{type(exc).__name__}: {exc}")
        if not picklable(outcome["value"]):
            outcome["value"] = repr(outcome["value"])
        if not picklable(outcome["user_attrs"]):
            outcome["user_attrs"] = {k: v for k, v in outcome["user_attrs"].items()
                                     if picklable(v)}
        return dumps(outcome)


def picklable(obj: Any) -> bool:
    try:
        dumps(obj)
    except Exception:
        return False
    return True


def dump_objective(objective: Callable[[Trial], Any]) -> bytes:
    """Pickle the objective for worker processes, or raise a :class:`TuneError` naming the
    value that cannot be pickled (a notebook variable, a closure cell, an attribute)."""
    try:
        return dumps(objective)
    except Exception as exc:
        path, culprit, error = unpicklable_part(objective, _name(objective), exc)
    raise TuneError(
        f"The objective cannot be sent to worker processes: {path} "
        f"({type(culprit).__name__}) cannot be pickled ({type(error).__name__}: {error}). "
        "Create such objects inside the objective (the cell), make them picklable, or run "
        "the trials in this process (n_jobs=1, no --dask).") from None


def unpicklable_part(obj: Any, path: str, error: Exception) -> tuple[str, Any, Exception]:
    """The part of ``obj`` (named ``path``) whose pickling made ``error``: its path (a global
    or closure variable of a function by its name, an attribute as ``path.name``), the part
    and its own error; ``obj`` itself when no part is to blame.

    Examples
    --------
    >>> import threading
    >>> guard = threading.Lock()
    >>> def fit(x):
    ...     with guard:
    ...         return x
    >>> unpicklable_part(fit, "`fit`", TypeError())[0]
    '`guard`'
    """
    return _culprit(obj, path, error, depth=4)


def _name(obj: Any) -> str:
    return getattr(obj, "__qualname__", None) or f"the {type(obj).__name__} object"


def _culprit(obj: Any, path: str, error: Exception,
             depth: int) -> tuple[str, Any, Exception]:
    """The innermost part of ``obj`` that does not pickle, with its path and error."""
    if depth == 0:
        return path, obj, error
    for sub_path, part in _parts(obj, path):
        try:
            dumps(part)
        except Exception as exc:
            return _culprit(part, sub_path, exc, depth - 1)
    return path, obj, error


def _parts(obj: Any, path: str) -> list[tuple[str, Any]]:
    """Named parts of ``obj`` that pickling it would pickle too."""
    code = getattr(obj, "__code__", None)
    if code is not None:
        cells = dict(zip(code.co_freevars, obj.__closure__ or ()))
        glob = getattr(obj, "__globals__", {})
        return ([(f"`{n}`", c.cell_contents) for n, c in cells.items()]
                + [(f"`{n}`", glob[n]) for n in code.co_names if n in glob])
    if isinstance(obj, dict):
        return [(f"`{k}`" if isinstance(k, str) else f"{path}[{k!r}]", v)
                for k, v in obj.items()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [(f"{path}[{i}]", v) for i, v in enumerate(obj)]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return [(f"{path}.{k}", v) for k, v in vars(obj).items()]
    return []

