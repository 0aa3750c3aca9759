"""Asking for trials and telling their outcomes: the study's side of every trial.

``ask`` starts a trial (an enqueued point first, then the scheduler's and the sampler's
values), ``tell`` finishes it; a trial running elsewhere calls back through ``sample_param``
and ``record_report``. ``Study`` inherits these methods from :class:`AskTellMixin`.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from collections.abc import Mapping
from typing import Any

from .._signals import hold_interrupts
from ..distributions import Choice, Distribution
from ..exceptions import SpaceError, TuneError
from ..schedulers import CONTINUE
from ..trial import UNSET, Trial, TrialState
from ._events import Event
from ._objectives import settle
from ._space_edit import prior_of, same_objects
from ._storage import space_to_json
from ._storage_base import dumps_json, stored_params

__all__ = ["AskTellMixin"]


class AskTellMixin:
    """``ask``, ``tell``, the host side of ``Trial.suggest``/``Trial.report`` and the queue of
    points to try first; mixed into ``Study``, whose lock, space, queue and storage they use."""

    def ask(self, params: Mapping[str, Any] | None = None, *, manual: bool = False,
            owner: Any = None) -> Trial:
        """Start a new trial and return it, with ``trial.params`` filled for a fixed space.

        Parameters
        ----------
        params : dict, optional
            Values to use instead of sampling (the rest is sampled).
        manual : bool
            Mark the trial as set by hand (widgets).
        """
        with self._lock:
            trial = Trial(-1, manual=manual)
            #: The run that asked for the trial: the one to finish it if the run is cut short.
            trial._owner = owner
            queued = None
            try:
                # Taken, stored and known together: an interrupt in between would lose the
                # queued point, or leave a running row that no clean-up of this kernel sees.
                with hold_interrupts():
                    # Read at every ask: what other kernels queued or edited (decoded only
                    # when it changed).
                    self._read_attrs()
                    if params is None:
                        queued = self._take_queued()
                    if self.space_version:
                        trial.user_attrs["space_version"] = self.space_version
                    if queued is not None:
                        trial.queued = dict(queued)
                        trial.user_attrs["enqueued"] = True
                    trial.trial_id, trial.number = self.storage.new_trial(self._id, trial)
                    self._trials.append(trial)
            except BaseException:
                self._requeue(queued)
                raise
            fixed = {**(queued or {}), **(params or {})}
            try:
                self._prepare(trial, fixed)
            except BaseException as exc:
                # Nothing may stay `running`: an interrupt while the sampler works, a sampler
                # or scheduler error. A queued point (checked against the space when it was
                # taken) is tried again.
                self._abandon(trial, exc)
                self._requeue(queued)
                raise
        if self.events.listened:
            self.events.emit(Event("trial_started", self, trial))
        return trial

    def _prepare(self, trial: Trial, fixed: dict[str, Any]) -> None:
        """Decide what can be decided at ask time: scheduler values, the joint proposal and,
        for a fixed space, every parameter."""
        trial._host = self
        trial.scoring = self.scoring
        trial.judged = self.scheduler is not None
        if self.scheduler is not None:
            fixed.update(self.scheduler.on_trial_start(self, trial) or {})
        trial.fixed = fixed
        if self.space is not None:
            unknown = [k for k in fixed if k not in self.space]
            if unknown:
                raise SpaceError(
                    f"Parameters {unknown} are not in the study's space "
                    f"({', '.join(self.space)}). Check the spelling.")
        self._propose(trial, self._joint_space(trial))

    def _joint_space(self, trial: Trial) -> dict[str, Distribution]:
        """The known parameters that ``trial`` does not have fixed: the sampler's to propose."""
        space = self.search_space()  # (a copy)
        return {k: d for k, d in space.items() if k not in trial.fixed} if trial.fixed else space

    def _propose(self, trial: Trial, joint: dict[str, Distribution]) -> None:
        """The sampler's joint proposal for ``joint``; for a fixed space, every parameter
        resolved and stored. What the trial held is replaced only once the proposal exists:
        an interrupt in the sampler leaves the trial as it was (and as stored)."""
        relative = (self.sampler.sample_joint(self, trial, joint) or {}) if joint else {}
        trial.params.clear()
        trial.distributions.clear()
        trial.relative = relative
        if self.space is not None:
            for name, dist in self.space.items():
                trial.suggest(name, dist)
            self.storage.set_params(trial)

    def _redraw(self, trial: Trial) -> bool:
        """Propose ``trial``'s parameters again, from fresh random streams (its proposal
        repeated a finished trial). Fixed values (enqueued, a scheduler's) stay; ``False``
        when they are all there is (nothing can change)."""
        with self._lock:
            joint = self._joint_space(trial)
            if not joint:
                return False
            self.sampler.redraw(trial.number)
            self._propose(trial, joint)
            return True

    def _take_queued(self) -> dict[str, Any] | None:
        """Take the first queued point that fits the search space out of the stored queue,
        or ``None`` when none is left. One write takes it, so two kernels on one study never
        take the same point; points that no longer fit (the space was edited since they were
        queued) are dropped on the way, with a warning."""
        if not self._attrs.get("queue"):  # as ask just read it
            return None
        space, fixed_space = self.search_space(), self.space is not None

        def take(attrs: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple]]:
            queue, dropped = attrs.get("queue") or [], []
            while queue:
                point = queue.pop(0)
                why = misfit(point, space, fixed_space)
                if why is None:
                    return point, dropped
                dropped.append((point, why))
            return None, dropped

        point, dropped = self._change_attrs(take)
        for lost, why in dropped:
            warnings.warn(f"Study {self.name!r} dropped the queued point {lost}, which does "
                          f"not fit its search space now ({why}); the run goes on with the next "
                          "point.", stacklevel=3)
        return point

    def _requeue(self, queued: dict[str, Any] | None) -> None:
        if queued is not None:
            self._change_attrs(lambda attrs: attrs.setdefault("queue", []).insert(0, queued))

    def _abandon(self, trial: Trial, exc: BaseException) -> None:
        """Finish a trial that could not be started (``ask`` failed half-way)."""
        if trial.state.finished:
            return
        if isinstance(exc, KeyboardInterrupt):
            state, error = TrialState.INTERRUPTED, "interrupted by the user before it started"
        else:
            state, error = TrialState.FAILED, f"could not be started: {type(exc).__name__}: {exc}"
        self.tell(trial, state=state, error=error)

    def sample_param(self, trial: Trial, name: str, dist: Distribution) -> Any:
        """The host side of :meth:`Trial.suggest`: check ``dist`` against the study's space,
        register a new parameter, and return the trial's value (its preset value, else the
        sampler's)."""
        with self._lock:
            known = self._known.get(name)
            if known is dist:
                pass  # a fixed space's own distribution (every trial): nothing to check
            elif known is None:
                # Found as trials run (define-by-run, a branch taken for the first time).
                self._known[name] = dist
                self.storage.update_study(self._id, space=space_to_json(self._known))
            elif known != dist or name in self._attrs.get("removed", ()):
                # A definition the cell changed, with arguments the magic could not read
                # before the run (computed ones).
                self.edit_space({name: dist})
            elif dist.prior is not None and prior_of(known) != prior_of(dist):
                self._adopt({name: dist})  # a new guess: guides sampling, changes no value
                self.storage.update_study(self._id, space=space_to_json(self._known))
            elif not same_objects(known, dist):
                # The same options as other objects (read from the file, or classes that a
                # cell defined anew): the cell's own, with the guess the study knows.
                self._adopt({name: dist if known.prior is None
                             else copy.copy(dist).with_prior(known.prior)})
            value = trial.preset_value(name, dist)
            if value is UNSET and name in trial.fixed:
                # A queued value outside the distribution the objective gives it, a name the
                # study did not know when the point was taken: the sampler decides instead.
                dropped = trial.fixed.pop(name)
                trial._notes.append(
                    f"Trial {trial.number} did not use the queued value {name} = {dropped!r}: "
                    f"it is outside {dist!r}, the distribution the objective gives {name}, so "
                    f"{name} was sampled.")
            if value is UNSET:
                # The known distribution: the same values, and the prior of a warm start.
                value = self.sampler.sample_one(self, trial, name, self._known[name])
            return trial.record_param(name, dist, value)

    def record_report(self, trial: Trial, value: float | Mapping[str, float], step: int,
                      checkpoint: Any = None) -> bool:
        """The host side of :meth:`Trial.report`: store the point (of every curve, for a dict
        of metrics), tell subscribers, and let the scheduler decide on the first objective's
        curve; return whether the trial should stop."""
        trial.record_point(step, value, checkpoint)
        # The parameters are stored by the first report at the latest (a dead kernel's trial
        # is re-run with them).
        first = len(trial.intermediate) == 1
        # A float by its type first: an isinstance against an ABC costs Python calls, at
        # every report.
        if type(value) is not float and isinstance(value, Mapping):
            if first:
                self.storage.set_params(trial)
                first = False
            self.storage.add_metric_reports(trial, step, value)
            value = trial.intermediate[step]
        self.storage.add_report(trial, step, value, with_params=first)
        if self.events.listened:
            self.events.emit(Event("trial_reported", self, trial, step=step, value=value))
        if self.scheduler is not None and not trial.should_stop:
            decision = self.scheduler.on_report(self, trial, step, value)
            if decision != CONTINUE:
                trial.should_stop = True
                trial.user_attrs["decision"] = decision
        return trial.should_stop

    def tell(self, trial: Trial | int, value: Any = None, *, state: str | TrialState | None = None,
             error: str | None = None, traceback: str | None = None) -> Trial:
        """Finish a trial with its score (or another final state).

        A missing score falls back to the last reported value (every reported metric, for
        dicts). A score that is not a finite number, or a result that misses an objective,
        makes the trial ``failed``, with the reason in ``trial.error``.

        Parameters
        ----------
        trial : Trial or int
            The trial or its number.
        value : float, dict or sequence of floats, optional
            The score; with several objectives (or named ones), a dict of named numbers
            (objectives, and metrics that constraints use or that are kept as
            ``trial.metrics``) or one value per objective, in order.
        state : {"complete", "pruned", "failed", "interrupted"}, optional
            Defaults to ``complete``.
        """
        if isinstance(trial, int):
            trial = self.trial(trial)
        elif not self._owns(trial):
            # Its trial_id names a row of another study, maybe in another file: writing it
            # would overwrite an unrelated trial.
            raise TuneError(
                f"Trial {trial.number} is not a trial of study {self.name!r} (it was asked from "
                "another study, or from another Study object opened on the same study). Tell "
                "each trial to the study whose ask() returned it.")
        if trial.state.finished:
            raise TuneError(f"Trial {trial.number} is already {trial.state.value}; a trial is "
                            "told once.")
        state, value, scores, reason = settle(self.scoring, trial, value, final_state(state))
        error = reason or error
        before = (trial.state, trial.value, trial.error, trial.traceback, trial.finished,
                  trial.values, trial.metrics, trial.feasible)
        trial.state = state
        trial.value = value if state in (TrialState.COMPLETE, TrialState.PRUNED) else None
        if scores is not None:
            trial.values, trial.metrics, trial.feasible = scores.values, scores.metrics, \
                scores.feasible
        trial.error = error if error is not None else trial.error
        trial.traceback = traceback if traceback is not None else trial.traceback
        trial.finished = time.time()
        try:
            self.storage.finish_trial(trial)
        except BaseException:
            # Not in the file (locked past the storage's patience, or an interrupt): the
            # trial is not finished here either, so what the kernel shows is what the file has.
            (trial.state, trial.value, trial.error, trial.traceback, trial.finished,
             trial.values, trial.metrics, trial.feasible) = before
            raise
        trial._host = trial._owner = None
        # Told now, outside the objective: a warning raised while it ran is captured into
        # the trial's output, where nobody would see it.
        if trial._notes:
            for note in trial._notes:
                warnings.warn(note, stacklevel=2)
            trial._notes.clear()
        if self.scheduler is not None:
            self.scheduler.on_trial_finished(self, trial)
        if self.events.listened:
            self.events.emit(Event("trial_finished", self, trial))
        return trial

    def _owns(self, trial: Trial) -> bool:
        """Whether ``trial`` is one of this study's (asked here or loaded from its file)."""
        trials = self._trials
        # Usually at its number (trials of other kernels since the last load shift it).
        if 0 <= trial.number < len(trials) and trials[trial.number] is trial:
            return True
        return any(mine is trial for mine in reversed(trials))

    def _read_attrs(self) -> dict[str, Any]:
        """The study's attributes as the storage holds them now (another kernel's queued
        points and space edits included); decoded only when they changed."""
        self._attrs = self.storage.read_attrs(self._id)
        return self._attrs

    def enqueue(self, params: Mapping[str, Any], *, skip_if_exists: bool = False) -> None:
        """Queue a point to be tried before the sampler is asked again (kept in storage, so
        a later ``%%tune --study`` run of the same study tries it first).

        With a fixed ``space``, a name outside it is refused. A define-by-run study accepts
        names it has not seen yet: a branch of the objective that has not run may define them
        (``%%tune --enqueue`` warns about names its cell does not define).

        Parameters
        ----------
        params : Mapping[str, Any]
            The values to try; parameters left out are sampled.
        skip_if_exists : bool
            Queue nothing when the point is queued already or a trial has tried it (complete,
            pruned or running: a failed or interrupted one is tried again), as Optuna's
            ``enqueue_trial(skip_if_exists=True)``. ``%%tune --enqueue`` passes it, so that
            re-running the cell does not run its point again.

        Examples
        --------
        >>> from hpt_magic import Study, Float
        >>> study = Study(space={"x": Float(0, 1)})
        >>> study.enqueue({"x": 0.25})
        >>> study.ask().params
        {'x': 0.25}
        """
        if not isinstance(params, Mapping) or not params:
            raise TuneError(f"enqueue needs a non-empty dict of parameter values, got {params!r}.")
        space = self.search_space()
        unknown = [name for name in params if name not in space]
        if self.space is not None and unknown:
            raise SpaceError(f"Enqueued parameters {unknown} are not in the study's space "
                             f"({', '.join(space)}). Check the spelling.")
        for name, value in params.items():
            if name in space and not space[name].contains(value):
                why, fix = space[name].refusal(value)
                raise SpaceError(f"Enqueued value {value!r} for {name!r} {why}. {fix}.")
        # As the file holds values: an option JSON cannot hold by its label (see _stored).
        point = stored_params(params, self._known)
        if skip_if_exists:
            self.refresh()  # (trials another kernel ran since this one loaded count too)
            if any(_tried(trial, params, space) for trial in self._trials):
                return

        def add(attrs: dict[str, Any]) -> None:
            queue = attrs.setdefault("queue", [])
            # As the file holds it (a tuple is a list there), to compare with what it holds.
            if not (skip_if_exists and json.loads(dumps_json(point)) in queue):
                queue.append(point)
        self._change_attrs(add)


