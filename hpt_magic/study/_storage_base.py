"""What a study needs from a storage (:class:`Storage`), and the storage in memory."""

from __future__ import annotations

import copy
import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._stored import PLAIN, restore, stored_form
from ..distributions import Distribution
from ..exceptions import StorageError
from ..trial import Trial, TrialState

__all__ = ["Storage", "InMemoryStorage", "dumps_json", "stored_params", "params_json",
           "params_from_json"]

_T = TypeVar("_T")


def dumps_json(obj: Any) -> str:
    """JSON text of ``obj``; never fails on a value: numpy values become numbers and lists,
    and what JSON cannot hold is written as its label (see :mod:`hpt_magic._stored`)."""
    if type(obj) is dict and not obj:  # no attributes, no metrics: most trials
        return "{}"
    return json.dumps(stored_form(obj))


def stored_params(params: Mapping[str, Any],
                  space: Mapping[str, Distribution]) -> dict[str, Any]:
    """Parameter values as a study file holds them: each as its distribution in ``space``
    stores it (a choice's option by its own stored form), the others as JSON data."""
    stored = {}
    for name, value in params.items():
        dist = space.get(name)
        if type(value) in PLAIN and (dist is None or type(dist).to_stored is _AS_JSON):
            stored[name] = value  # as stored_form gives it back, without the calls
        else:
            stored[name] = stored_form(value) if dist is None else dist.to_stored(value)
    return stored


#: The storing of a distribution that keeps no options: a value's own stored form.
_AS_JSON = Distribution.to_stored


def params_json(params: Mapping[str, Any], space: Mapping[str, Distribution]) -> str:
    """JSON text of :func:`stored_params`."""
    if not params:  # a trial just asked
        return "{}"
    return json.dumps(stored_params(params, space))


def params_from_json(text: str, space: Mapping[str, Distribution]) -> dict[str, Any]:
    """The parameter values of JSON ``text``: a choice's stored value as its option in
    ``space``, a label of an option that ``space`` does not have as a
    :class:`~hpt_magic._stored.StoredOption`."""
    return {name: space[name].from_stored(data) if name in space else restore(data)
            for name, data in json.loads(text).items()}


class Storage(ABC):
    """What a study needs from a storage. Records are plain dicts and :class:`Trial` objects."""

    @abstractmethod
    def get_study(self, name: str) -> dict[str, Any] | None:
        """The stored record of study ``name``, or ``None``."""

    @abstractmethod
    def create_study(self, name: str, direction: str, attrs: dict[str, Any],
                     space: dict[str, Any] | None = None) -> tuple[int, bool]:
        """Store study ``name`` with its attributes and space unless it exists, in one atomic
        step; return its id and whether this call stored it (of several processes creating
        one study at the same instant, one did: the others continue that study)."""

    @abstractmethod
    def rename_study(self, name: str, new_name: str) -> None:
        """Give study ``name`` the name ``new_name``."""

    @abstractmethod
    def update_study(self, study_id: int, *, space: dict[str, Any] | None = None,
                     attrs: dict[str, Any] | None = None) -> None:
        """Replace the stored space and/or attributes of a study."""

    @abstractmethod
    def change_attrs(self, study_id: int, change: Callable[[dict[str, Any]], _T], *,
                     space: dict[str, Any] | None = None) -> tuple[dict[str, Any], _T]:
        """Edit the study's stored attributes atomically; return them as stored after the
        edit, and what ``change`` returned.

        ``change(attrs)`` edits the dict in place; nobody else writes between the read it gets
        and the write of its edit, so several kernels may queue and take points of one study
        (``attrs["queue"]``) without losing or doubling any. It is called more than once (a
        first time on a copy read without the write lock, again in the write whenever that
        copy changed, and again when a locked file is read anew), so it must change nothing
        but ``attrs``. ``space``: also replace the stored space, in the same write.
        """

    @abstractmethod
    def read_attrs(self, study_id: int) -> dict[str, Any]:
        """The study's stored attributes as they are now (the queue, the space's history).

        Asked before every trial, so it must be cheap: attributes that did not change since
        the last call are not decoded again, and the dict returned may be the one returned
        before (the caller must not change it; :meth:`change_attrs` edits).
        """

    @abstractmethod
    def list_studies(self) -> list[dict[str, Any]]:
        """A summary row per stored study: ``name, direction, created, n_trials, n_complete``
        and ``best_value``, the best first value of its complete trials that are not marked
        infeasible."""

    @abstractmethod
    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        """Store a new trial; return ``(trial_id, number)``, the number assigned atomically."""

    @abstractmethod
    def set_params(self, trial: Trial) -> None:
        """Store the trial's parameters so far."""

    @abstractmethod
    def add_report(self, trial: Trial, step: int, value: float, *,
                   with_params: bool = False) -> None:
        """Store one reported point of the trial's curve (``with_params``: and the trial's
        parameters so far, in the same write)."""

    @abstractmethod
    def add_metric_reports(self, trial: Trial, step: int, metrics: dict[str, float]) -> None:
        """Store the points of several named curves at ``step`` (``tune.report({...})``)."""

    @abstractmethod
    def finish_trial(self, trial: Trial) -> None:
        """Store the trial's final state, score, output and error."""

    @abstractmethod
    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        """Every trial of the study, in order of number."""

    def complete_values(self, study_id: int) -> list[tuple[int, list[float]]]:
        """``(number, values)`` of each complete trial of the study that is not marked
        infeasible, in order of number: what its Pareto front is found from.

        A storage whose trials are costly to load reads only these (as SQLite does).
        """
        return [(t.number, list(t.values)) for t in self.load_trials(study_id, {})
                if t.state is TrialState.COMPLETE and t.values is not None
                and t.feasible is not False]

    @abstractmethod
    def recover_orphans(self, study_id: int, grace: float = 60.0) -> list[Trial]:
        """Mark ``interrupted`` the running trials of the study whose kernel is gone; return
        them (with their parameters and curves) so the study can queue their points again."""

    @abstractmethod
    def close(self) -> None:
        """Release files and connections."""


