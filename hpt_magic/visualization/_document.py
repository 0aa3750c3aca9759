"""The study as a JSON document (MIME ``application/vnd.hpt-magic.study+json``, version 1).

The JupyterLab extension renders it; the schema is documented in the README. Non-finite
numbers become ``null`` (Jupyter's JSON encoder refuses NaN), parameter values are JSON
scalars and every string but an error (one line, bounded) is passed through unchanged, for the
renderer to show as text.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from .._format import error_line, option_text
from ..distributions import Choice, Distribution
from ..study._pareto import pareto_front
from ..trial import Direction

__all__ = ["MIME", "SCHEMA_VERSION", "document", "trial_json", "param_json", "json_scalar",
           "sample_numbers", "thin"]

MIME = "application/vnd.hpt-magic.study+json"
SCHEMA_VERSION = 1
STATES = ("complete", "pruned", "failed", "running", "interrupted", "waiting")
#: Longest worker name sent (a Dask address is far shorter): the document stays bounded.
MAX_WORKER_NAME = 120


def json_scalar(v: Any) -> Any:
    """``v`` as a JSON scalar: non-finite floats become ``None``, other objects their text
    (:func:`~hpt_magic._format.option_text`: a class by its name).

    Examples
    --------
    >>> json_scalar(float("nan")), json_scalar(3), json_scalar("a"), json_scalar(True)
    (None, 3, 'a', True)
    """
    if v is None or isinstance(v, (bool, str)):
        return v
    if getattr(v, "ndim", 0) != 0:  # an array option: its text, not a number
        return option_text(v)
    if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return option_text(v)
    return f if math.isfinite(f) else None


def param_json(name: str, dist: Distribution) -> dict[str, Any]:
    """One entry of ``params``: ``float``/``int`` with bounds and scale, or ``choice``."""
    if isinstance(dist, Choice):
        return {"name": name, "type": "choice", "options": [json_scalar(o) for o in dist.options]}
    kind = dist.to_json().get("type", "float")
    return {"name": name, "type": "int" if kind == "int" else "float",
            "low": json_scalar(dist.low), "high": json_scalar(dist.high), "log": bool(dist.log)}


def trial_json(trial: Any) -> dict[str, Any]:
    """One entry of ``trials``."""
    parent = trial.user_attrs.get("parent")
    worker = trial.user_attrs.get("worker")
    worker_name = trial.user_attrs.get("worker_name")
    return {
        "number": int(trial.number), "state": trial.state.value,
        "value": json_scalar(trial.value),
        "params": {str(k): json_scalar(v) for k, v in trial.params.items()},
        "curve": [[int(s), json_scalar(v)] for s, v in sorted(trial.intermediate.items())],
        "manual": bool(trial.manual),
        # One line, bounded: the document of every live update carries every failed trial.
        "error": None if trial.error is None else error_line(trial.error),
        "parent": parent if isinstance(parent, int) and not isinstance(parent, bool) else None,
        # Several objectives and constraints (a view that predates them has none).
        "values": None if getattr(trial, "values", None) is None
        else [json_scalar(v) for v in trial.values],
        "metrics": {str(k): json_scalar(v) for k, v in getattr(trial, "metrics", {}).items()},
        "feasible": getattr(trial, "feasible", None),
        # The timeline: when the trial ran (unix seconds) and on which worker, if recorded.
        "started": json_scalar(getattr(trial, "started", None)),
        "finished": json_scalar(getattr(trial, "finished", None)),
        "worker": worker if isinstance(worker, int) and not isinstance(worker, bool) else None,
        "worker_name": worker_name[:MAX_WORKER_NAME] if isinstance(worker_name, str) else None,
    }


def _name(obj: Any) -> str | None:
    return None if obj is None else str(getattr(obj, "name", type(obj).__name__))


def document(view: Any, progress: Mapping[str, Any] | None = None,
             cache: dict[int, dict[str, Any]] | None = None, *,
             max_trials: int | None = None,
             max_curve_points: int | None = None) -> dict[str, Any]:
    """The whole document for ``view`` (a study, or the dashboard's model of one: anything
    with ``name``, ``direction``, ``trials``, ``top_trials(k)`` and ``search_space()``).

    Parameters
    ----------
    progress : mapping, optional
        ``status``, ``done``, ``planned``, ``timeout``, ``elapsed``, ``eta`` of a run. Without
        it the study is described as finished, with the span of its trials as ``elapsed``.
    cache : dict, optional
        Kept by the caller between calls: finished trials are converted once.
    max_trials, max_curve_points : int, optional
        Bound the document's size (a live update of a large study): at most ``max_trials``
        trials (see :func:`sample_numbers`) with at most ``max_curve_points`` points per
        learning curve (first, last and evenly spread ones). ``progress.sampled`` then says
        how many trials were left out; counts, best and ``done`` still describe them all.
    """
    trials = list(view.trials)
    counts = dict.fromkeys(STATES, 0)
    for t in trials:
        state = t.state.value
        counts[state] = counts.get(state, 0) + 1
    # With several objectives the view draws the front from the document's trials: a sample
    # keeps all of it, and the best is its trial best in the first objective.
    front = (pareto_front(trials, view.directions)
             if getattr(view, "is_multi_objective", False) else [])
    top = front[:1] or view.top_trials(1)
    best = top[0] if top else None
    n_all = len(trials)
    if max_trials is not None and len(trials) > max_trials:
        keep = sample_numbers(trials, view.top_trials(max_trials // 10) + front, max_trials)
        trials = [t for t in trials if t.number in keep]
    out = []
    for t in trials:
        entry = cache.get(t.number) if cache is not None else None
        if entry is None:
            entry = trial_json(t)
            if cache is not None and t.state.finished:
                cache[t.number] = entry
        if max_curve_points is not None and len(entry["curve"]) > max_curve_points:
            entry = {**entry, "curve": thin(entry["curve"], max_curve_points)}
        out.append(entry)
    if progress is None:
        progress = _static_progress(trials)
    return {
        "version": SCHEMA_VERSION,
        # The kernel's clock (unix seconds): where the timeline's running trials end.
        "now": time.time(),
        "study": {"name": str(view.name), "direction": Direction(view.direction).value,
                  "sampler": _name(getattr(view, "sampler", None)),
                  "scheduler": _name(getattr(view, "scheduler", None))},
        "progress": {
            "status": progress.get("status", "finished"),
            "done": int(progress.get("done", 0)),
            "planned": progress.get("planned"),
            "timeout": json_scalar(progress.get("timeout")),
            "elapsed": json_scalar(progress.get("elapsed", 0.0)),
            "eta": json_scalar(progress.get("eta")),
            # Why the run ended ("no improvement", "exhausted", ...), and with "exhausted"
            # the number of points of the search space when it was counted.
            "reason": progress.get("reason"),
            "space_size": progress.get("space_size"),
            "counts": counts,
            "sampled": n_all - len(out),
            "best": None if best is None else {"number": best.number,
                                               "value": json_scalar(best.value)},
        },
        "params": [param_json(n, d) for n, d in view.search_space().items()],
        "objectives": [{"name": str(n), "direction": Direction(d).value} for n, d in zip(
            getattr(view, "objectives", None) or ["value"],
            getattr(view, "directions", None) or [view.direction])],
        "constraints": [str(c) for c in getattr(view, "constraints", None) or []],
        "trials": out,
    }


def sample_numbers(trials: list[Any], best: list[Any], n: int) -> set[int]:
    """The numbers of ``n`` of ``trials`` to show: every unfinished one and the ``best`` ones,
    the newest ``n // 5``, then an even spread of the others (more than ``n`` only when the
    unfinished and best ones alone are more).

    Examples
    --------
    >>> from types import SimpleNamespace as T
    >>> done = T(finished=True)
    >>> trials = [T(number=i, state=done) for i in range(100)]
    >>> keep = sample_numbers(trials, [trials[3]], 30)
    >>> len(keep), 3 in keep, 99 in keep
    (30, True, True)
    """
    keep = {t.number for t in trials if not t.state.finished}
    keep.update(t.number for t in best)
    by_number = sorted(t.number for t in trials)
    keep.update(by_number[-max(1, n // 5):])
    rest = [k for k in by_number if k not in keep]
    room = n - len(keep)
    if room > 0 and rest:
        step = len(rest) / room
        keep.update(rest[int(i * step)] for i in range(min(room, len(rest))))
    return keep


def thin(curve: list[list[Any]], n: int) -> list[list[Any]]:
    """At most ``n`` points of ``curve``: the first, the last and evenly spread ones.

    >>> thin([[s, s] for s in range(10)], 4)
    [[0, 0], [3, 3], [6, 6], [9, 9]]
    """
    if len(curve) <= n:
        return curve
    last = len(curve) - 1
    return [curve[round(i * last / (n - 1))] for i in range(n)]


def _static_progress(trials: list[Any]) -> dict[str, Any]:
    finished = [t for t in trials if t.state.finished]
    ends = [t.finished for t in finished if t.finished is not None]
    starts = [t.started for t in trials if t.started is not None]
    elapsed = (max(ends) - min(starts)) if ends and starts else 0.0
    running = any(t.state.value == "running" for t in trials)
    return {"status": "running" if running else "finished", "done": len(finished),
            "planned": None, "timeout": None, "elapsed": max(0.0, elapsed), "eta": None}
