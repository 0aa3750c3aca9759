"""Running one objective call as a trial: its output captured, its outcome classified.

The one place that turns what an objective did (returned, raised, was pruned or interrupted)
into a trial outcome, in the kernel and in worker processes alike.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from ..exceptions import SpaceError, TrialPruned
from ..trial import Trial, TrialState
from ._capture import capture
from ._tune import activate, deactivate

__all__ = ["call_objective"]


def call_objective(objective: Callable[[Trial], Any], trial: Trial, catch: bool, *,
                   interrupts: tuple[type[BaseException], ...] = (KeyboardInterrupt,),
                   why: str = "interrupted by the user") -> dict[str, Any]:
    """Run ``objective(trial)`` as the current trial, with its output captured.

    Returns the outcome: ``value``, or ``state`` (pruned, interrupted by one of
    ``interrupts``, failed) with ``error`` and ``traceback``; ``output`` (what it printed and
    warned); ``interrupt`` (the interrupting exception) and ``raise`` (an error to re-raise: a
    :class:`SpaceError`, which every further trial would hit too, or any error when ``catch``
    is false).
    """
    token = activate(trial)
    outcome: dict[str, Any] = {"state": None, "value": None}
    try:
        with capture() as out:
            try:
                outcome["value"] = objective(trial)
            except TrialPruned:
                outcome["state"] = TrialState.PRUNED
            except interrupts as exc:
                outcome.update(state=TrialState.INTERRUPTED, error=why, interrupt=exc)
            except Exception as exc:
                outcome["state"] = TrialState.FAILED
                outcome["error"] = f"{type(exc).__name__}: {exc}"
                outcome["traceback"] = _user_traceback(exc)
                if isinstance(exc, SpaceError) or not catch:
                    outcome["raise"] = exc
    finally:
        deactivate(token)
    outcome["output"] = out.getvalue()
    return outcome



def _user_traceback(exc: BaseException) -> str:
    """The traceback from the user's code down, without our runner frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_globals.get("__name__", "").startswith("hpt_magic."):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
