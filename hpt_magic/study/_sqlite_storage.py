"""Studies in an SQLite file (standard library ``sqlite3``, WAL mode), shared by several kernels.

Every trial start, reported point and finish is committed as it happens, so a crash loses at
most the running trial, whose kernel :meth:`SQLiteStorage.recover_orphans` later finds dead.
Writes wait out another process's lock with backoff; a file that is read-only, damaged or
closed is refused with one paragraph that says what to do. Opening the file and its
transactions are :class:`~hpt_magic.study._sqlite_file.SQLiteFile`'s; the study and trial
operations built on them are here.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..distributions import Distribution
from ..exceptions import StorageError
from ..trial import Trial, TrialState
from ._heartbeat import Heartbeat, Owner
from ._sqlite import has_objective_columns
from ._sqlite_file import SQLiteFile
from ._storage_base import (
    Storage,
    dumps_json,
    params_from_json,
    params_json,
)

__all__ = ["SQLiteStorage"]

_T = TypeVar("_T")

_TRIAL_COLUMNS = ("id, number, state, value, params, started, finished, error, traceback, "
                  "output, manual, attrs")


class SQLiteStorage(SQLiteFile, Storage):
    """Studies in an SQLite file, shared safely by several kernels.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created when missing. A file that is not a study database is refused and
        never overwritten. A read-only file opens for analysis only; a damaged one (``PRAGMA
        quick_check``) is read as far as it goes and never written.
    timeout : float
        Seconds to wait for a file locked by another writer before giving up with a clear
        error (opening, creating and changing studies).
    write_patience : float
        The same for the outcome of a trial (start, parameters, reports, finish), which is worth
        waiting longer for.
    heartbeat_interval : float
        Seconds between two heartbeats of this storage's running trials.
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 10.0,
                 write_patience: float = 60.0, heartbeat_interval: float = 5.0) -> None:
        super().__init__(path, timeout=timeout)
        self.write_patience = write_patience
        #: The attributes text of each study as last read, and its decoding (read_attrs).
        self._attrs_seen: dict[int, tuple[str, dict[str, Any]]] = {}
        self._heartbeat = Heartbeat(os.path.abspath(self.path), heartbeat_interval)
        self._heartbeat_interval = heartbeat_interval
        # Files before revision 3 opened read-only have no columns for several objectives.
        try:
            with self._lock:
                objectives = has_objective_columns(self._conn)
        except sqlite3.Error:
            objectives = False
        self._columns = _TRIAL_COLUMNS + (", trial_values, metrics, feasible" if objectives
                                          else "")

    # -- studies -----------------------------------------------------------------------------
    def get_study(self, name: str) -> dict[str, Any] | None:
        rows = self._read("SELECT id, name, direction, space, attrs, created FROM studies "
                          "WHERE name=?", (name,))
        if not rows:
            return None
        sid, name, direction, space, attrs, created = rows[0]
        try:
            return {"id": sid, "name": name, "direction": direction, "space": json.loads(space),
                    "attrs": json.loads(attrs), "created": created}
        except (ValueError, TypeError) as exc:
            raise self._damaged(f"study {name!r} cannot be decoded: {exc}") from None

    def create_study(self, name: str, direction: str, attrs: dict[str, Any],
                     space: dict[str, Any] | None = None) -> tuple[int, bool]:
        def get_or_create() -> tuple[int, bool]:
            inserted = self._conn.execute(
                "INSERT INTO studies (name, direction, space, attrs, created) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
                (name, direction, dumps_json(space or {}), dumps_json(attrs),
                 time.time())).rowcount
            (sid,) = self._conn.execute("SELECT id FROM studies WHERE name=?",
                                        (name,)).fetchone()
            return int(sid), inserted == 1
        return self._write(get_or_create, f"study {name!r}")

    def rename_study(self, name: str, new_name: str) -> None:
        def rename() -> None:
            if self._conn.execute("SELECT 1 FROM studies WHERE name=?", (new_name,)).fetchone():
                raise StorageError(f"A study named {new_name!r} already exists in "
                                   f"{self.path!r}; choose another name.")
            self._conn.execute("UPDATE studies SET name=? WHERE name=?", (new_name, name))
        self._write(rename, f"the new name of study {name!r}")

    def update_study(self, study_id: int, *, space: dict[str, Any] | None = None,
                     attrs: dict[str, Any] | None = None) -> None:
        def update() -> None:
            if space is not None:
                self._conn.execute("UPDATE studies SET space=? WHERE id=?",
                                   (dumps_json(space), study_id))
            if attrs is not None:
                self._conn.execute("UPDATE studies SET attrs=? WHERE id=?",
                                   (dumps_json(attrs), study_id))
        self._write(update, "the study's space and attributes")

    def change_attrs(self, study_id: int, change: Callable[[dict[str, Any]], _T], *,
                     space: dict[str, Any] | None = None) -> tuple[dict[str, Any], _T]:
        def apply(stored: str) -> tuple[dict[str, Any], _T, bool]:
            try:
                attrs = json.loads(stored)
            except (ValueError, TypeError) as exc:
                raise self._damaged(f"study {study_id} cannot be decoded: {exc}") from None
            before = dumps_json(attrs)
            result = change(attrs)
            return attrs, result, dumps_json(attrs) != before

        if space is None:
            # Most calls change nothing (an empty queue at every ask): read without taking
            # the write lock that other kernels' trials wait for.
            rows = self._read("SELECT attrs FROM studies WHERE id=?", (study_id,))
            if rows:
                attrs, result, changed = apply(rows[0][0])
                if not changed:
                    return attrs, result

        def read_modify_write() -> tuple[dict[str, Any], _T]:
            row = self._conn.execute("SELECT attrs FROM studies WHERE id=?",
                                     (study_id,)).fetchone()
            if row is None:
                raise StorageError(f"The study file {self.path!r} has no study with id "
                                   f"{study_id} any more. Open the study again by its name.")
            attrs, result, changed = apply(row[0])
            if changed:
                text = dumps_json(attrs)
                self._conn.execute("UPDATE studies SET attrs=? WHERE id=?", (text, study_id))
                attrs = json.loads(text)  # as stored: a tuple the edit put in is a list now
            if space is not None:
                self._conn.execute("UPDATE studies SET space=? WHERE id=?",
                                   (dumps_json(space), study_id))
            return attrs, result
        return self._write(read_modify_write, "the study's attributes")

    def __reduce__(self) -> tuple[Any, ...]:
        # A copy (pickle, deepcopy, another process) opens the same file on a connection of
        # its own, as a second kernel would.
        return _reopen, (self.path, self.timeout, self.write_patience, self._heartbeat_interval)

    def read_attrs(self, study_id: int) -> dict[str, Any]:
        rows = self._read("SELECT attrs FROM studies WHERE id=?", (study_id,))
        if not rows:
            raise StorageError(f"The study file {self.path!r} has no study with id "
                               f"{study_id} any more. Open the study again by its name.")
        text = rows[0][0]
        seen = self._attrs_seen.get(study_id)
        if seen is not None and seen[0] == text:
            return seen[1]  # unchanged since the last look: no decoding
        try:
            attrs = json.loads(text)
        except (ValueError, TypeError) as exc:
            raise self._damaged(f"study {study_id} cannot be decoded: {exc}") from None
        if not isinstance(attrs, dict):
            raise self._damaged(f"study {study_id} has attributes that are no JSON object")
        self._attrs_seen[study_id] = (text, attrs)
        return attrs

    def list_studies(self) -> list[dict[str, Any]]:
        best = f"t.state = 'complete'{self._feasible}"
        rows = self._read(f"""
            SELECT s.name, s.direction, s.created, COUNT(t.id), SUM(t.state = 'complete'),
                   MIN(CASE WHEN {best} THEN t.value END), MAX(CASE WHEN {best} THEN t.value END)
            FROM studies s LEFT JOIN trials t ON t.study_id = s.id GROUP BY s.id ORDER BY s.id""")
        return [{"name": n, "direction": d, "created": c, "n_trials": k, "n_complete": int(m or 0),
                 "best_value": lo if d == "minimize" else hi}
                for n, d, c, k, m, lo, hi in rows]

    @property
    def _feasible(self) -> str:
        """The SQL condition (after ``AND``) that a trial ``t`` is not marked infeasible."""
        return " AND t.feasible IS NOT 0" if "feasible" in self._columns else ""

    # -- trials ------------------------------------------------------------------------------
    def complete_values(self, study_id: int) -> list[tuple[int, list[float]]]:
        # Two columns of the complete trials, not every trial with its curves and output.
        values = "t.trial_values" if "trial_values" in self._columns else "NULL"
        rows = self._read(f"SELECT t.number, {values}, t.value FROM trials t WHERE "
                          f"t.study_id=? AND t.state = 'complete'{self._feasible} "
                          "ORDER BY t.number", (study_id,))
        # A trial of a version before several objectives has its one value only.
        rows = [(number, text if text is not None else f"[{value!r}]")
                for number, text, value in rows if text is not None or value is not None]
        try:  # one JSON array of them all: a tenth of the time of a json.loads per trial
            values = json.loads("[" + ",".join(text for _, text in rows) + "]")
        except ValueError as exc:
            raise self._damaged(f"trial values cannot be decoded: {exc}") from None
        return [(number, v) for (number, _), v in zip(rows, values)]

    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        owner = Owner.this_process()
        params = params_json(trial.params, trial.distributions)

        def insert() -> tuple[int, int]:
            (number,) = self._conn.execute(
                "SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id=?",
                (study_id,)).fetchone()
            cur = self._conn.execute(
                "INSERT INTO trials (study_id, number, state, params, started, manual, attrs, "
                "owner_host, owner_pid, owner_token, heartbeat) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (study_id, number, trial.state.value, params, trial.started, int(trial.manual),
                 dumps_json(trial.user_attrs), owner.host, owner.pid, owner.token, time.time()))
            return int(cur.lastrowid), int(number)
        trial_id, number = self._write(insert, "the new trial", self.write_patience)
        if trial.state is TrialState.RUNNING:
            self._heartbeat.add(trial_id, trial)
        return trial_id, number

    def set_params(self, trial: Trial) -> None:
        params = params_json(trial.params, trial.distributions)
        self._write(lambda: self._conn.execute(
            "UPDATE trials SET params=? WHERE id=?", (params, trial.trial_id)),
            "the parameters", self.write_patience, trial)

    def add_report(self, trial: Trial, step: int, value: float, *,
                   with_params: bool = False) -> None:
        params = params_json(trial.params, trial.distributions) if with_params else None

        def write() -> None:
            if params is not None:  # one transaction, not two, for a trial's first report
                self._conn.execute("UPDATE trials SET params=? WHERE id=?",
                                   (params, trial.trial_id))
            self._conn.execute("INSERT OR REPLACE INTO reports VALUES (?, ?, ?)",
                               (trial.trial_id, step, value if math.isfinite(value) else None))

        self._write(write, "a reported step", self.write_patience, trial)

    def add_metric_reports(self, trial: Trial, step: int, metrics: dict[str, float]) -> None:
        rows = [(trial.trial_id, name, step, v if math.isfinite(v) else None)
                for name, v in metrics.items()]
        self._write(lambda: self._conn.executemany(
            "INSERT OR REPLACE INTO metric_reports VALUES (?, ?, ?, ?)", rows),
            "a reported step", self.write_patience, trial)

    def finish_trial(self, trial: Trial) -> None:
        value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
        values = None if trial.values is None else dumps_json(trial.values)
        feasible = None if trial.feasible is None else int(trial.feasible)
        params = params_json(trial.params, trial.distributions)
        self._write(lambda: self._conn.execute(
            "UPDATE trials SET state=?, value=?, params=?, finished=?, error=?, traceback=?, "
            "output=?, manual=?, attrs=?, trial_values=?, metrics=?, feasible=? WHERE id=?",
            (trial.state.value, value, params, trial.finished, trial.error,
             trial.traceback, trial.output, int(trial.manual), dumps_json(trial.user_attrs),
             values, dumps_json(trial.metrics), feasible, trial.trial_id)),
            "the result", self.write_patience, trial)
        # Only once written: a trial whose result the file refused still beats, so that
        # other kernels do not take it for an orphan while this one can still finish it.
        self._heartbeat.discard(trial.trial_id)

    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        rows = self._read(f"SELECT {self._columns} FROM trials WHERE study_id=? "
                          "ORDER BY number", (study_id,))
        metric_points = self._read(
            "SELECT r.trial_id, r.name, r.step, r.value FROM metric_reports r JOIN trials t "
            "ON t.id = r.trial_id WHERE t.study_id=? ORDER BY r.step", (study_id,)) \
            if "trial_values" in self._columns else []
        return self._trials(rows, self._read(
            "SELECT r.trial_id, r.step, r.value FROM reports r JOIN trials t "
            "ON t.id = r.trial_id WHERE t.study_id=? ORDER BY r.step", (study_id,)), space,
            metric_points)

    def _trials(self, rows: list[tuple], points: list[tuple],
                space: dict[str, Distribution], metric_points: list[tuple] = ()) -> list[Trial]:
        curves: dict[int, dict[int, float]] = {}
        for tid, step, value in points:
            curves.setdefault(tid, {})[step] = float("nan") if value is None else value
        named: dict[int, dict[str, dict[int, float]]] = {}
        for tid, name, step, value in metric_points:
            named.setdefault(tid, {}).setdefault(name, {})[step] = \
                float("nan") if value is None else value
        trials = []
        for (tid, num, state, value, params, started, finished, err, tb, out, manual, attrs,
             *scores) in rows:
            try:
                p = params_from_json(params, space)
                values, metrics, feasible = scores or (None, None, None)
                trials.append(Trial(
                    num, params=p, distributions={k: space[k] for k in p if k in space},
                    state=TrialState(state), value=value, intermediate=curves.get(tid, {}),
                    started=started, finished=finished, error=err, traceback=tb,
                    output=out or "", manual=bool(manual), user_attrs=json.loads(attrs),
                    trial_id=tid, values=None if values is None else json.loads(values),
                    metrics=None if metrics is None else json.loads(metrics),
                    feasible=None if feasible is None else bool(feasible),
                    intermediate_metrics=named.get(tid)))
            except (ValueError, TypeError) as exc:
                raise self._damaged(f"trial {num} cannot be decoded: {exc}") from None
        return trials

    def recover_orphans(self, study_id: int, grace: float = 60.0) -> list[Trial]:
        """Mark ``interrupted`` every running trial of the study whose kernel is gone.

        A kernel on this host is gone when its process is (a pid reused by another process
        counts as gone); one on another host when its heartbeat is older than ``grace``
        seconds. Trials of live kernels, this one included, and trials written by versions
        that did not record their owner are left alone; so is a read-only or damaged file.

        Returns
        -------
        list of Trial
            The marked trials, with their parameters and curves (without distributions),
            ``state`` interrupted and ``error`` saying which kernel died.
        """
        if self._refusal is not None:
            return []
        rows = self._read(
            f"SELECT {self._columns}, owner_host, owner_pid, owner_token, heartbeat FROM trials "
            "WHERE study_id=? AND state='running' AND owner_token IS NOT NULL ORDER BY number",
            (study_id,))
        gone = []
        for *row, host, pid, token, heartbeat in rows:
            why = Owner(host, pid, token).death(heartbeat, grace)
            if why is not None:
                gone.append((tuple(row), token, f"its kernel (pid {pid} on host {host}) {why}"))
        if not gone:
            return []
        now = time.time()

        def mark() -> list[tuple]:
            # Only if still running under that owner: another kernel may have recovered or
            # finished it meanwhile.
            return [row[:2] + ("interrupted",) + row[3:6] + (now, why) + row[8:]
                    for row, token, why in gone
                    if self._conn.execute(
                        "UPDATE trials SET state='interrupted', finished=?, error=? WHERE id=? "
                        "AND state='running' AND owner_token=?",
                        (now, why, row[0], token)).rowcount]
        marked = self._write(mark, "the interrupted trials")
        ids = [row[0] for row in marked]
        return self._trials(marked, self._read(
            f"SELECT trial_id, step, value FROM reports WHERE trial_id IN "
            f"({','.join('?' * len(ids))}) ORDER BY step", tuple(ids)), {})

    def close(self) -> None:
        """Stop the heartbeat and close the file; later use raises :class:`StorageError`."""
        with self._lock:
            if not self._closed:
                self._heartbeat.stop()
            super().close()

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"


def _reopen(path: str, timeout: float, write_patience: float,
            heartbeat_interval: float) -> SQLiteStorage:
    """The storage of a pickled one: the same file, which must still be there (a new empty
    one would take the copy's trials while its study is nowhere)."""
    if not os.path.isfile(path):
        raise StorageError(f"The study file {path!r} of this pickled storage is gone (moved or "
                           "deleted). Put it back, or open the study from where it is now with "
                           "load_study(name, storage=path).")
    return SQLiteStorage(path, timeout=timeout, write_patience=write_patience,
                         heartbeat_interval=heartbeat_interval)
