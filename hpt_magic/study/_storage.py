"""Where studies live: in memory, or in an SQLite file (standard library ``sqlite3``, WAL mode).

Every trial start, reported point and finish is committed as it happens, so a crash loses at
most the running trial.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..distributions import Distribution, from_json
from ..exceptions import StorageError
from ..trial import Trial, TrialState

__all__ = ["Storage", "InMemoryStorage", "SQLiteStorage", "make_storage", "DEFAULT_STORAGE"]

DEFAULT_STORAGE = "hpt_studies.db"
_SCHEMA_VERSION = "1"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=_plain)


class Storage(ABC):
    """What a study needs from a storage. Records are plain dicts and :class:`Trial` objects."""

    @abstractmethod
    def get_study(self, name: str) -> dict[str, Any] | None:
        """The stored record of study ``name``, or ``None``."""

    @abstractmethod
    def create_study(self, name: str, direction: str, attrs: dict[str, Any]) -> int:
        """Store a new study; return its id."""

    @abstractmethod
    def rename_study(self, name: str, new_name: str) -> None:
        """Give study ``name`` the name ``new_name``."""

    @abstractmethod
    def update_study(self, study_id: int, *, space: dict[str, Any] | None = None,
                     attrs: dict[str, Any] | None = None) -> None:
        """Replace the stored space and/or attributes of a study."""

    @abstractmethod
    def list_studies(self) -> list[dict[str, Any]]:
        """A summary row per stored study."""

    @abstractmethod
    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        """Store a new trial; return ``(trial_id, number)``, the number assigned atomically."""

    @abstractmethod
    def set_params(self, trial: Trial) -> None:
        """Store the trial's parameters so far."""

    @abstractmethod
    def add_report(self, trial: Trial, step: int, value: float) -> None:
        """Store one reported point of the trial's curve."""

    @abstractmethod
    def finish_trial(self, trial: Trial) -> None:
        """Store the trial's final state, score, output and error."""

    @abstractmethod
    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        """Every trial of the study, in order of number."""

    @abstractmethod
    def close(self) -> None:
        """Release files and connections."""


class InMemoryStorage(Storage):
    """Studies kept in this process only (the default of the Python API)."""

    def __init__(self) -> None:
        self._studies: dict[str, dict[str, Any]] = {}
        self._trials: dict[int, list[Trial]] = {}
        self._lock = threading.Lock()

    def get_study(self, name: str) -> dict[str, Any] | None:
        rec = self._studies.get(name)
        return None if rec is None else dict(rec)

    def create_study(self, name: str, direction: str, attrs: dict[str, Any]) -> int:
        with self._lock:
            if name in self._studies:
                raise StorageError(f"A study named {name!r} already exists in memory.")
            sid = len(self._trials) + 1
            self._studies[name] = {"id": sid, "name": name, "direction": direction, "space": {},
                                   "attrs": dict(attrs), "created": time.time()}
            self._trials[sid] = []
            return sid

    def rename_study(self, name: str, new_name: str) -> None:
        with self._lock:
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

    def list_studies(self) -> list[dict[str, Any]]:
        return [_summary(rec, self._trials[rec["id"]]) for rec in self._studies.values()]

    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        with self._lock:
            trials = self._trials[study_id]
            trials.append(trial)
            return id(trial), len(trials) - 1

    def set_params(self, trial: Trial) -> None:
        pass

    def add_report(self, trial: Trial, step: int, value: float) -> None:
        pass

    def finish_trial(self, trial: Trial) -> None:
        pass

    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        return list(self._trials[study_id])

    def close(self) -> None:
        """Nothing to release: the studies live in this object."""


def _summary(rec: dict[str, Any], trials: list[Trial]) -> dict[str, Any]:
    done = [t.value for t in trials if t.state is TrialState.COMPLETE and t.value is not None]
    best = (min(done) if rec["direction"] == "minimize" else max(done)) if done else None
    return {"name": rec["name"], "direction": rec["direction"], "n_trials": len(trials),
            "n_complete": len(done), "best_value": best, "created": rec.get("created")}


