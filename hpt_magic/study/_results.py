"""A study's results: the best trials, the Pareto front, counts, exports and plots that
``Study`` inherits from :class:`ResultsMixin`, the plain-text summary, and the judge of a
score (from the executors, where the objective runs)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._format import (
    format_duration,
    format_number,
    format_params,
    format_value,
    isolate,
    text_width,
)
from ..exceptions import TuneError
from ..executors._objective import check_score
from ..trial import Trial, TrialState, top_trials
from ._objectives import study_front, study_hypervolume

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["ResultsMixin", "check_score", "summary_text", "summary_table", "table_title",
           "MAX_PARAM_COLUMNS"]

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
    widths = [max(text_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c + " " * (w - text_width(c)) for c, w in zip(r, widths)).rstrip()
             for r in [header, *rows]]
    return f"{text}\n\n{table_title(study, len(rows))}:\n" + "\n".join(lines)


def table_title(study: Study, shown: int) -> str:
    """The title of :func:`summary_table`'s ``shown`` rows: the top trials, or the Pareto
    front with its whole size when the table shows only part of it."""
    if not study.is_multi_objective:
        return f"Top {shown} trial{'s' if shown != 1 else ''}"
    size = len(study.best_trials)
    return (f"Pareto front ({size} trials)" if size == shown
            else f"Pareto front ({size} trials, the first {shown} shown)")


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
        params = [isolate(format_value(t.params[n], quote=False)) if n in t.params else ""
                  for n in names]
        duration = "" if t.duration is None else format_duration(t.duration)
        scores = [format_number(v, 4) for v in t.values] if multi \
            else [format_number(t.value, 4)]
        rows.append([number, *scores, *params, duration])
    heads = [f"{isolate(n)} ({d.value[:3]})" for n, d in zip(study.objectives, study.directions)] \
        if multi else ["score"]
    return ["trial", *heads, *map(isolate, names), "time"], rows


def _infeasible(study: Study) -> int:
    """How many complete trials break the study's constraints."""
    return sum(t.state is TrialState.COMPLETE and t.feasible is False for t in study.trials)


def _no_best(study: Study) -> str:
    """The summary's line for a study with no best trial (nor front): none complete, or every
    complete one breaks the constraints."""
    if _infeasible(study):
        return (f"\nNo complete trial meets the constraints "
                f"({', '.join(map(isolate, study.constraints))}) yet.")
    return "\nNo complete trial yet."


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
            return head + "." + _no_best(study)
        objectives = ", ".join(f"{isolate(n)} ({d.value[:3]})"
                               for n, d in zip(study.objectives, study.directions))
        return (f"{head}.\nPareto front of {objectives}: {len(front)} trial(s), hypervolume "
                f"{format_number(study.hypervolume())}.")
    top = study.top_trials(1)
    if not top:
        return head + "." + _no_best(study)
    best = top[0]
    return (f"{head}.\nBest {study.direction[:3]} score {format_number(best.value)} (trial "
            f"{best.number}): {format_params(best.params)}")


class ResultsMixin:
    """What a study found: best trials, the Pareto front, counts, the summary, exports and the
    dashboard figure; mixed into ``Study``, whose trials and objectives they read."""

    def top_trials(self, k: int | None = None) -> list[Trial]:
        """The ``k`` best complete trials (all when ``None``), best first, ties by number.

        Examples
        --------
        >>> from hpt_magic import Study
        >>> study = Study(direction="max")
        >>> for score in [0.2, 0.9, 0.5, 0.9]:
        ...     _ = study.tell(study.ask(), score)
        >>> [(t.number, t.value) for t in study.top_trials(3)]
        [(1, 0.9), (3, 0.9), (2, 0.5)]
        """
        return top_trials(self._trials, self.direction, k)

    @property
    def best_trials(self) -> list[Trial]:
        """The Pareto front: the feasible complete trials that no other one beats in every
        objective, best first in the first objective. With one objective: the trials with
        the best score.

        Examples
        --------
        >>> from hpt_magic import Study
        >>> study = Study(directions=["max", "min"], objectives=["acc", "ms"])
        >>> for acc, ms in [(0.9, 5), (0.8, 1), (0.7, 3)]:
        ...     _ = study.tell(study.ask(), {"acc": acc, "ms": ms})
        >>> [t.number for t in study.best_trials], round(study.hypervolume(), 3)
        ([0, 1], 0.568)
        """
        return study_front(self)

    def hypervolume(self, reference: Sequence[float] | None = None) -> float:
        """The volume of objective space the front dominates, bounded by ``reference``.

        ``reference`` is in the objectives' own units, one value per objective. The default
        is the nadir of the feasible complete trials (the worst value of each objective)
        moved 10 % of that objective's range further towards worse, so every front trial
        counts; pass a fixed reference to compare studies or runs. Exact unless a large
        front in many objectives would make that slow (more than 37 front trials in 5
        objectives, 7 in 8): then a Monte Carlo estimate from a fixed seed, within 0.28 % of
        its box's volume (one standard error); see :func:`hpt_magic._pareto.hypervolume`.
        """
        return study_hypervolume(self, reference)

    @property
    def best_trial(self) -> Trial:
        """The complete trial with the best score (the first of equal ones). With several
        objectives: the front trial best in the first objective (:attr:`best_trials` is the
        whole front), never one that another trial dominates."""
        top = self.best_trials[:1] if self.is_multi_objective else self.top_trials(1)
        if not top:
            broken = _infeasible(self)
            if broken:
                raise TuneError(
                    f"Study {self.name!r} has {broken} complete trial(s), and each breaks the "
                    f"constraints ({', '.join(self.constraints)}), so none is best. Run more "
                    "trials (the samplers steer towards where the constraints hold), or start "
                    "afresh with --new (Study(..., new=True)) and looser constraints.")
            raise TuneError(f"Study {self.name!r} has no complete trial yet, so no best one. "
                            "Run some trials first.")
        return top[0]

    @property
    def best_value(self) -> float:
        return self.best_trial.value  # type: ignore[return-value]

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params)

    def counts(self) -> dict[str, int]:
        """Number of trials per state."""
        out = {s.value: 0 for s in TrialState}
        for t in self._trials:
            out[t.state.value] += 1
        return out

    def summary(self, elapsed: float | None = None, n_new: int | None = None) -> str:
        """A short plain-text summary: counts, best score and parameters, time."""
        return summary_text(self, elapsed, n_new, k=0)

    def plot(self, **kwargs: Any) -> Any:
        """The dashboard of this study as a matplotlib Figure (see :func:`hpt_magic.plot`)."""
        # Imported here so that the engine never needs matplotlib unless asked to draw.
        from ..visualization._figures import plot

        return plot(self, **kwargs)

    def to_dataframe(self) -> Any:
        """The trials as a pandas DataFrame: ``number, state, value``, times,
        ``params_<name>``, ``last_step``, ``error``; one row per trial."""
        from ._export import to_dataframe

        return to_dataframe(self)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write the trials to a CSV file (the columns of :meth:`to_dataframe`). Text that a
        spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
        a carriage return) gets a leading ``'``; numbers are written as they are."""
        from ._export import to_csv

        to_csv(self, path)

    def importances(self, **kwargs: Any) -> dict[str, float]:
        """How much each parameter drove the score (main effects of a random-forest
        surrogate), summing to 1, largest first. Needs at least 4 complete trials."""
        from ._export import importances

        return importances(self, **kwargs)
