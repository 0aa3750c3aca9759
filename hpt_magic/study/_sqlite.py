"""The SQLite file under a study storage: its tables, how it is checked and opened without
being touched, and what its errors mean to a user.

Format bookkeeping lives in the ``hpt_meta`` table: ``schema`` is the format every reader of
the same major version understands (``"1"``: a newer one is refused), ``revision`` counts the
additive changes made since, which older readers simply ignore (2: trial owner and heartbeat;
3: the values, metrics and feasibility of multi-objective trials, and curves of named metrics).
A file of an older revision is upgraded in place when it is opened for writing.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse

from ..exceptions import StorageError

__all__ = ["SCHEMA_VERSION", "SCHEMA_REVISION", "OBJECTIVE_COLUMNS", "has_objective_columns",
           "check_format", "init_schema",
           "read_only_reason", "connect_reader", "inspect", "is_busy", "disk_full", "user_error",
           "damaged_error", "read_only_error", "salvage_name"]

SCHEMA_VERSION = "1"
SCHEMA_REVISION = 3

_TABLES = (
    "CREATE TABLE IF NOT EXISTS hpt_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, direction TEXT NOT NULL,
    space TEXT NOT NULL DEFAULT '{}', attrs TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY, study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    state TEXT NOT NULL, value REAL, params TEXT NOT NULL DEFAULT '{}', started REAL,
    finished REAL, error TEXT, traceback TEXT, output TEXT NOT NULL DEFAULT '',
    manual INTEGER NOT NULL DEFAULT 0, attrs TEXT NOT NULL DEFAULT '{}',
    UNIQUE (study_id, number))""",
    """CREATE TABLE IF NOT EXISTS reports (
    trial_id INTEGER NOT NULL REFERENCES trials(id), step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (trial_id, step))""",
    # Revision 3: the curves of metrics reported together (tune.report({...}, step)).
    """CREATE TABLE IF NOT EXISTS metric_reports (
    trial_id INTEGER NOT NULL REFERENCES trials(id), name TEXT NOT NULL, step INTEGER NOT NULL,
    value REAL, PRIMARY KEY (trial_id, name, step))""",
)
# Revision 2: who runs a trial and when it last showed it was alive (see _heartbeat.py).
_OWNER_COLUMNS = {"owner_host": "TEXT", "owner_pid": "INTEGER", "owner_token": "TEXT",
                  "heartbeat": "REAL"}
# Revision 3: one value per objective and every number a trial returned (JSON), and whether it
# met the study's constraints. The `value` column keeps the first objective for older readers.
OBJECTIVE_COLUMNS = {"trial_values": "TEXT", "metrics": "TEXT", "feasible": "INTEGER"}

_BUSY, _LOCKED, _READONLY, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 13, 14, 26


