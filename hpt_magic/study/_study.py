"""The study: how it is made, opened and stored, and what it holds. No front end lives here.

``Study`` gathers its methods from mixins, one module per concern: asking and telling
(``_ask_tell``), running (``_running``), editing the space (``_space_edit``) and the results
(``_results``).
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ..distributions import Distribution, check_space
from ..exceptions import StorageError, TuneError
from ..executors._scores import Objectives
from ..samplers import Sampler, make_sampler
from ..schedulers import Scheduler, make_scheduler
from ..trial import Direction, Trial, TrialState
from ._ask_tell import AskTellMixin, misfit
from ._events import EventBus
from ._objectives import check_scheduler, opened_objectives, requested_objectives
from ._results import ResultsMixin
from ._running import RunMixin
from ._space_edit import SpaceEditMixin, space_changes
from ._storage import Storage, make_storage, space_from_json, space_to_json, stored_storage
from ._storage_base import stored_params

__all__ = ["Study", "load_study"]

_T = TypeVar("_T")


class Study(AskTellMixin, RunMixin, SpaceEditMixin, ResultsMixin):
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
        opens; with ``True`` their parameters are queued to be tried first (unless they no
        longer fit the search space: a warning says so).

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
        self.scoring = opened_objectives(name or "", None, asked, constraints is not None)
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
        #: The study's stored attributes as the file last showed them (queue, space history).
        self._attrs: dict[str, Any] = {}
        self.retry_orphans = retry_orphans
        #: How the search space changed when the study was opened (see edit_space).
        self.space_changes: list[str] = []
        #: Trials found ``running`` under a dead kernel when the study was opened, now marked
        #: interrupted (their parameters are queued first when ``retry_orphans``).
        self.orphans: list[Trial] = []
        #: The orphans whose parameters were queued (those that fit the search space).
        self.orphans_queued: list[Trial] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self.previous_name: str | None = None
        #: The background run's thread and the event it sets when it is over (see wait()).
        self._background: tuple[threading.Thread, threading.Event] | None = None
        #: The runs going on now (a background run and manual trials may overlap).
        self._runs: set[Any] = set()
        #: Trials a bug failed, when the file could not record them (see _stopping._mark_bug).
        self._bug_trials: set[int] = set()
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
        while rec is None:
            self._attrs = {"sampler": type(self.sampler).__name__, "seed": self.seed,
                           "queue": [], **self.scoring.to_json()}
            self._known: dict[str, Distribution] = dict(self.space or {})
            # With its space in the same write: a process that opens the same new study at
            # this instant finds it whole, and continues it as stored.
            self._id, created = self.storage.create_study(
                self.name, self.direction.value, self._attrs, space_to_json(self._known))
            if created:
                self._trials: list[Trial] = []
                self._loaded = time.monotonic()
                self.resumed = False
                return
            rec = self.storage.get_study(self.name)  # another process created it first
        stored = Objectives.from_json(rec["attrs"], rec["direction"])
        self.scoring = opened_objectives(self.name, stored, asked, asked_constraints)
        self.direction = self.scoring.directions[0]
        self._id = rec["id"]
        self._attrs = dict(rec["attrs"])
        if self.scoring != stored:  # an unnamed objective named by this run
            named = self.scoring.to_json()
            self._change_attrs(lambda attrs: attrs.update(named))
        self._known = space_from_json(rec["space"])
        if self.space is not None:
            # Checked before the trials are loaded: a refused edit costs nothing.
            space_changes(self._known, self.space, owner=f"Study {self.name!r}")
        self._recover_orphans()
        self._trials = self.storage.load_trials(self._id, self._known)
        self.space_changes = self.edit_space(self.space, names=()) if self.space is not None else []
        self._loaded = time.monotonic()
        self.resumed = True

    def _change_attrs(self, change: Callable[[dict[str, Any]], _T],
                      space: dict[str, Any] | None = None) -> _T:
        """Edit the stored attributes in one write (see :meth:`Storage.change_attrs`), and
        take them in as the file now has them (what other kernels queued or edited too)."""
        self._attrs, result = self.storage.change_attrs(self._id, change, space=space)
        return result

    def _recover_orphans(self) -> None:
        """Finish the trials a dead kernel left ``running``, and queue their parameters to be
        tried first (``retry_orphans``), so that the crash costs nothing but the time.
        Parameters that no longer fit the search space are not queued (a warning says so)."""
        self.orphans = self.storage.recover_orphans(self._id)
        self.orphans_queued = []
        if not self.retry_orphans:
            return
        space = self.search_space()
        for orphan in self.orphans:
            if not orphan.params:
                continue
            why = misfit(orphan.params, space, self.space is not None)
            if why is None:
                self.orphans_queued.append(orphan)
            else:
                warnings.warn(f"Trial {orphan.number} of study {self.name!r} was running when "
                              f"its kernel died; its parameters {orphan.params} are not queued "
                              f"again: they do not fit the search space now ({why}).",
                              stacklevel=4)
        retry = [stored_params(orphan.params, self._known) for orphan in self.orphans_queued]

        def first(attrs: dict[str, Any]) -> None:
            attrs["queue"] = retry + attrs.get("queue", [])
        if retry:
            self._change_attrs(first)

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
                except Exception:
                    pass  # still refused (any storage's error): the next refresh tries again
        rec = self.storage.get_study(self.name)
        if rec is not None:  # what other kernels queued or edited meanwhile
            self._attrs = dict(rec["attrs"])
            self._take_stored(space_from_json(rec["space"]))
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
        removed = self._attrs.get("removed")
        if not removed:  # (the usual case, asked several times a trial)
            return dict(self._known)
        return {k: d for k, d in self._known.items() if k not in removed}

    @property
    def user_attrs(self) -> dict[str, Any]:
        """What was stored with the study by :meth:`set_user_attr` (a copy, read from the
        storage: another kernel's values included)."""
        return copy.deepcopy(self._read_attrs().get("user_attrs", {}))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store ``value`` with the study under ``key``, as Optuna's ``set_user_attr``: it is
        kept in the study's storage and read back by whoever opens the study.

        Examples
        --------
        >>> study = Study()
        >>> study.set_user_attr("dataset", "digits")
        >>> study.user_attrs
        {'dataset': 'digits'}
        """
        self._check_user_attr(key, value)
        self._change_attrs(lambda attrs: attrs.setdefault("user_attrs", {}).update(
            {key: copy.deepcopy(value)}))

    def setdefault_user_attr(self, key: str, value: Any) -> Any:
        """The value stored under ``key``, storing ``value`` first when there is none (as
        ``dict.setdefault``), in one write: of several kernels that store a value under one
        key at the same instant, the first one's is kept and every one of them gets it.

        Examples
        --------
        >>> study = Study()
        >>> study.setdefault_user_attr("data", "digits"), study.setdefault_user_attr("data", "iris")
        ('digits', 'digits')
        """
        self._check_user_attr(key, value)

        self._change_attrs(lambda attrs: attrs.setdefault("user_attrs", {}).setdefault(
            key, copy.deepcopy(value)))
        # The attributes as that one write left them in the storage (a tuple is a list in a
        # file): the same value on the call that stored it as on every later one.
        return copy.deepcopy(self._attrs["user_attrs"][key])

    def _check_user_attr(self, key: Any, value: Any) -> None:
        """Refuse a user attribute that would not come back from the storage as it is."""
        if not isinstance(key, str):
            raise TuneError(f"Study {self.name!r}: a user attribute's key is text, got "
                            f"{key!r}. Give it as a string, e.g. {str(key)!r}.")
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise TuneError(f"Study {self.name!r}: user attribute {key!r} = {value!r} cannot "
                            f"be stored ({exc}). Store JSON values: numbers, text, lists and "
                            "dicts of them.") from None

    def is_better(self, a: float, b: float | None) -> bool:
        """Whether score ``a`` beats ``b`` in this study's direction."""
        return self.direction.is_better(a, b)

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

    def __getstate__(self) -> dict[str, Any]:
        """A pickled study is its definition, storage and trials: the locks, the notebook's
        subscribers (dashboards, loggers) and the runs going on belong to this process."""
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
        rec = self.storage.get_study(self.name)
        if rec is None or rec["id"] != self._id:
            raise StorageError(
                f"Study {self.name!r} is not in {self.storage!r} any more (renamed, or the file "
                "was replaced), so this pickled copy cannot go on with it. Open the study "
                "anew with load_study(name, storage).")

    def __repr__(self) -> str:
        c = self.counts()
        return (f"<Study {self.name!r} {self.direction} sampler={self.sampler.name} "
                f"trials={len(self._trials)} complete={c['complete']}>")


def load_study(name: str, storage: str | os.PathLike | Storage) -> Study:
    """Open a stored study for analysis or to continue it.

    The study's objectives, directions and constraints come from storage; its sampler is
    random until you set ``study.sampler``. A path that does not exist is an error (it is
    never created here).
    """
    st = stored_storage(storage)
    rec = st.get_study(name)
    if rec is None:
        names = [s["name"] for s in st.list_studies()]
        raise TuneError(f"No study named {name!r} in {storage!r}. Stored studies: {names}.")
    return Study(name=name, storage=st)
