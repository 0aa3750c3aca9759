"""Copy what is still readable out of a damaged study file into a new one."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator

from ..exceptions import StorageError
from ._sqlite import check_format, connect_reader, init_schema, read_only_reason, user_error

__all__ = ["salvage"]

_COLUMNS = {
    "studies": ("id", "name", "direction", "space", "attrs", "created"),
    "trials": ("id", "study_id", "number", "state", "value", "params", "started", "finished",
               "error", "traceback", "output", "manual", "attrs", "owner_host", "owner_pid",
               "owner_token", "heartbeat", "trial_values", "metrics", "feasible"),
    "reports": ("trial_id", "step", "value"),
    "metric_reports": ("trial_id", "name", "step", "value"),
}
# Text columns that must decode as JSON (when set) for a row to be worth keeping.
_JSON = {"studies": ("space", "attrs"), "trials": ("params", "attrs", "trial_values", "metrics"),
         "reports": (), "metric_reports": ()}


def salvage(src: str | os.PathLike, dst: str | os.PathLike) -> dict[str, int]:
    """Copy the studies, trials and curves still readable in study file ``src`` into the new
    study file ``dst``; ``src`` is only read.

    Rows on damaged pages (or whose text no longer decodes) are skipped. Trials whose study
    record was lost are kept in a study named ``salvaged-<id>`` (direction ``minimize``: set
    the right one when you load it).

    Parameters
    ----------
    src : str or os.PathLike
        The damaged file.
    dst : str or os.PathLike
        Where to write the copy; must not exist yet (nothing is ever overwritten).

    Returns
    -------
    dict
        ``studies``, ``trials``, ``reports``: how many were saved; ``studies_lost``,
        ``trials_lost``: how many records could not be read (counted from the gaps in their
        ids, which hpt_magic never deletes; damage at the very end of a table is not counted).

    Examples
    --------
    >>> import hpt_magic, os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> study = hpt_magic.Study(space={"x": hpt_magic.Float(0, 1)}, name="a",
    ...                         storage=os.path.join(folder, "s.db"))
    >>> study.optimize(lambda t: t.params["x"], n_trials=3)
    >>> hpt_magic.salvage(os.path.join(folder, "s.db"), os.path.join(folder, "copy.db"))
    {'studies': 1, 'trials': 3, 'reports': 0, 'studies_lost': 0, 'trials_lost': 0}
    """
    src, dst = os.fspath(src), os.fspath(dst)
    if not os.path.isfile(src):
        raise StorageError(f"There is no study file at {src!r} to salvage. Check the path.")
    if os.path.exists(dst) and os.path.getsize(dst) > 0:
        raise StorageError(f"{dst!r} already exists; salvage writes a new file and never "
                           "overwrites one. Give a path that does not exist yet.")
    cannot = read_only_reason(dst)
    if cannot is not None:
        raise StorageError(f"The salvaged copy cannot be written to {dst!r} ({cannot}). Give a "
                           "path in a folder you can write to.")
    try:
        reader = connect_reader(src)
        try:
            check_format(reader, src)
            have = {t: {r[1] for r in reader.execute(f"PRAGMA table_info({t})")}
                    for t in _COLUMNS}
            found = {table: _rows(reader, table, [c for c in columns if c in have[table]])
                     if have[table] else ([], 0) for table, columns in _COLUMNS.items()}
        finally:
            reader.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(
            f"Nothing can be salvaged from {src!r}: SQLite cannot read even its list of tables "
            f"({exc}). Restore the file from a backup if you have one.") from None
    return _write(dst, found)


def _rows(conn: sqlite3.Connection, table: str, columns: list[str]) -> tuple[list[dict], int]:
    """The readable rows of ``table`` (as dicts) and how many row ids were skipped."""
    rows, skipped, last = [], 0, None
    for rowid, values in _readable(conn, table, columns):
        row = dict(zip(columns, values))
        try:
            for name in _JSON[table]:
                if row.get(name) is not None:
                    json.loads(row[name])
        except (ValueError, TypeError):
            skipped += 1
            continue
        if last is not None:
            skipped += rowid - last - 1
        last = rowid
        rows.append(row)
    return rows, skipped


def _readable(conn: sqlite3.Connection, table: str,
              columns: list[str]) -> Iterator[tuple[int, tuple]]:
    """``(rowid, values)`` of every row that can be read, in rowid order, one at a time."""
    sql = f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE rowid >= ? ORDER BY rowid " \
          "LIMIT 1"

    def works(bound: int) -> bool:
        try:
            conn.execute(sql, (bound,)).fetchone()
        except sqlite3.DatabaseError:
            return False
        return True

    bound: int | None = _LOWEST
    while bound is not None:
        try:
            row = conn.execute(sql, (bound,)).fetchone()
        except sqlite3.DatabaseError:
            bound = _past_damage(works, bound)
            continue
        if row is None:
            return
        yield row[0], row[1:]
        bound = row[0] + 1


_LOWEST, _HIGHEST = -(2 ** 63), 2 ** 63 - 1


def _past_damage(works: Callable[[int], bool], bad: int) -> int | None:
    """The smallest lower bound above ``bad`` whose query works (``None``: none does).

    A bound that lands inside a damaged page (or on a row whose text does not decode) fails,
    one past it works: doubling steps find a working bound, bisection the smallest one.
    """
    step = 1
    while not works(bad + step):
        bad += step
        step *= 2
        if bad + step > _HIGHEST:
            return None
    good = bad + step
    while good - bad > 1:
        middle = (bad + good) // 2
        bad, good = (bad, middle) if works(middle) else (middle, good)
    return good


def _write(dst: str, found: dict[str, tuple[list[dict], int]]) -> dict[str, int]:
    studies, studies_lost = found["studies"]
    trials, trials_lost = found["trials"]
    reports, _ = found["reports"]
    metric_reports, _ = found["metric_reports"]
    known = {s["id"] for s in studies}
    for orphan in sorted({t["study_id"] for t in trials} - known):
        studies.append({"id": orphan, "name": f"salvaged-{orphan}", "direction": "minimize",
                        "created": min(t["started"] or 0 for t in trials
                                       if t["study_id"] == orphan)})
    kept_trials = {t["id"] for t in trials}
    reports = [r for r in reports if r["trial_id"] in kept_trials]
    metric_reports = [r for r in metric_reports if r["trial_id"] in kept_trials]
    try:
        conn = sqlite3.connect(dst, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            init_schema(conn, dst)
            for table, rows in (("studies", studies), ("trials", trials), ("reports", reports),
                                ("metric_reports", metric_reports)):
                for row in rows:
                    conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                                 f"({', '.join('?' * len(row))})", tuple(row.values()))
            conn.execute("COMMIT")
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise user_error(exc, dst) from None
    return {"studies": len(studies), "trials": len(trials), "reports": len(reports),
            "studies_lost": studies_lost, "trials_lost": trials_lost}
