"""The plain-text summary of a study, and the judge of a score (from the executors,
where the objective runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._format import format_duration, format_number, format_params, format_value
from ..executors._objective import check_score

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["check_score", "summary_text", "summary_table", "MAX_PARAM_COLUMNS"]

#: Parameters shown in the table of top trials; more would not fit a notebook's width.
MAX_PARAM_COLUMNS = 8


def summary_text(study: Study, elapsed: float | None = None, n_new: int | None = None,
                 k: int = 5, *, text: str | None = None) -> str:
    """The study in plain text: counts per state, the best score and its parameters and the
    time taken (or ``text`` instead of that paragraph), then a table of the top ``k`` trials.

    :meth:`Study.summary` is the paragraph alone (``k=0``); the notebook's HTML summary shows
    the same paragraph and :func:`summary_table`.
    """
    text = _paragraph(study, elapsed, n_new) if text is None else text
    header, rows = summary_table(study, k)
    if not rows:
        return text
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    title = (f"Pareto front ({len(rows)} trials)" if study.is_multi_objective
             else f"Top {len(rows)} trials")
    return f"{text}\n\n{title}:\n" + "\n".join(lines)


def summary_table(study: Study, k: int) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the top ``k`` trials: number, score, parameters (the first
    :data:`MAX_PARAM_COLUMNS` met), duration. With several objectives: the first ``k``
    trials of the Pareto front, one column per objective."""
    multi = study.is_multi_objective
    trials = study.best_trials[:k] if multi else study.top_trials(k)
    names: list[str] = []
    for t in trials:
        names += [n for n in t.params if n not in names]
    names = names[:MAX_PARAM_COLUMNS]
    rows = []
    for t in trials:
        number = f"{t.number} (manual)" if t.manual else str(t.number)
        params = [format_value(t.params[n], quote=False) if n in t.params else "" for n in names]
        duration = "" if t.duration is None else format_duration(t.duration)
        scores = [format_number(v, 4) for v in t.values] if multi \
            else [format_number(t.value, 4)]
        rows.append([number, *scores, *params, duration])
    heads = [f"{n} ({d.value[:3]})" for n, d in zip(study.objectives, study.directions)] \
        if multi else ["score"]
    return ["trial", *heads, *names, "time"], rows


def _paragraph(study: Study, elapsed: float | None, n_new: int | None) -> str:
    c = study.counts()
    head = (f"Study {study.name!r}: {c['complete']} complete, {c['pruned']} pruned, "
            f"{c['failed']} failed")
    if c["interrupted"]:
        head += f", {c['interrupted']} interrupted"
    if n_new is not None:
        head += f" ({n_new} new this run)"
    if elapsed is not None:
        head += f" in {format_duration(elapsed)}"
    if study.is_multi_objective:
        front = study.best_trials
        if not front:
            return head + ".\nNo complete feasible trial yet."
        objectives = ", ".join(f"{n} ({d.value[:3]})"
                               for n, d in zip(study.objectives, study.directions))
        return (f"{head}.\nPareto front of {objectives}: {len(front)} trial(s), hypervolume "
                f"{format_number(study.hypervolume())}.")
    top = study.top_trials(1)
    if not top:
        return head + ".\nNo complete trial yet."
    best = top[0]
    return (f"{head}.\nBest {study.direction[:3]} score {format_number(best.value)} (trial "
            f"{best.number}): {format_params(best.params)}")
