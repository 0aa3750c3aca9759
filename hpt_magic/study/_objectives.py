"""A study's objectives: which ones a run asks for against the stored ones, how a told result
becomes a trial's values, and the study's Pareto front and hypervolume."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import TuneError
from ..executors._objective import Failure
from ..executors._scores import Constraint, Objectives, Scores, default_names
from ..schedulers._pareto_rank import MULTI_OBJECTIVE_SCHEDULERS
from ..trial import CURVE_DIRECTION, Direction, Trial, TrialState
from ._pareto import default_reference, hypervolume, losses_of, pareto_front

if TYPE_CHECKING:
    from ._study import Study

__all__ = ["requested_objectives", "reconcile", "preview_objectives", "opened_objectives",
           "settle", "study_front", "study_hypervolume", "check_scheduler",
           "check_reference"]


def requested_objectives(direction: str | Direction | None,
                         directions: Sequence[str | Direction] | None,
                         objectives: Sequence[str] | None,
                         constraints: Sequence[str | Constraint] | None) -> Objectives | None:
    """The objectives a ``Study(...)`` call asks for, or ``None`` when it names none (then a
    stored study keeps its own, and a new one minimises one unnamed score)."""
    if direction is None and directions is None and objectives is None and constraints is None:
        return None
    for key, value in (("directions", directions), ("objectives", objectives),
                       ("constraints", constraints)):
        if isinstance(value, str):
            # A string is a sequence too: 'ab' would make the objectives 'a' and 'b'.
            raise TuneError(f"{key}={value!r} is one string, and {key} takes a list of them: "
                            f"give {key}=[{value!r}].")
    if directions is None:
        directions = [direction or "minimize"] * (len(objectives) if objectives else 1)
    elif direction is not None and Direction(direction) is not Direction(directions[0]):
        raise TuneError(f"direction={direction!r} contradicts directions={list(directions)!r}. "
                        "Give directions alone (one per objective).")
    names = list(objectives) if objectives is not None else default_names(len(directions))
    return Objectives(names, directions, constraints or ())


def _describe(spec: Objectives) -> str:
    if not spec.multi:
        named = f" {spec.names[0]!r}" if spec.named else ""
        return f"to {spec.directions[0].value}{named}"
    return "with the objectives " + ", ".join(
        f"{n} ({d.value})" for n, d in zip(spec.names, spec.directions))


def reconcile(name: str, stored: Objectives, asked: Objectives | None,
              asked_constraints: bool) -> Objectives:
    """The objectives of a continued study: the stored ones, named if they were not, or a
    :class:`TuneError` when the run asks for others."""
    if asked is None:
        return stored
    fix = "Use the same ones, or start afresh with --new (Study(..., new=True))."
    if stored.multi != asked.multi:
        kind = "multi-objective" if stored.multi else "single-objective"
        raise TuneError(
            f"Study {name!r} is {kind} ({_describe(stored)}), and this run asks for "
            f"{len(asked.names)} objective(s) ({_describe(asked)}). Start afresh with --new "
            "(Study(..., new=True)), or give another --study name.")
    if stored.directions != asked.directions:
        if not stored.multi:
            raise TuneError(f"Study {name!r} was created to {stored.directions[0].value}, not "
                            f"to {asked.directions[0].value}. Use the same direction, or start "
                            "afresh with --new (Study(..., new=True)).")
        raise TuneError(f"Study {name!r} was created {_describe(stored)}, not "
                        f"{_describe(asked)}. {fix}")
    names = stored.names
    if stored.names != asked.names:
        if stored.named and asked.named:
            raise TuneError(f"Study {name!r} was created {_describe(stored)}, not "
                            f"{_describe(asked)}. {fix}")
        names = asked.names if asked.named else stored.names
    constraints = stored.constraints
    if asked_constraints and asked.constraints != stored.constraints:
        rounded = (" (a bound an earlier version stored rounded to 6 digits: ask for it as "
                   "stored to continue the study)"
                   if _rounded_alike(stored.constraints, asked.constraints) else "")
        raise TuneError(
            f"Study {name!r} was created with the constraints "
            f"{[str(c) for c in stored.constraints]}{rounded}, not "
            f"{[str(c) for c in asked.constraints]}. {fix}")
    return Objectives(names, stored.directions, constraints)


def _rounded_alike(stored: Sequence[Any], asked: Sequence[Any]) -> bool:
    """Whether the ``stored`` constraints are the ``asked`` ones with bounds rounded to 6
    digits, as studies written before 2026-12 stored them (``1.23457e+06``)."""
    return len(stored) == len(asked) and all(
        s.name == a.name and s.op == a.op and s.bound == float(f"{a.bound:g}")
        for s, a in zip(stored, asked))


def preview_objectives(name: str, stored: Mapping[str, Any] | None, *,
                       direction: str | Direction | None = None,
                       directions: Sequence[str | Direction] | None = None,
                       objectives: Sequence[str] | None = None,
                       constraints: Sequence[str | Constraint] | None = None) -> Objectives:
    """The objectives that ``Study(name=name, direction=..., ...)`` will have once open, found
    before it is opened: front ends check their options against them, so that a refused one
    leaves no study behind.

    Parameters
    ----------
    name : str
        The study's name.
    stored : dict or None
        Its record in the storage (``storage.get_study(name)``); ``None`` for a new study
        (one that does not exist yet, or that ``new=True`` starts afresh).
    direction, directions, objectives, constraints
        As ``Study`` takes them.

    Returns
    -------
    Objectives
        Raises the :class:`TuneError` that opening the study would raise (objectives that
        contradict the stored ones).

    Examples
    --------
    >>> preview_objectives("s", None, directions=["max", "min"]).names
    ['value_0', 'value_1']
    """
    asked = requested_objectives(direction, directions, objectives, constraints)
    return opened_objectives(name, None if stored is None else Objectives.from_json(
        stored["attrs"], stored["direction"]), asked, constraints is not None)


def opened_objectives(name: str, stored: Objectives | None, asked: Objectives | None,
                      asked_constraints: bool) -> Objectives:
    """A study's objectives once open: for a new one (``stored`` is ``None``) those asked
    for, or one minimised ``value``; else the stored ones, as :func:`reconcile` settles them
    with those asked for."""
    if stored is None:
        return asked or Objectives(["value"], ["minimize"])
    return reconcile(name, stored, asked, asked_constraints)


def check_scheduler(study: Study) -> None:
    """Refuse a sampler or a scheduler that cannot rank several objectives, before any
    trial runs."""
    if study.is_multi_objective and not getattr(study.sampler, "multi_objective", True):
        raise TuneError(
            f"The sampler {study.sampler.name!r} optimises one score, and study "
            f"{study.name!r} has {len(study.objectives)} objectives "
            f"({', '.join(study.objectives)}). Use --sampler tpe, gp or nsga2 (sampler='tpe' "
            "in Python; they search for the Pareto front), or random.")
    name = getattr(study.scheduler, "name", None)
    if study.is_multi_objective and name is not None \
            and name not in MULTI_OBJECTIVE_SCHEDULERS:
        raise TuneError(
            f"The scheduler {name!r} compares one score, and study {study.name!r} has "
            f"{len(study.objectives)} objectives. Use --scheduler asha, hyperband or median "
            "(they rank the curves by non-dominated sorting), or no scheduler.")


def settle(spec: Objectives, trial: Trial, value: Any,
           state: TrialState) -> tuple[TrialState, Any, Scores | None, Failure | None]:
    """``(state, value, scores, reason)`` of a trial told ``value`` in ``state``.

    A complete trial without a value is scored by its last reports (every metric reported as
    a dict, or the last point of its curve); a result the objectives refuse makes it failed,
    with the reason.
    """
    reported = False
    mismatch = trial.user_attrs.pop(CURVE_DIRECTION, None)
    if value is None and state in (TrialState.COMPLETE, TrialState.PRUNED):
        if state is TrialState.COMPLETE and trial.intermediate_metrics:
            value = {n: c[max(c)] for n, c in trial.intermediate_metrics.items() if c}
        elif trial.intermediate:
            value = trial.intermediate[max(trial.intermediate)]
            reported = True
    if reported and mismatch is not None and state is TrialState.COMPLETE:
        return TrialState.FAILED, None, None, Failure(mismatch, "curve ranked the other way")
    if state is TrialState.COMPLETE:
        scores, reason = spec.judge(value)
        if reason is not None:
            if reported and (spec.multi or spec.constraints):
                reason = _one_number_reported(spec, value)
            return TrialState.FAILED, None, None, reason
        return state, scores.value, scores, None  # type: ignore[union-attr]
    if isinstance(value, Scores):
        value = value.value
    elif isinstance(value, Mapping):
        value = value.get(spec.names[0])
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        value = None
    return state, value, None, None


def _one_number_reported(spec: Objectives, value: Any) -> Failure:
    """Why a trial scored by reports of one number fails a study that needs several."""
    keys = list(spec.names) + [c.name for c in spec.constraints if c.name not in spec.names]
    needs = (f"{len(spec.names)} objectives" if spec.multi
             else f"the constraint(s) {', '.join(str(c) for c in spec.constraints)}")
    wanted = ", ".join(f"{k!r}: ..." for k in keys)
    return Failure(f"the trial reported one number ({value!r}) per step and returned nothing, "
                   f"but the study has {needs}: report a dict, tune.report({{{wanted}}}, "
                   "step=...) (trial.report in Python), or end the cell with that dict",
                   "one number reported per step")


def study_front(study: Study) -> list[Trial]:
    """The Pareto front of the study's feasible complete trials (see :func:`pareto_front`)."""
    return pareto_front(study.trials, study.directions)


