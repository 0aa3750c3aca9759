"""Running one objective call as a trial: its output captured, its outcome classified.

The one place that turns what an objective did (returned, raised, was pruned or interrupted)
into a trial outcome, in the kernel and in worker processes alike.
"""

from __future__ import annotations

import contextlib
import io
import math
import reprlib
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

from ..exceptions import SpaceError, TrialPruned, TrialTimedOut
from ..trial import Trial, TrialState
from ._capture import capture as capture_output
from ._tune import activate, deactivate

__all__ = ["Failure", "call_objective", "check_score", "user_frames"]


class Failure(str):
    """Why a trial failed (its ``error``), with the ``kind`` it shares with failures of the
    same cause whatever values they print, or ``None`` when its parameters may be the cause.

    Set where a failure is classified: for an error the objective raised, its message; for a
    result that is no score by its type or shape (text, a list, a dict where one number is
    expected, the wrong number of objectives), what is wrong with it. A timeout, a NaN or
    infinite score and a lost worker have no kind. The run's rule that stops on a bug
    compares kinds (``study._stopping.bug_kind``); the study file keeps the text alone.

    Examples
    --------
    >>> reason = check_score("0.5")[1]
    >>> reason, reason.kind
    ("the score is a str ('0.5'): return a number, e.g. float(...)", 'score of type str')
    >>> check_score(float("nan"))[1].kind is None
    True
    """

    kind: str | None

    def __new__(cls, text: str, kind: str | None = None) -> Failure:
        self = super().__new__(cls, text)
        self.kind = kind
        return self


def call_objective(objective: Callable[[Trial], Any], trial: Trial,
                   catch: bool | tuple[type[Exception], ...] = True, *,
                   interrupts: tuple[type[BaseException], ...] = (KeyboardInterrupt,),
                   why: str = "interrupted by the user", capture: bool = True) -> dict[str, Any]:
    """Run ``objective(trial)`` as the current trial, with its output captured.

    ``catch``: record errors as a failed trial (``True``), only errors of these types (a
    tuple), or none (``False``: they are re-raised). ``capture=False`` lets the output through.

    Returns the outcome: ``value`` (the score as a float, or ``None`` when the objective
    returned nothing), or ``state`` (pruned, interrupted by one of ``interrupts``, failed:
    an error, a ``BaseException`` other than ``KeyboardInterrupt``, or a score that is not a
    finite number) with ``error`` and ``traceback``; ``output`` (what it printed and
    warned); ``interrupt`` (the interrupting exception) and ``raise`` (an error to re-raise: a
    :class:`SpaceError`, which every further trial would hit too, or any error when ``catch``
    is false).
    """
    token = activate(trial)
    outcome: dict[str, Any] = {"state": None, "value": None}
    try:
        with (capture_output() if capture else contextlib.nullcontext(io.StringIO())) as out:
            try:
                outcome["value"] = objective(trial)
            except TrialPruned:
                outcome["state"] = TrialState.PRUNED
            except interrupts as exc:
                outcome.update(state=TrialState.INTERRUPTED, error=why, interrupt=exc)
            except TrialTimedOut as exc:
                # Plain text, no Failure kind: the parameters may be what is slow.
                outcome.update(state=TrialState.FAILED, error=str(exc) or "timed out",
                               traceback=_user_traceback(exc))
            except KeyboardInterrupt:
                raise  # in a worker, where only the kernel's cancel interrupts a trial
            except BaseException as exc:
                # SystemExit, GeneratorExit and a user's own BaseException end this trial, not
                # the run (nor the kernel): they fail it like any error.
                outcome["state"] = TrialState.FAILED
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                outcome["error"] = Failure(error, kind=error)
                outcome["traceback"] = _user_traceback(exc)
                if isinstance(exc, SpaceError) or not _caught(exc, catch):
                    outcome["raise"] = exc
    finally:
        deactivate(token)
    outcome["output"] = out.getvalue()
    if outcome["state"] is None and outcome["value"] is not None:
        # Judged here, where the objective ran: a worker then sends a float (or the study's
        # judged Scores) or the reason, never a value that does not pickle, is huge, or breaks
        # float() in the kernel.
        score, reason = (check_score(outcome["value"]) if trial.scoring is None
                         else trial.scoring.judge(outcome["value"]))
        outcome.update(value=score)
        if reason:
            outcome.update(state=TrialState.FAILED, error=reason)
    return outcome


def _caught(exc: BaseException, catch: bool | tuple[type[Exception], ...]) -> bool:
    return isinstance(exc, catch) if isinstance(catch, tuple) else bool(catch)


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the user's code down, without our runner frames."""
    tb = user_frames(exc.__traceback__) or exc.__traceback__
    return "".join(traceback.format_exception(type(exc), exc, tb))


def user_frames(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` from the first frame that is not ours (the user's code) down; ``None`` when
    every frame is ours (an error that came back from a worker process)."""
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith(
            "hpt_magic."):
        tb = tb.tb_next
    return tb


def check_score(value: Any) -> tuple[float | None, Failure | None]:
    """``(score, None)`` for a finite number, else ``(None, reason)`` saying what is wrong
    (a :class:`Failure`, with a kind when the value's type is to blame).

    Never raises (short of ``KeyboardInterrupt``): whatever the objective returned, even a
    value whose ``float()`` fails or overflows, ends as a reason on a failed trial.

    Examples
    --------
    >>> check_score(0.5)
    (0.5, None)
    >>> check_score(float("nan"))
    (None, 'the score is nan (not finite)')
    >>> check_score("0.5")
    (None, "the score is a str ('0.5'): return a number, e.g. float(...)")
    >>> check_score(10**400)[1]
    'the score <int of 1329 bits> is not a number: OverflowError: int too large to convert to float'
    """
    if value is None:
        return None, Failure("the objective returned None and reported nothing: end the cell "
                             "with the score expression or call tune.report(score)", "no score")
    kind = f"score of type {type(value).__name__}"
    if isinstance(value, bool):
        return None, Failure(f"the score is a bool ({value!r}), not a number", kind)
    if isinstance(value, (str, bytes)):
        # float("0.5") would work, and hide a score that is text by mistake (a formatted one).
        return None, Failure(f"the score is a {type(value).__name__} ({reprlib.repr(value)}): "
                             "return a number, e.g. float(...)", kind)
    try:
        v = float(value)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a user's __float__ may raise anything
        # Too large a number is the value's doing; anything else, its type's (a list, an array).
        return None, Failure(f"the score {_short(value)} is not a number: {_one_line(exc)}",
                             None if isinstance(exc, OverflowError) else kind)
    if not math.isfinite(v):
        return None, Failure(f"the score is {v} (not finite)")  # the parameters' doing
    return v, None


def _one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` of an exception whose ``__str__`` may fail."""
    try:
        lines = str(exc).strip().splitlines()
    except Exception:
        lines = []
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _short(value: Any) -> str:
    """A repr of at most a line with the type, even for huge ints and objects whose
    ``__repr__`` fails."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"
    try:
        text = reprlib.repr(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    return text if text.startswith("<") else f"{text} ({type(value).__name__})"