#: The states of a trial that has tried its point, or is trying it.
_TRYING = frozenset({TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING})


def _tried(trial: Trial, params: Mapping[str, Any], space: Mapping[str, Distribution]) -> bool:
    """Whether ``trial`` tried (or is trying) the values ``params`` queue, as a trial takes
    them (a stepped value at its step, an option by its place among the options)."""
    return (trial.state in _TRYING and all(name in trial.params for name in params)
            and all(_same(space.get(name), trial.params[name], value)
                    for name, value in params.items()))


def _same(dist: Distribution | None, taken: Any, given: Any) -> bool:
    """Whether a trial's value ``taken`` is the value ``given`` of ``dist``, as taken."""
    if dist is None:
        return bool(taken == given)
    if isinstance(dist, Choice):
        i = dist.find(given)
        return i is not None and dist.find(taken) == i
    given = dist.clip(given)
    if isinstance(given, float) or isinstance(taken, float):
        return math.isclose(float(taken), float(given), rel_tol=1e-9, abs_tol=1e-12)
    return bool(taken == given)


def misfit(point: Mapping[str, Any], space: Mapping[str, Distribution],
           fixed_space: bool) -> str | None:
    """Why a queued ``point`` does not fit ``space`` (a value outside its distribution, or, in
    a ``fixed_space``, a name that is not in it), or ``None`` when it fits. In a define-by-run
    space a name not known yet fits: the objective may define it.

    Examples
    --------
    >>> from hpt_magic import Float
    >>> misfit({"x": 0.5}, {"x": Float(0, 0.1)}, True)
    'x = 0.5 is outside Float(0, 0.1)'
    >>> misfit({"y": 1}, {"x": Float(0, 1)}, True), misfit({"y": 1}, {"x": Float(0, 1)}, False)
    ('y is not one of its parameters (x)', None)
    """
    for name, value in point.items():
        dist = space.get(name)
        if dist is None:
            if fixed_space:
                return f"{name} is not one of its parameters ({', '.join(space)})"
        elif not dist.contains(value):
            return f"{name} = {value!r} {dist.refusal(value)[0]}"
    return None


def final_state(state: str | TrialState | None) -> TrialState:
    """The state ``tell`` records (``None``: complete); anything but a final state is refused
    with the ones there are."""
    if not state:  # None (or "", as before)
        return TrialState.COMPLETE
    try:
        final = TrialState(state)
    except ValueError:
        final = None
    if final is None or not final.finished:
        finals = [s.value for s in TrialState if s.finished]
        raise TuneError(f"tell(state={state!r}): a trial is told once it is over, so its state "
                        f"is one of {', '.join(map(repr, finals))}.")
    return final