def study_hypervolume(study: Study, reference: Sequence[float] | None = None) -> float:
    """The hypervolume of the study's front, in objective units (see Study.hypervolume)."""
    if reference is not None:
        reference = check_reference(reference, study.objectives)
    front = study_front(study)
    if not front:
        return 0.0
    if reference is None:
        done = [t for t in study.trials if t.state is TrialState.COMPLETE
                and t.feasible is not False and t.values is not None]
        reference = default_reference(np.array([t.values for t in done], dtype=float),
                                      study.directions)
    signs = np.array([d.sign for d in study.directions], dtype=float)
    return hypervolume(losses_of(front, study.directions), np.asarray(reference) * signs)


def check_reference(reference: Any, objectives: Sequence[str]) -> np.ndarray:
    """``reference`` as a hypervolume's reference point for ``objectives`` (one finite number
    each), or a :class:`TuneError` saying what is wrong with it.

    Examples
    --------
    >>> check_reference([0.5, 10], ["accuracy", "latency_ms"]).tolist()
    [0.5, 10.0]
    """
    try:
        point = np.asarray(reference, dtype=float)
    except (TypeError, ValueError):
        point = None
    if point is None or point.shape != (len(objectives),) or not np.isfinite(point).all():
        raise TuneError(
            f"The hypervolume's reference point {reference!r} needs one finite number per "
            f"objective ({', '.join(objectives)}), in that order and in their units: the "
            "worst value of each that still counts.")
    return point
