"""The end of a ``%%tune`` run: the trial whose variables the notebook keeps, and the summary
shown below the cell."""

from __future__ import annotations

from typing import Any

from .._format import error_line, isolate
from ..exceptions import TuneError
from ..study._stopping import RunInfo, failing_text
from ..study._study import Study
from ..trial import TrialState
from ..visualization._summary import summary_bundle
from ._cell import CellObjective

__all__ = ["picked_trial"]


class _Text:
    """Plain text for a display slot."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _keep_best(objective: CellObjective, pick: str | None = None):
    def keep(study: Study, trial: Any) -> None:
        objective.forget(_best_number(study, pick))
    return keep


def _check_pick(study: str, objectives: list[str], pick: str | None) -> None:
    """Refuse ``--pick`` naming no objective of the study (``study``, its name)."""
    if pick is not None and pick not in objectives:
        raise TuneError(f"--pick {pick!r} is not an objective of study {study!r} "
                        f"({', '.join(objectives)}). Pick one of those.")


def _best_number(study: Study, pick: str | None = None) -> int | None:
    """The trial whose variables the notebook keeps: the best one, or with several
    objectives the front trial best in ``pick`` (default: the first objective)."""
    if study.is_multi_objective:
        picked = picked_trial(study, pick)
        return None if picked is None else picked.number
    try:
        return study.best_trial.number
    except TuneError:
        return None


def picked_trial(study: Study, pick: str | None) -> Any:
    """The front trial best in objective ``pick`` (the first objective when ``None``)."""
    front = study.best_trials
    if not front:
        return None
    k = study.objectives.index(pick) if pick in study.objectives else 0
    if k == 0:
        return front[0]  # study.best_trial: a tie in the first objective goes to the next ones
    return min(front, key=lambda t: (study.directions[k].to_loss(t.values[k]), t.number))


def _summary(study: Study, info: RunInfo, error: BaseException | None,
             pick: str | None = None, not_kept: str | None = None,
             expect_curves: bool = False) -> str:
    # New this run: the trials it finished, and those an interrupt cut short.
    cut = sum(t.state is TrialState.INTERRUPTED for t in _this_run(study, info))
    text = study.summary(info.elapsed, info.done + cut)
    if expect_curves and study.scheduler is not None:
        text += _no_curves_text(study, info)
    if study.is_multi_objective:
        picked = picked_trial(study, pick)
        if picked is not None:
            text += "\n" + _kept_text(picked.number, pick or study.objectives[0], not_kept)
    elif not_kept == NOT_KEPT_PARALLEL and (top := study.top_trials(1)) \
            and top[0].started >= info.started:
        # Without this line the notebook's `model` silently stays what it was before the run.
        # (A best trial of an earlier run in the foreground left its variables: no note.)
        text += (f"\nThe notebook's variables are not trial {top[0].number}'s: {not_kept} "
                 f"(study.best_params has its parameters; rerun them without --jobs/--dask "
                 "for its model).")
    if info.reused:
        text += (f"\n{info.reused} proposal(s) repeated a complete trial and reused its score "
                 "(--on-repeat run runs them).")
    if info.redrawn:
        text += (f"\n{info.redrawn} proposal(s) repeated a complete trial and were replaced by "
                 "new ones (--on-repeat skip).")
    if info.reason == "interrupted":
        text = "Interrupted: finished trials are kept.\n" + text
    elif info.reason == "timeout":
        text += f"\nStopped by the timeout ({info.timeout:g} s)."
    elif info.reason == "exhausted":
        if study.sampler.name == "grid":
            text += "\nThe grid is exhausted."
        elif info.space_size is not None:
            text += f"\nStopped: all {info.space_size} points of the search space were tried."
        else:
            text += "\nStopped: the sampler kept proposing parameters already tried."
    elif info.reason == "no improvement" and study.is_multi_objective:
        # There is no best score: what patience counts is trials that join no front.
        text += "\nStopped: no trial joined the Pareto front in the last --patience trials."
    elif info.reason == "no improvement":
        text += "\nStopped: the best score stopped improving (--patience)."
    elif info.reason == "converged":
        text += (f"\nStopped: what is left to gain (at most {info.regret_bound:.3g}) is below "
                 f"the noise of the score ({info.noise:.3g}).")
    elif info.reason == "stopped":
        text += "\nStopped on request."
    elif info.reason == "failing":
        text += "\n" + failing_text(study, info)
    if info.failed:
        failed = [study.trial(number) for number in info.failed]
        first = min(failed, key=lambda t: t.number)
        line = error_line(first.error)
        # The full text where there is more to read: a traceback, or a message cut short.
        more = ("traceback" if first.traceback
                else "error" if line != isolate(first.error) else None)
        text += (f"\n{len(failed)} trial(s) failed this run; first: trial {first.number}: "
                 f"{line.rstrip('.')}.")
        if more:
            text += f" Full text: study.trial({first.number}).{more}"
        if first.output:
            text += f" (output: study.trial({first.number}).output)"
    if error is not None:
        text += (f"\nThe run stopped on an error: "
                 f"{error_line(f'{type(error).__name__}: {error}')}")
    return text


def _this_run(study: Study, info: RunInfo) -> list[Any]:
    """The trials the run ``info`` started."""
    return [t for t in study.trials if t.started is not None and t.started >= info.started]


def _no_curves_text(study: Study, info: RunInfo) -> str:
    """A line for a run whose scheduler never had a curve to judge (the cell reads a
    function of the notebook that might have reported, so no note came before the run)."""
    ran = [t for t in _this_run(study, info)
           if "repeat_of" not in t.user_attrs]  # (a reused score: the trial never ran)
    if not any(t.state is TrialState.COMPLETE for t in ran) or any(t.intermediate for t in ran):
        return ""
    return (f"\nNote: --scheduler {study.scheduler.name} had nothing to act on: no trial of "
            "this run reported a learning curve (tune.report, tune.steps or a framework "
            "callback), so every trial ran to its end.")


#: Why the notebook lacks the variables of the trial a multi-objective run picked.
NOT_KEPT_BACKGROUND = "a --background run leaves the notebook's variables alone"
NOT_KEPT_PARALLEL = ("trials run in worker processes (--jobs, --dask) leave no variables in the "
                     "notebook")
NOT_KEPT_EARLIER = "it ran in an earlier run, so this run did not put its variables in the notebook"


def _kept_text(number: int, which: str, not_kept: str | None) -> str:
    """Whose variables the notebook holds after a multi-objective run: the picked trial's,
    or none, for the reason ``not_kept``."""
    which = isolate(which)
    if not_kept is None:
        return (f"The notebook keeps the variables of trial {number}, the front's best {which} "
                "(--pick NAME chooses another objective).")
    return (f"Trial {number} is the front's best {which}: {not_kept} "
            f"(study.trial({number}).params has its parameters).")


def _summary_bundle(study: Study, info: RunInfo, error: BaseException | None,
                    pick: str | None, dashboard: Any, not_kept: str | None,
                    expect_curves: bool = False) -> dict[str, str]:
    """The end-of-run summary (HTML and text), with the table of the top trials unless the
    dashboard showed its final view. ``not_kept``: why the notebook lacks the picked trial's
    variables (``None`` when it holds them); ``expect_curves``: the cell may report, so a
    run whose trials reported nothing gets a note."""
    # The JupyterLab view lists the best trials itself, and that display's fallback for other
    # front ends carries the same table (Dashboard(table=True)): a second one here would repeat it.
    shown = dashboard is not None and dashboard.updates > 0
    return summary_bundle(study, text=_summary(study, info, error, pick, not_kept,
                                               expect_curves),
                          k=0 if shown else 5)