def error_code(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of ``exc`` (guessed from the text before Python 3.11)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF
    text = str(exc)
    for words, guess in (("locked", _BUSY), ("busy", _BUSY), ("readonly", _READONLY),
                         ("full", _FULL), ("not a database", _NOTADB)):
        if words in text:
            return guess
    return None


def is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` means "another connection holds the lock" (SQLITE_BUSY or _LOCKED)."""
    return error_code(exc) in (_BUSY, _LOCKED)


def check_format(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a database of another program, or one in a newer format than this hpt_magic's."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if tables and "hpt_meta" not in tables:
        raise StorageError(
            f"{path!r} is an SQLite database of another program (tables: "
            f"{', '.join(sorted(tables))}). hpt_magic will not write into it. Pick another "
            "file with --storage.")
    row = conn.execute("SELECT value FROM hpt_meta WHERE key='schema'").fetchone() if tables \
        else None
    if row is not None and row[0] != SCHEMA_VERSION:
        raise StorageError(
            f"{path!r} holds studies in schema version {row[0]!r}, this hpt_magic reads version "
            f"{SCHEMA_VERSION}. Upgrade hpt_magic or use another file.")


def init_schema(conn: sqlite3.Connection, path: str) -> None:
    """Create the tables and upgrade an older revision in place; idempotent, so two processes
    creating one new file at once both succeed (call inside one write transaction)."""
    check_format(conn, path)
    for statement in _TABLES:
        conn.execute(statement)
    have = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    for name, kind in {**_OWNER_COLUMNS, **OBJECTIVE_COLUMNS}.items():
        if name not in have:
            conn.execute(f"ALTER TABLE trials ADD COLUMN {name} {kind}")
    conn.execute("INSERT OR IGNORE INTO hpt_meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
    conn.execute("INSERT INTO hpt_meta VALUES ('revision', ?) ON CONFLICT (key) DO UPDATE "
                 "SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
                 (str(SCHEMA_REVISION), SCHEMA_REVISION))


def has_objective_columns(conn: sqlite3.Connection) -> bool:
    """Whether the file has revision 3's columns and table (a read-only file of an older
    revision is read without them)."""
    have = {row[1] for row in conn.execute("PRAGMA table_info(trials)")}
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return set(OBJECTIVE_COLUMNS) <= have and "metric_reports" in tables


def read_only_reason(path: str) -> str | None:
    """Why ``path`` cannot be written here (``None`` when it can).

    ``os.access`` answers for this user and also for a read-only mount, where even root cannot
    write. SQLite needs the folder too, for the ``-wal`` and ``-shm`` files beside the study file.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return f"its folder {folder!r} does not exist"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(folder, os.W_OK):
        return f"its folder {folder!r} is read-only"
    return None


def _reader_uri(path: str) -> str:
    # A read-only connection to a WAL file creates -wal and -shm when they are missing;
    # immutable=1 reads the file alone, which is all there is when no -wal lies beside it.
    both = os.path.exists(path + "-wal") and os.path.exists(path + "-shm")
    quoted = urllib.parse.quote(os.path.abspath(path))
    return f"file:{quoted}?mode=ro" + ("" if both else "&immutable=1")


def connect_reader(path: str) -> sqlite3.Connection:
    """A connection that only reads ``path`` and creates nothing beside it."""
    return sqlite3.connect(_reader_uri(path), uri=True, isolation_level=None,
                           check_same_thread=False)


def _stamp(path: str) -> tuple:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns, os.path.exists(path + "-wal")


def inspect(path: str, *, check: bool) -> str | None:
    """Look at an existing study file without changing anything beside it.

    Raise :class:`StorageError` when it is not a study database of this format; return what
    ``PRAGMA quick_check`` found wrong (when ``check``), or ``None``.
    """
    for _ in range(3):
        stamp = _stamp(path)
        not_a_database = None
        try:
            conn = connect_reader(path)
            try:
                check_format(conn, path)
                found = [r[0] for r in conn.execute("PRAGMA quick_check")] if check else ["ok"]
            finally:
                conn.close()
            problem = None if found == ["ok"] else "\n".join(found)
        except sqlite3.DatabaseError as exc:
            problem = str(exc)
            not_a_database = exc if error_code(exc) == _NOTADB else None
        if problem is None:
            return None
        # A reader without locks may see a page half written by a checkpoint of another
        # kernel: only a problem seen while the file stood still counts.
        if _stamp(path) == stamp:
            break
    if not_a_database is not None:
        raise user_error(not_a_database, path)
    return problem


def salvage_name(path: str) -> str:
    stem, ext = os.path.splitext(path)
    return f"{stem}-salvaged{ext or '.db'}"


def damaged_error(path: str, detail: str) -> StorageError:
    copy = salvage_name(path)
    # quick_check starts its report with a "*** in database main ***" banner.
    first = next((line for line in detail.splitlines() if not line.startswith("***")), detail)
    return StorageError(
        f"The study file {path!r} is damaged ({first or 'unreadable'}). hpt_magic reads what it "
        "can from it but will not write new trials into it. Copy the studies and trials that "
        f"are still readable into a new file with hpt_magic.salvage({path!r}, {copy!r}) and "
        f"continue with --storage {copy}; keep the damaged file until you have checked the "
        "copy.")


def read_only_error(path: str, reason: str) -> StorageError:
    return StorageError(
        f"The study file {path!r} is read-only here ({reason}), so new trials cannot be written "
        "there; it is open for analysis only (load_study, list_studies, plots). To run trials, "
        "copy the file somewhere you can write and pass the copy with --storage, or pass another "
        "--storage file.")


def disk_full(exc: sqlite3.Error) -> bool:
    return error_code(exc) == _FULL


def user_error(exc: sqlite3.Error, path: str) -> StorageError:
    """The paragraph a user sees for an SQLite error that is not a lock held by another writer."""
    code = error_code(exc)
    if code == _READONLY:
        return read_only_error(path, f"the system refused to write: {exc}")
    if code == _FULL:
        return StorageError(
            f"The disk holding the study file {path!r} is full ({exc}). Free some space and run "
            "again, or pass --storage a file on another disk.")
    if code == _CANTOPEN:
        return StorageError(
            f"The study file {path!r} cannot be opened ({exc}). Check that its folder exists "
            "and that you may read it, or pass another --storage file.")
    if code == _NOTADB:
        return StorageError(
            f"{path!r} is not a study database ({exc}). hpt_magic will not touch it. Check "
            "the path; to store studies, pick another file with --storage or move this one "
            "away.")
    return damaged_error(path, str(exc))