_TABLES = """
CREATE TABLE IF NOT EXISTS hpt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, direction TEXT NOT NULL,
    space TEXT NOT NULL DEFAULT '{}', attrs TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL, value REAL, params TEXT NOT NULL DEFAULT '{}', started REAL,
    finished REAL, error TEXT, traceback TEXT, output TEXT NOT NULL DEFAULT '',
    manual INTEGER NOT NULL DEFAULT 0, attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number));
CREATE TABLE IF NOT EXISTS reports (
    trial_id INTEGER NOT NULL REFERENCES trials(id), step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (trial_id, step));
"""


class SQLiteStorage(Storage):
    """Studies in an SQLite file, shared safely by several kernels.

    Parameters
    ----------
    path : str or os.PathLike
        The file; created when missing. A file that is not a study database is refused and
        never overwritten.
    timeout : float
        Seconds to wait for a file locked by another writer before giving up with a clear error.
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 10.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        if os.path.isdir(self.path):
            raise StorageError(f"The study storage {self.path!r} is a folder. Give a file path, "
                               "e.g. --storage studies.db.")
        existed = os.path.exists(self.path) and os.path.getsize(self.path) > 0
        try:
            self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                         check_same_thread=False)
            tables = {r[0] for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise StorageError(
                f"{self.path!r} is not a study database ({exc}). hpt_magic will not touch it. "
                "Pick another file with --storage, or move this one away.") from None
        if existed and tables and "hpt_meta" not in tables:
            self._conn.close()
            raise StorageError(
                f"{self.path!r} is an SQLite database of another program (tables: "
                f"{', '.join(sorted(tables))}). hpt_magic will not write into it. Pick another "
                "file with --storage.")
        self._execute_script()

    def _execute_script(self) -> None:
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.OperationalError as exc:
            raise self._locked(exc) from None

        def init() -> None:
            for statement in _TABLES.split(";"):
                if statement.strip():
                    self._conn.execute(statement)
            self._conn.execute("INSERT OR IGNORE INTO hpt_meta VALUES ('schema', ?)",
                               (_SCHEMA_VERSION,))
        self._write(init)
        row = self._conn.execute("SELECT value FROM hpt_meta WHERE key='schema'").fetchone()
        if row is None or row[0] != _SCHEMA_VERSION:
            raise StorageError(
                f"{self.path!r} holds studies in schema version {row and row[0]!r}, this "
                f"hpt_magic reads version {_SCHEMA_VERSION}. Upgrade hpt_magic or use another "
                "file.")

    def _write(self, fn, *args: Any) -> Any:
        """Run ``fn`` in one immediate transaction; turn a lock timeout into a clear error."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._locked(exc) from None
            try:
                out = fn(*args)
                self._conn.execute("COMMIT")
                return out
            except BaseException as exc:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                    raise self._locked(exc) from None
                if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                        exc, sqlite3.IntegrityError):
                    raise StorageError(f"The study file {self.path!r} is damaged or unreadable "
                                       f"({exc}). Use another file with --storage.") from None
                raise

    def _locked(self, exc: Exception) -> StorageError:
        return StorageError(
            f"The study file {self.path!r} stayed locked by another process for {self.timeout:g} "
            f"s ({exc}). Wait for the other writer to finish, or use another --storage file.")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    raise self._locked(exc) from None
                raise

    def get_study(self, name: str) -> dict[str, Any] | None:
        rows = self._read("SELECT id, name, direction, space, attrs, created FROM studies "
                          "WHERE name=?", (name,))
        if not rows:
            return None
        sid, name, direction, space, attrs, created = rows[0]
        return {"id": sid, "name": name, "direction": direction, "space": json.loads(space),
                "attrs": json.loads(attrs), "created": created}

    def create_study(self, name: str, direction: str, attrs: dict[str, Any]) -> int:
        def insert() -> int:
            cur = self._conn.execute(
                "INSERT INTO studies (name, direction, attrs, created) VALUES (?, ?, ?, ?)",
                (name, direction, _dumps(attrs), time.time()))
            return int(cur.lastrowid)
        try:
            return self._write(insert)
        except sqlite3.IntegrityError:
            raise StorageError(f"A study named {name!r} already exists in {self.path!r}.") from None

    def rename_study(self, name: str, new_name: str) -> None:
        self._write(lambda: self._conn.execute("UPDATE studies SET name=? WHERE name=?",
                                               (new_name, name)))

    def update_study(self, study_id: int, *, space: dict[str, Any] | None = None,
                     attrs: dict[str, Any] | None = None) -> None:
        def update() -> None:
            if space is not None:
                self._conn.execute("UPDATE studies SET space=? WHERE id=?",
                                   (_dumps(space), study_id))
            if attrs is not None:
                self._conn.execute("UPDATE studies SET attrs=? WHERE id=?",
                                   (_dumps(attrs), study_id))
        self._write(update)

    def list_studies(self) -> list[dict[str, Any]]:
        rows = self._read("""
            SELECT s.name, s.direction, s.created, COUNT(t.id),
                   SUM(t.state = 'complete'), MIN(CASE WHEN t.state='complete' THEN t.value END),
                   MAX(CASE WHEN t.state='complete' THEN t.value END)
            FROM studies s LEFT JOIN trials t ON t.study_id = s.id GROUP BY s.id ORDER BY s.id""")
        return [{"name": n, "direction": d, "created": c, "n_trials": k, "n_complete": int(m or 0),
                 "best_value": lo if d == "minimize" else hi}
                for n, d, c, k, m, lo, hi in rows]

    def new_trial(self, study_id: int, trial: Trial) -> tuple[int, int]:
        def insert() -> tuple[int, int]:
            (number,) = self._conn.execute(
                "SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id=?",
                (study_id,)).fetchone()
            cur = self._conn.execute(
                "INSERT INTO trials (study_id, number, state, params, started, manual, attrs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (study_id, number, trial.state.value, _dumps(trial.params), trial.started,
                 int(trial.manual), _dumps(trial.user_attrs)))
            return int(cur.lastrowid), int(number)
        return self._write(insert)

    def set_params(self, trial: Trial) -> None:
        self._write(lambda: self._conn.execute(
            "UPDATE trials SET params=? WHERE id=?", (_dumps(trial.params), trial.trial_id)))

    def add_report(self, trial: Trial, step: int, value: float) -> None:
        self._write(lambda: self._conn.execute(
            "INSERT OR REPLACE INTO reports VALUES (?, ?, ?)",
            (trial.trial_id, step, value if math.isfinite(value) else None)))

    def finish_trial(self, trial: Trial) -> None:
        value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
        self._write(lambda: self._conn.execute(
            "UPDATE trials SET state=?, value=?, params=?, finished=?, error=?, traceback=?, "
            "output=?, manual=?, attrs=? WHERE id=?",
            (trial.state.value, value, _dumps(trial.params), trial.finished, trial.error,
             trial.traceback, trial.output, int(trial.manual), _dumps(trial.user_attrs),
             trial.trial_id)))

    def load_trials(self, study_id: int, space: dict[str, Distribution]) -> list[Trial]:
        rows = self._read(
            "SELECT id, number, state, value, params, started, finished, error, traceback, "
            "output, manual, attrs FROM trials WHERE study_id=? ORDER BY number", (study_id,))
        curves: dict[int, dict[int, float]] = {}
        for tid, step, value in self._read(
                "SELECT r.trial_id, r.step, r.value FROM reports r JOIN trials t "
                "ON t.id = r.trial_id WHERE t.study_id=? ORDER BY r.step", (study_id,)):
            curves.setdefault(tid, {})[step] = float("nan") if value is None else value
        trials = []
        for tid, num, state, value, params, started, finished, err, tb, out, manual, attrs in rows:
            p = json.loads(params)
            trials.append(Trial(
                num, params=p, distributions={k: space[k] for k in p if k in space},
                state=TrialState(state), value=value, intermediate=curves.get(tid, {}),
                started=started, finished=finished, error=err, traceback=tb, output=out or "",
                manual=bool(manual), user_attrs=json.loads(attrs), trial_id=tid))
        return trials

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r})"


_OPEN: dict[str, SQLiteStorage] = {}


def make_storage(storage: str | os.PathLike | Storage | None) -> Storage:
    """``None`` -> in memory; a path -> the (shared, per-process) SQLite storage of that file."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise StorageError(f"storage must be a file path or a Storage, got {storage!r}.")
    path = os.path.abspath(os.fspath(storage))
    if path not in _OPEN:
        _OPEN[path] = SQLiteStorage(path)
    return _OPEN[path]


def space_to_json(space: dict[str, Distribution]) -> dict[str, Any]:
    return {k: d.to_json() for k, d in space.items()}


def space_from_json(data: dict[str, Any]) -> dict[str, Distribution]:
    return {k: from_json(v) for k, v in data.items()}
