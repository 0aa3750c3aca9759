"""The study as a JSON document (MIME ``application/vnd.hpt-magic.study+json``, version 1).

The JupyterLab extension renders it; the schema is documented in the README. Non-finite
numbers become ``null`` (Jupyter's JSON encoder refuses NaN), parameter values are JSON
scalars and every string is passed through unchanged, for the renderer to show as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..distributions import Choice, Distribution
from ..trial import Direction

__all__ = ["MIME", "SCHEMA_VERSION", "document", "trial_json", "param_json", "json_scalar"]

MIME = "application/vnd.hpt-magic.study+json"
SCHEMA_VERSION = 1
STATES = ("complete", "pruned", "failed", "running", "interrupted", "waiting")


def json_scalar(v: Any) -> Any:
    """``v`` as a JSON scalar: non-finite floats become ``None``, other objects their ``str``.

    Examples
    --------
    >>> json_scalar(float("nan")), json_scalar(3), json_scalar("a"), json_scalar(True)
    (None, 3, 'a', True)
    """
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
        return int(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
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
    return {
        "number": int(trial.number), "state": trial.state.value,
        "value": json_scalar(trial.value),
        "params": {str(k): json_scalar(v) for k, v in trial.params.items()},
        "curve": [[int(s), json_scalar(v)] for s, v in sorted(trial.intermediate.items())],
        "manual": bool(trial.manual),
        "error": None if trial.error is None else str(trial.error),
        "parent": parent if isinstance(parent, int) and not isinstance(parent, bool) else None,
    }


def _name(obj: Any) -> str | None:
    return None if obj is None else str(getattr(obj, "name", type(obj).__name__))


def document(view: Any, progress: Mapping[str, Any] | None = None,
             cache: dict[int, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The whole document for ``view`` (a study, or the dashboard's model of one: anything
    with ``name``, ``direction``, ``trials``, ``top_trials(k)`` and ``search_space()``).

    Parameters
    ----------
    progress : mapping, optional
        ``status``, ``done``, ``planned``, ``timeout``, ``elapsed``, ``eta`` of a run. Without
        it the study is described as finished, with the span of its trials as ``elapsed``.
    cache : dict, optional
        Kept by the caller between calls: finished trials are converted once.
    """
    trials = list(view.trials)
    counts = dict.fromkeys(STATES, 0)
    top = view.top_trials(1)
    best = top[0] if top else None
    out = []
    for t in trials:
        state = t.state.value
        counts[state] = counts.get(state, 0) + 1
        if cache is not None and t.number in cache:
            out.append(cache[t.number])
            continue
        entry = trial_json(t)
        if cache is not None and t.state.finished:
            cache[t.number] = entry
        out.append(entry)
    if progress is None:
        progress = _static_progress(trials)
    return {
        "version": SCHEMA_VERSION,
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
            "counts": counts,
            "best": None if best is None else {"number": best.number,
                                               "value": json_scalar(best.value)},
        },
        "params": [param_json(n, d) for n, d in view.search_space().items()],
        "trials": out,
    }


def _static_progress(trials: list[Any]) -> dict[str, Any]:
    finished = [t for t in trials if t.state.finished]
    ends = [t.finished for t in finished if t.finished is not None]
    starts = [t.started for t in trials if t.started is not None]
    elapsed = (max(ends) - min(starts)) if ends and starts else 0.0
    running = any(t.state.value == "running" for t in trials)
    return {"status": "running" if running else "finished", "done": len(finished),
            "planned": None, "timeout": None, "elapsed": max(0.0, elapsed), "eta": None}
