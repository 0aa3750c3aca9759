"""Judging a trial's score, and the plain-text summary of a study."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..exceptions import TuneError

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["check_score", "summary_text", "format_duration"]


def check_score(value: Any) -> tuple[float | None, str | None]:
    """``(score, None)`` for a finite number, else ``(None, reason)`` saying what is wrong.

    Examples
    --------
    >>> check_score(0.5)
    (0.5, None)
    >>> check_score(float("nan"))
    (None, 'the score is nan (not finite)')
    """
    if value is None:
        return None, ("the objective returned None and reported nothing: end the cell with the "
                      "score expression or call tune.report(score)")
    if isinstance(value, bool):
        return None, f"the score is a bool ({value!r}), not a number"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None, f"the score {value!r} ({type(value).__name__}) is not a number"
    if not math.isfinite(v):
        return None, f"the score is {v} (not finite)"
    return v, None


def summary_text(study: Study, elapsed: float | None = None, n_new: int | None = None) -> str:
    """Counts per state, the best score and its parameters, and the time taken."""
    c = study.counts()
    head = (f"Study {study.name!r}: {c['complete']} complete, {c['pruned']} pruned, "
            f"{c['failed']} failed")
    if c["interrupted"]:
        head += f", {c['interrupted']} interrupted"
    if n_new is not None:
        head += f" ({n_new} new this run)"
    if elapsed is not None:
        head += f" in {format_duration(elapsed)}"
    try:
        best = study.best_trial
    except TuneError:
        return head + ".\nNo complete trial yet."
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
    return (f"{head}.\nBest {study.direction[:3]} score {best.value:.6g} (trial "
            f"{best.number}): {params}")


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else repr(v)


def format_duration(seconds: float) -> str:
    """``12.3 s``, ``4 min 05 s`` or ``2 h 03 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"
