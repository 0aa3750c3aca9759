"""An SQLite study file held open by one storage: opening it, the state it is in, and the
transactions that read and write it.

:class:`SQLiteFile` opens the file (created when missing; a read-only file for reading only; a
damaged one through a copy of what is still readable in it), keeps why writes are refused, and
runs every statement under one lock: writes in one immediate transaction each, retried with
backoff while another process holds the lock. :class:`SQLiteStorage` builds the study and trial
operations on top of it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from typing import TypeVar

from ..exceptions import StorageError
from ..trial import Trial
from ._sqlite import (
    connect_reader,
    damaged_error,
    disk_full,
    init_schema,
    inspect,
    is_busy,
    read_only_error,
    read_only_reason,
    user_error,
)

__all__ = ["SQLiteFile"]

_T = TypeVar("_T")

# The longest wait inside SQLite's own busy handler; the retry loop around it decides when to
# give up, because SQLite answers some lock clashes (two connections upgrading at once) at once.
_BUSY_SLICE = 1.0


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


class SQLiteFile:
    """An open study file: its connection, why writes are refused, and the transactions.

    ``path`` and ``timeout`` are :class:`~hpt_magic.study._sqlite_storage.SQLiteStorage`'s
    (``timeout``: the patience of every write that asks for no other).
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._lock = threading.RLock()
        self._closed = False
        if os.path.isdir(self.path):
            raise StorageError(f"The study storage {self.path!r} is a folder. Give a file path, "
                               "e.g. --storage studies.db.")
        exists = os.path.isfile(self.path) and os.path.getsize(self.path) > 0
        self._read_only = read_only_reason(self.path)
        if self._read_only is not None and not exists:
            raise StorageError(
                f"There is no study file at {self.path!r} and it cannot be created there "
                f"({self._read_only}). Pass --storage a file in a folder you can write to.")
        damage = inspect(self.path, check=self._read_only is None) if exists else None
        # Why writes are refused (read-only, damaged, closed); None while they are allowed.
        self._refusal: str | None = None
        if self._read_only is not None:
            self._refusal = str(read_only_error(self.path, self._read_only))
        elif damage is not None:
            self._refusal = str(damaged_error(self.path, damage))
        #: A damaged file is read through a copy of what is still readable in it (see close).
        self._copy_dir: str | None = None
        if damage is not None:
            self._conn = self._read_salvaged()
        elif self._refusal is not None:
            self._conn = connect_reader(self.path)
        else:
            try:
                self._conn = sqlite3.connect(self.path, timeout=min(timeout, _BUSY_SLICE),
                                             isolation_level=None, check_same_thread=False)
            except sqlite3.Error as exc:
                raise user_error(exc, self.path) from None
            try:
                self._retry(self._prepare, "the study tables could not be set up", timeout)
            except BaseException:
                self._conn.close()
                raise
        self._file = _file_id(self.path)

    def _read_salvaged(self) -> sqlite3.Connection:
        """A reader of the rows still readable in this damaged file, copied into a temporary
        file: a damaged index would otherwise hide rows that are intact (a study read as
        empty). Warns once that the file is damaged and how to copy it for good."""
        from ._salvage import salvage

        # Past this method, the two __init__ (this class's and the storage's), and the code
        # that constructs the storage, to the code that asked for the file.
        warnings.warn(self._refusal, stacklevel=5)
        self._copy_dir = tempfile.mkdtemp(prefix="hpt-magic-damaged-")
        # Gone with the storage, or at the latest when the process ends (a kernel rarely
        # closes the storages it keeps open).
        self._remove_copy = weakref.finalize(self, shutil.rmtree, self._copy_dir, True)
        copy = os.path.join(self._copy_dir, "readable.db")
        try:
            salvage(self.path, copy)
        except StorageError:  # nothing readable: SQLite reads the file as far as it can
            return connect_reader(self.path)
        except BaseException:
            self._remove_copy()
            raise
        return connect_reader(copy)

    def _prepare(self) -> None:
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._transaction(lambda: init_schema(self._conn, self.path))

    # -- the state of the file ---------------------------------------------------------------
    @property
    def writable(self) -> bool:
        """Whether trials can be written (not read-only, damaged or closed)."""
        return self._refusal is None

    @property
    def closed(self) -> bool:
        return self._closed

    def is_current(self) -> bool:
        """Whether this storage is open, its path still names the file it opened, and a
        read-only file is still read-only (otherwise open the path afresh)."""
        return (not self._closed and _file_id(self.path) == self._file
                and (self._read_only is None or read_only_reason(self.path) is not None))

    # -- transactions ------------------------------------------------------------------------
    def _retry(self, op: Callable[[], _T], what: str, patience: float,
               exc: sqlite3.Error | None = None) -> _T:
        """Run ``op``; while another process holds the lock, try again with backoff for up to
        ``patience`` seconds. Every other error of the file becomes a :class:`StorageError`.

        ``what`` says what was lost when the lock outlasts ``patience``; ``exc`` is the error
        of a first attempt already made.
        """
        start = time.monotonic()
        delay = 0.01
        while True:
            if exc is not None:
                if self._closed:
                    raise StorageError(self._refusal) from None
                if not isinstance(exc, sqlite3.DatabaseError):
                    raise exc  # misuse of sqlite3 (a bug here), not a problem of the file
                if not is_busy(exc):
                    error = user_error(exc, self.path)
                    if not disk_full(exc):
                        self._refusal = str(error)
                    raise error from None
                waited = time.monotonic() - start
                if waited >= patience:
                    raise StorageError(
                        f"The study file {self.path!r} stayed locked by another process for "
                        f"{waited:.1f} s ({exc}), so {what}. Wait for the other writer to "
                        "finish, or use another --storage file.") from None
                time.sleep(min(delay, patience - waited))
                delay = min(2 * delay, 0.5)
            try:
                return op()
            except sqlite3.Error as error:
                exc = error

    def _transaction(self, fn: Callable[[], _T]) -> _T:
        conn = self._conn
        if conn.in_transaction:
            # Left open by an interrupt that landed between BEGIN and the try below: what it
            # held was never committed, and the file must not be taken for a damaged one.
            conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        try:
            out = fn()
            conn.execute("COMMIT")
            return out
        except BaseException:
            if conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise

    def _write(self, fn: Callable[[], _T], what: str = "the change",
               patience: float | None = None, trial: Trial | None = None) -> _T:
        """Run ``fn`` in one immediate transaction, retried while the file is locked.

        ``what`` (``... of trial <number>`` when ``trial`` is given) names the change in the
        error when it cannot be written.
        """
        if self._refusal is not None:
            raise StorageError(self._refusal)
        with self._lock:
            try:
                return self._transaction(fn)
            except sqlite3.Error as exc:
                first = exc
            if trial is not None:
                what = f"{what} of trial {trial.number}"
            return self._retry(lambda: self._transaction(fn),
                               f"{what} could not be written and is not in the file",
                               self.timeout if patience is None else patience, first)

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:  # the first attempt directly, as _write does: the retry loop once refused
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                first = exc
            return self._retry(lambda: self._conn.execute(sql, args).fetchall(),
                               "the studies could not be read", self.timeout, first)

    def _damaged(self, detail: str) -> StorageError:
        """The error saying the file is damaged (``detail``: what was found); writes are
        refused from now on."""
        error = damaged_error(self.path, detail)
        self._refusal = str(error)
        return error

    def close(self) -> None:
        """Close the file; later use raises :class:`StorageError`."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._refusal = (
                f"The study storage of {self.path!r} was closed. Open the file again, e.g. "
                f"Study(name, storage={self.path!r}) or load_study(name, {self.path!r}).")
            self._conn.close()
            if self._copy_dir is not None:
                self._remove_copy()