class InMemoryStorage(Storage):
    """Studies kept in this process only (the default of the Python API)."""

    def __init__(self) -> None:
        self._studies: dict[str, dict[str, Any]] = {}
        self._trials: dict[int, list[Trial]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __repr__(self) -> str:
        # Errors name the storage: "No study named 'x' in InMemoryStorage()", not an address.
        return "InMemoryStorage()"

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def get_study(self, name: str) -> dict[str, Any] | None:
        rec = self._studies.get(name)
        return None if rec is None else copy.deepcopy(rec)

    def create_study(self, name: str, direction: str, attrs: dict[str, Any],
                     space: dict[str, Any] | None = None) -> tuple[int, bool]:
        with self._lock:
            rec = self._studies.get(name)
            if rec is not None:
                return rec["id"], False
            sid = len(self._trials) + 1
            self._studies[name] = {"id": sid, "name": name, "direction": direction,
                                   "space": copy.deepcopy(space or {}), "attrs": dict(attrs),
                                   "created": time.time()}
            self._trials[sid] = []
            return sid, True

    def rename_study(self, name: str, new_name: str) -> None:
        with self._lock:
            if new_name in self._studies:
                raise StorageError(f"A study named {new_name!r} already exists in memory; "
                                   "choose another name.")
            rec = self._studies.pop(name)
            rec["name"] = new_name
            self._studies[new_name] = rec

    def update_study(self, study_id: int, *, space: dict[str, Any] | None = None,
                     attrs: dict[str, Any] | None = None) -> None:
        for rec in self._studies.values():
            if rec["id"] == study_id:
                if space is not None:
                    rec["space"] = dict(space)
                if attrs is not None:
                    rec["attrs"] = dict(attrs)

    def change_attrs(self, study_id: int, change: Callable[[dict[str, Any]], _T], *,
                     space: dict[str, Any] | None = None) -> tuple[dict[str, Any], _T]:
        with self._lock:
            rec = self._record(study_id)
            # Copies: the study's dict and the stored one must not share a queue.
            attrs = copy.deepcopy(rec["attrs"])
            result = change(attrs)
            rec["attrs"] = attrs
            if space is not None:
                rec["space"] = dict(space)
            return copy.deepcopy(attrs), result

    def read_attrs(self, study_id: int) -> dict[str, Any]:
        with self._lock:
            # Replaced whole by change_attrs, never edited in place: no copy needed.
            return self._record(study_id)["attrs"]

    def _record(self, study_id: int) -> dict[str, Any]:
        """The stored record of the study with this id (call under the lock)."""
        for rec in self._studies.values():
            if rec["id"] == study_id:
                return rec
        raise StorageError(f"This in-memory storage has no study with id {study_id}.")

    def list_studies(self) -> list[dict[str, Any]]:
        return [_summary(rec, self._trials[rec["id"]]) for rec in self._studies.values()]

    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        with self._lock:
            trials = self._trials[study_id]
            trials.append(trial)
            return id(trial), len(trials) - 1

    def set_params(self, trial: Trial) -> None:
        pass

    def add_report(self, trial: Trial, step: int, value: float, *,
                   with_params: bool = False) -> None:
        pass

    def add_metric_reports(self, trial: Trial, step: int, metrics: dict[str, float]) -> None:
        pass

    def finish_trial(self, trial: Trial) -> None:
        pass

    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        return list(self._trials[study_id])

    def recover_orphans(self, study_id: int, grace: float = 60.0) -> list[Trial]:
        """Always empty: trials in memory live and die with their kernel."""
        return []

    def close(self) -> None:
        """Nothing to release: the studies live in this object."""


def _summary(rec: dict[str, Any], trials: list[Trial]) -> dict[str, Any]:
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    values = [t.value for t in done if t.feasible is not False]
    best = (min(values) if rec["direction"] == "minimize" else max(values)) if values else None
    return {"name": rec["name"], "direction": rec["direction"], "n_trials": len(trials),
            "n_complete": len(done), "best_value": best, "created": rec.get("created")}

