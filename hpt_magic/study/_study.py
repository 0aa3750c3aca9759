"""The study: ask/tell, the best trial, events. No front end lives here."""

from __future__ import annotations

import copy
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .._signals import hold_interrupts
from ..distributions import Distribution, check_compatible, check_space
from ..exceptions import SpaceError, StorageError, TuneError
from ..executors._scores import Objectives
from ..samplers import Sampler, make_sampler
from ..schedulers import CONTINUE, Scheduler, make_scheduler
from ..trial import UNSET, Direction, Trial, TrialState, top_trials
from ._events import Event, EventBus
from ._objectives import (
    check_scheduler,
    reconcile,
    requested_objectives,
    settle,
    study_front,
    study_hypervolume,
)
from ._results import summary_text
from ._space_edit import space_changes
from ._storage import Storage, make_storage, space_from_json, space_to_json

__all__ = ["Study", "load_study"]


class Study:
    """A hyperparameter search: its trials, its sampler and scheduler, and where it is stored.

    Parameters
    ----------
    space : dict of str -> Distribution, optional
        A fixed search space. Without it the objective defines parameters as it runs
        (``tune.*`` calls or ``trial.suggest``).
    sampler : str or Sampler
        ``"random"``, ``"grid"``, ``"tpe"``, ``"gp"``... or a sampler object.
    direction : {"minimize", "maximize"} or Direction, optional
        ``"min"`` and ``"max"`` work too; ``study.direction`` is the :class:`Direction`.
        Default: a stored study's own, else ``"minimize"``.
    directions : list of {"minimize", "maximize"}, optional
        One per objective: a multi-objective study (``study.best_trials`` is its Pareto
        front).
    objectives : list of str, optional
        The objectives' names: the keys of the dict the objective returns (default ``value``,
        or ``value_0, value_1...``, for a number or a tuple).
    constraints : list of str, optional
        Bounds on metrics the objective returns, as ``"size_mb <= 20"`` or ``"recall >=
        0.8"``; a trial that breaks one is ``feasible == False`` and never on the front.
    seed : int, optional
        Seeds the sampler: same seed, same space, same objective -> the same trials.
    name : str, optional
        The study's name in its storage; an existing study of that name is continued.
    storage : str, path or Storage, optional
        An SQLite file path, or ``None`` to keep the study in memory.
    scheduler : str or Scheduler, optional
        Early stopping / multi-fidelity (``"asha"``, ``"median"``...).
    max_steps : int, optional
        The full resource given to the scheduler.
    new : bool
        Start afresh even if a study of that name exists (the old one is renamed, not deleted).
    sampler_args, scheduler_args : dict, optional
        Options passed to a sampler or scheduler built by name.
    retry_orphans : bool
        Trials left ``running`` by a kernel that died are marked interrupted when the study
        opens; with ``True`` their parameters are queued to be tried first.

    Examples
    --------
    >>> from hpt_magic import Study, Float
    >>> study = Study(space={"x": Float(-5, 5)}, seed=0)
    >>> study.optimize(lambda t: (t.params["x"] - 1) ** 2, n_trials=20)
    >>> abs(study.best_params["x"] - 1) < 1.5
    True
    """

    def __init__(
        self, space: Mapping[str, Distribution] | None = None, sampler: str | Sampler = "random",
        direction: str | Direction | None = None, seed: int | None = None,
        name: str | None = None,
        storage: str | os.PathLike | Storage | None = None,
        scheduler: str | Scheduler | None = None, max_steps: int | None = None, new: bool = False,
        sampler_args: Mapping[str, Any] | None = None,
        scheduler_args: Mapping[str, Any] | None = None, retry_orphans: bool = True,
        directions: Sequence[str | Direction] | None = None,
        objectives: Sequence[str] | None = None,
        constraints: Sequence[str] | None = None,
    ) -> None:
        asked = requested_objectives(direction, directions, objectives, constraints)
        #: The objectives and constraints (:class:`~hpt_magic.executors.Objectives`): how a
        #: result is judged. Settled when the study opens (a stored study keeps its own).
        self.scoring = asked or Objectives(["value"], ["minimize"])
        self.direction = self.scoring.directions[0]
        self.seed = seed
        self.space = check_space(space) if space is not None else None
        self.sampler = make_sampler(sampler, seed, **dict(sampler_args or {}))
        sched_kwargs = dict(scheduler_args or {})
        if max_steps is not None and isinstance(scheduler, str):
            sched_kwargs.setdefault("max_steps", max_steps)
        self.scheduler = make_scheduler(scheduler, **sched_kwargs)
        if self.scheduler is not None:
            if max_steps is not None:
                self.scheduler.max_steps = max_steps
            self.scheduler.check()  # refused here, before the storage holds anything
        self.storage = make_storage(storage)
        self.events = EventBus()
        self.name = name or f"study-{uuid.uuid4().hex[:8]}"
        self._queue: list[dict[str, Any]] = []
        self.retry_orphans = retry_orphans
        #: How the search space changed when the study was opened (see edit_space).
        self.space_changes: list[str] = []
        #: Trials found ``running`` under a dead kernel when the study was opened, now marked
        #: interrupted (their parameters are queued first when ``retry_orphans``).
        self.orphans: list[Trial] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.previous_name: str | None = None
        #: The background run's thread and the event it sets when it is over (see wait()).
        self._background: tuple[threading.Thread, threading.Event] | None = None
        #: The runs going on now (a background run and manual trials may overlap).
        self._runs: set[Any] = set()
        check_scheduler(self)  # before anything is stored, as far as this call tells
        self._open(new, asked, constraints is not None)
        check_scheduler(self)  # the objectives of a continued study

    # -- storage -----------------------------------------------------------------------------
    def _open(self, new: bool, asked: Objectives | None, asked_constraints: bool) -> None:
        rec = self.storage.get_study(self.name)
        if rec is not None and new:
            self.previous_name = f"{self.name}~{time.strftime('%Y%m%d-%H%M%S')}"
            k = 1
            while self.storage.get_study(self.previous_name) is not None:
                k += 1
                self.previous_name = f"{self.name}~{time.strftime('%Y%m%d-%H%M%S')}-{k}"
            self.storage.rename_study(self.name, self.previous_name)
            rec = None
        if rec is None:
            self._attrs: dict[str, Any] = {"sampler": type(self.sampler).__name__,
                                           "seed": self.seed, "queue": [],
                                           **self.scoring.to_json()}
            self._id = self.storage.create_study(self.name, self.direction.value, self._attrs)
            self._known: dict[str, Distribution] = dict(self.space or {})
            if self._known:
                self.storage.update_study(self._id, space=space_to_json(self._known))
            self._trials: list[Trial] = []
            self._loaded = time.monotonic()
            self.resumed = False
            return
        stored = Objectives.from_json(rec["attrs"], rec["direction"])
        self.scoring = reconcile(self.name, stored, asked, asked_constraints)
        self.direction = self.scoring.directions[0]
        self._id = rec["id"]
        self._attrs = dict(rec["attrs"])
        if self.scoring != stored:  # an unnamed objective named by this run
            self._attrs.update(self.scoring.to_json())
            self.storage.update_study(self._id, attrs=self._attrs)
        self._queue = list(self._attrs.get("queue", []))
        self._known = space_from_json(rec["space"])
        if self.space is not None:
            # Checked before the trials are loaded: a refused edit costs nothing.
            space_changes(self._known, self.space, owner=f"Study {self.name!r}")
        self._recover_orphans()
        self._trials = self.storage.load_trials(self._id, self._known)
        self.space_changes = self.edit_space(self.space, names=()) if self.space is not None else []
        self._loaded = time.monotonic()
        self.resumed = True

    def _recover_orphans(self) -> None:
        """Finish the trials a dead kernel left ``running``, and queue their parameters to be
        tried first (``retry_orphans``), so that the crash costs nothing but the time."""
        self.orphans = self.storage.recover_orphans(self._id)
        retry = [dict(t.params) for t in self.orphans if t.params and self.retry_orphans]
        if retry:
            self._queue[:0] = retry
            self._save_queue()

    def refresh(self) -> None:
        """Take in what other writers of the study's file did: their new trials, and trials
        they finished (or that were recovered from a dead kernel) since this study loaded."""
        if self._runs or time.monotonic() - self._loaded < 1.0:
            return  # never under a running trial's feet; nothing new just after loading
        for trial in self._trials:
            # A run's trial still running with no run going: its result could not be written
            # when it ended (a file locked past the storage's patience). Finish it now.
            if trial.state is TrialState.RUNNING and getattr(trial, "_owner", None) is not None:
                try:
                    self.tell(trial, state=TrialState.INTERRUPTED,
                              error="its result could not be written to the study file")
                except StorageError:
                    pass  # still refused: the next refresh tries again
        rec = self.storage.get_study(self.name)
        if rec is not None:  # what other kernels queued or edited meanwhile
            self._attrs = dict(rec["attrs"])
            self._queue = list(self._attrs.get("queue", []))
            self._known.update(space_from_json(rec["space"]))
        self._recover_orphans()
        stored = self.storage.load_trials(self._id, self._known)
        mine = {t.number: t for t in self._trials}
        merged = []
        for trial in stored:
            own = mine.get(trial.number)
            keep = own is not None and (own.state.finished or own._host is not None)
            merged.append(own if keep else trial)
        self._trials = merged
        self._loaded = time.monotonic()

    def edit_space(self, space: Mapping[str, Distribution], *,
                   names: Iterable[str] | None = None) -> list[str]:
        """Continue the study on an edited search space; return the changes in words.

        Ranges may widen, narrow or move, choices and parameters may come and go, defaults may
        change: the study goes on, and samplers learn from the earlier trials that lie inside
        the new space. Each edit starts a new space version (``trial.user_attrs
        ["space_version"]`` of later trials). ``names``: parameters that exist without a known
        distribution (read from a cell before it runs); a known parameter that is neither in
        ``space`` nor in ``names`` is removed (``None``: nothing is removed).

        Raises
        ------
        SpaceError
            When a parameter changes type or scale; nothing is stored then.
        """
        present = self._known if names is None else names
        changes, removed = space_changes(self._known, space, names=present,
                                         owner=f"Study {self.name!r}")
        guesses = {n: d for n, d in space.items()
                   if n in self._known and self._known[n] == d and self._known[n].prior != d.prior}
        if guesses and not changes:
            with self._lock:  # new priors guide sampling and change no value: not an edit
                self._known.update(guesses)
                self.storage.update_study(self._id, space=space_to_json(self._known))
        if not changes:
            return []
        if not self._trials:
            # A first definition (a new study, or one with no trial yet), not an edit.
            with self._lock:
                self._known.update(space)
                self.storage.update_study(self._id, space=space_to_json(self._known))
            return []
        with self._lock:
            self._known.update(space)
            gone = set(self._attrs.get("removed", [])) - set(space) | set(removed)
            self._attrs["removed"] = sorted(gone)
            history = self._attrs.setdefault("space_history", [])
            history.append({"from_trial": len(self._trials), "changes": changes})
            self.storage.update_study(self._id, space=space_to_json(self._known),
                                      attrs=self._attrs)
        done = [t for t in self._trials if t.state.finished]
        inside = sum(all(d.contains(t.params[n]) for n, d in space.items() if n in t.params)
                     for t in done)
        return [*changes, f"{len(done)} earlier trials, {inside} inside the new space"]

    def warm_start(self, other: Study, *, n_first: int = 2) -> str:
        """Start from what another study (yesterday's, a smaller data set's) learned.

        Its best trial's values become the priors of the parameters both studies share (half
        of the random draws land near them: knowledge, not observations of this study), and
        its ``n_first`` best configurations that fit this study's space are queued first when
        this study has no trial yet. Returns what was taken, in words.
        """
        best = other.top_trials(max(1, n_first))
        if not best:
            raise TuneError(f"Study {other.name!r} has no complete trial to start from. Run it "
                            "first, or drop --warm-start.")
        space = self.search_space()
        shared = []
        with self._lock:
            for name, value in best[0].params.items():
                dist = space.get(name)
                if dist is not None and dist.contains(value):
                    self._known[name] = copy.copy(dist).with_prior(value)
                    shared.append(name)
            self.storage.update_study(self._id, space=space_to_json(self._known))
        queued = 0
        if not self._trials:
            for trial in best[:n_first]:
                params = {n: v for n, v in trial.params.items() if n in shared}
                if params:
                    self.enqueue(params)
                    queued += 1
        if self.space is not None:
            self.space = {n: self._known.get(n, d) for n, d in self.space.items()}
        return (f"warm start from {other.name!r} ({len(other.trials)} trials): its best values "
                f"as priors of {', '.join(shared) or 'no shared parameter'}"
                + (f", its {queued} best configurations first" if queued else ""))

    @property
    def space_version(self) -> int:
        """How many times the search space was edited (0: never)."""
        return len(self._attrs.get("space_history", []))

    def check_space(self, space: Mapping[str, Distribution], *, allow_missing: bool = False,
                    names: Iterable[str] | None = None) -> None:
        """Raise a :class:`SpaceError` when ``space`` clashes with the stored one.

        Adding parameters is fine; changing a distribution is not, nor is dropping a parameter
        (unless ``allow_missing``).
        """
        check_compatible(self._known, space, owner=f"Study {self.name!r}",
                         allow_missing=allow_missing, names=names)

    # -- ask / tell --------------------------------------------------------------------------
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
            if self.space_version:
                trial.user_attrs["space_version"] = self.space_version
            fixed: dict[str, Any] = {}
            queued = None
            if self._queue and params is None:
                queued = self._queue.pop(0)
                fixed.update(queued)
                trial.user_attrs["enqueued"] = True
                self._save_queue()
            fixed.update(params or {})
            try:
                # Stored and known together: an interrupt between the two would leave a
                # running row that no clean-up of this kernel sees.
                with hold_interrupts():
                    trial.trial_id, trial.number = self.storage.new_trial(self._id, trial)
                    self._trials.append(trial)
            except BaseException:
                self._requeue(queued)
                raise
            try:
                self._prepare(trial, fixed)
            except BaseException as exc:
                # Nothing may stay `running`: an interrupt while the sampler works, a sampler
                # or scheduler error, a bad enqueued point. A queued point is tried again,
                # unless it is the point itself that is wrong.
                self._abandon(trial, exc)
                if not isinstance(exc, SpaceError):
                    self._requeue(queued)
                raise
        self.events.emit(Event("trial_started", self, trial))
        return trial

    def _prepare(self, trial: Trial, fixed: dict[str, Any]) -> None:
        """Decide what can be decided at ask time: scheduler values, the joint proposal and,
        for a fixed space, every parameter."""
        trial._host = self
        trial.scoring = self.scoring
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
        return {k: d for k, d in self.search_space().items() if k not in trial.fixed}

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

    def _requeue(self, queued: dict[str, Any] | None) -> None:
        if queued is not None:
            self._queue.insert(0, queued)
            self._save_queue()

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
            elif dist.prior is not None and known.prior != dist.prior:
                self._known[name] = dist  # a new guess: guides sampling, changes no value
                self.storage.update_study(self._id, space=space_to_json(self._known))
            value = trial.preset_value(name, dist)
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
        if isinstance(value, Mapping):
            if first:
                self.storage.set_params(trial)
                first = False
            self.storage.add_metric_reports(trial, step, value)
            value = trial.intermediate[step]
        self.storage.add_report(trial, step, value, with_params=first)
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
        if trial.state.finished:
            raise TuneError(f"Trial {trial.number} is already {trial.state.value}; a trial is "
                            "told once.")
        state, value, scores, reason = settle(self.scoring, trial, value,
                                              TrialState(state or TrialState.COMPLETE))
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
        if self.scheduler is not None:
            self.scheduler.on_trial_finished(self, trial)
        self.events.emit(Event("trial_finished", self, trial))
        return trial

    def enqueue(self, params: Mapping[str, Any]) -> None:
        """Queue a point to be tried before the sampler is asked again (kept in storage, so
        a later ``%%tune --study`` run of the same study tries it first).

        With a fixed ``space``, a name outside it is refused. A define-by-run study accepts
        names it has not seen yet: a branch of the objective that has not run may define them
        (``%%tune --enqueue`` warns about names its cell does not define).

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
                raise SpaceError(f"Enqueued value {value!r} for {name!r} is outside "
                                 f"{space[name]!r}. Give a value inside the range.")
        self._queue.append(dict(params))
        self._save_queue()

    def _save_queue(self) -> None:
        self._attrs["queue"] = list(self._queue)
        self.storage.update_study(self._id, attrs=self._attrs)

    # -- running -----------------------------------------------------------------------------
    def optimize(self, objective: Callable[[Trial], Any], n_trials: int | None = None,
                 timeout: float | None = None, *, catch: bool = True,
                 callbacks: Iterable[Callable[[Study, Trial], None]] = (),
                 show: bool = False, n_jobs: int = 1, dask: Any = None,
                 retries: int = 0, trial_timeout: float | None = None,
                 patience: int | None = None, min_improvement: float = 0.0,
                 on_repeat: str = "reuse") -> None:
        """Run ``objective`` on new trials until ``n_trials`` or ``timeout`` is reached.

        Parameters
        ----------
        objective : callable
            ``objective(trial) -> score``.
        n_trials : int, optional
            Trials to add (``None``: until the timeout, the grid's end or :meth:`stop`).
        timeout : float, optional
            Seconds.
        catch : bool
            Record a trial that raises as failed and go on (``False`` re-raises).
        callbacks : iterable of callables
            ``callback(study, trial)`` after each trial.
        show : bool
            Show the live dashboard (in a notebook).
        n_jobs : int
            Local worker processes (1: in this process).
        dask : str or distributed.Client, optional
            Run trials on a Dask cluster (``"local:N"`` starts a LocalCluster of N workers).
        retries : int
            With ``n_jobs``/``dask``: times a trial whose worker process died is run again
            before it is recorded as failed.
        trial_timeout : float, optional
            Seconds one trial may run; it is then stopped and recorded failed with its curve.
        patience : int, optional
            Stop when the best score has not improved (by more than ``min_improvement``) in
            this many trials.
        on_repeat : {"reuse", "skip", "run"}
            A proposal that repeats a complete trial's parameters is recorded with its score
            without running the objective (``reuse``, not counted in ``n_trials``), replaced
            by another proposal (``skip``), or run.
        """
        from ._lifecycle import optimize

        dashboard = None
        if show:
            # A front end, built only when asked for (a named exception of the layers
            # contract): it follows the run through the study's events.
            from ..notebook._dashboard import Dashboard

            dashboard = Dashboard(self, n_trials=n_trials, timeout=timeout)
        try:
            optimize(self, objective, n_trials=n_trials, timeout=timeout, catch=catch,
                     callbacks=list(callbacks), n_jobs=n_jobs, dask=dask, retries=retries,
                     trial_timeout=trial_timeout, patience=patience,
                     min_improvement=min_improvement, on_repeat=on_repeat)
        finally:
            if dashboard is not None:
                dashboard.close()

    def stop(self) -> None:
        """Ask a running ``optimize`` to stop after the running trial(s)."""
        self._stop.set()

    def abort(self) -> None:
        """Stop now: the running trials are marked interrupted.

        In a background run the worker thread is interrupted at its next Python instruction: a
        trial blocked inside C code (``time.sleep``, a long numpy call) ends only when that
        call returns. Trials in worker processes are stopped at once. In a blocking cell use
        Kernel > Interrupt.
        """
        self._stop.set()
        if self._background is not None and not self._background[1].is_set():
            from ._lifecycle import interrupt_thread

            interrupt_thread(self._background[0])

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a background run to end; return ``True`` when it has ended.

        An interrupt (Kernel > Interrupt) while waiting stops the waiting, not the run:
        ``study.running`` stays true and ``abort()`` still stops it.
        """
        if self._background is None:
            return True
        # An Event, not Thread.join: an interrupted join marks the thread stopped while it
        # still runs (Python 3.11), which would make `running` lie.
        return self._background[1].wait(timeout)

    @property
    def running(self) -> bool:
        """Whether a background run is going on."""
        return self._background is not None and not self._background[1].is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every study event; returns the unsubscribe function."""
        return self.events.subscribe(callback)

    # -- facts -------------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        """All trials, in order of their number."""
        return list(self._trials)

    def get_trials(self, states: Iterable[str | TrialState] | None = None) -> list[Trial]:
        """Trials in the given states (all when ``None``)."""
        if states is None:
            return self.trials
        wanted = {TrialState(s) for s in states}
        return [t for t in self._trials if t.state in wanted]

    def trial(self, number: int) -> Trial:
        """The trial with this number."""
        for t in self._trials:
            if t.number == number:
                return t
        raise TuneError(f"Study {self.name!r} has no trial number {number}.")

    def search_space(self) -> dict[str, Distribution]:
        """The fixed space, or every parameter that trials have defined so far (less the ones
        an edit removed)."""
        if self.space is not None:
            return dict(self.space)
        removed = self._attrs.get("removed", ())
        return {k: d for k, d in self._known.items() if k not in removed}

    def is_better(self, a: float, b: float | None) -> bool:
        """Whether score ``a`` beats ``b`` in this study's direction."""
        return self.direction.is_better(a, b)

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
    def directions(self) -> list[Direction]:
        """One :class:`Direction` per objective, in order."""
        return list(self.scoring.directions)

    @property
    def objectives(self) -> list[str]:
        """The objectives' names, in order (``["value"]`` for one unnamed score)."""
        return list(self.scoring.names)

    @property
    def constraints(self) -> list[str]:
        """The constraints on the trials' metrics, as text (``"size_mb <= 20"``)."""
        return [str(c) for c in self.scoring.constraints]

    @property
    def is_multi_objective(self) -> bool:
        return self.scoring.multi

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
        counts; pass a fixed reference to compare studies or runs.
        """
        return study_hypervolume(self, reference)

    @property
    def best_trial(self) -> Trial:
        """The complete trial with the best score (the first of equal ones)."""
        top = self.top_trials(1)
        if not top:
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
        """Write the trials to a CSV file (the columns of :meth:`to_dataframe`)."""
        from ._export import to_csv

        to_csv(self, path)

    def importances(self, **kwargs: Any) -> dict[str, float]:
        """How much each parameter drove the score (main effects of a random-forest
        surrogate), summing to 1, largest first. Needs at least 4 complete trials."""
        from ._export import importances

        return importances(self, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for runtime in ("_lock", "_stop", "events", "_background", "_runs"):
            state.pop(runtime, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.events = EventBus()
        self._background = None
        self._runs = set()

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<Study {self.name!r} {self.direction} sampler={self.sampler.name} "
                f"trials={len(self._trials)} complete={c['complete']}>")


def load_study(name: str, storage: str | os.PathLike | Storage) -> Study:
    """Open a stored study for analysis or to continue it.

    The study's objectives, directions and constraints come from storage; its sampler is
    random until you set ``study.sampler``.
    """
    st = make_storage(storage)
    rec = st.get_study(name)
    if rec is None:
        names = [s["name"] for s in st.list_studies()]
        raise TuneError(f"No study named {name!r} in {storage!r}. Stored studies: {names}.")
    return Study(name=name, storage=st)
