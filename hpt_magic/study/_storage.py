"""Where studies live: in memory (:class:`InMemoryStorage`) or in an SQLite file
(:class:`SQLiteStorage`), and which storage a path opens (:func:`make_storage`).

The storages a process has open live on one owner, :data:`STORAGES`, a
:class:`StorageRegistry`: every study of one file in a kernel shares one connection and one
heartbeat, and a storage that was closed or whose file was deleted is opened afresh.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from ..distributions import Distribution, from_json
from ..exceptions import StorageError
from ._sqlite_storage import SQLiteStorage
from ._storage_base import InMemoryStorage, Storage

__all__ = ["Storage", "InMemoryStorage", "SQLiteStorage", "StorageRegistry", "STORAGES",
           "make_storage", "DEFAULT_STORAGE"]

DEFAULT_STORAGE = "hpt_studies.db"


class StorageRegistry:
    """The SQLite storages open in this process, one per file.

    A storage that was closed, whose file was deleted or replaced, or whose read-only file
    became writable, is opened afresh by the next :meth:`open` (the stale one is closed).

    Examples
    --------
    >>> import os, tempfile
    >>> registry = StorageRegistry()
    >>> path = os.path.join(tempfile.mkdtemp(), "s.db")
    >>> first = registry.open(path)
    >>> registry.open(path) is first
    True
    >>> first.close()
    >>> registry.open(path) is first
    False
    >>> registry.close_all()
    """

    def __init__(self) -> None:
        self._open: dict[str, SQLiteStorage] = {}
        self._lock = threading.Lock()

    def open(self, path: str | os.PathLike) -> SQLiteStorage:
        """The storage of the file at ``path``, opened (or created) on first use."""
        key = os.path.realpath(os.fspath(path))
        with self._lock:
            storage = self._open.get(key)
            if storage is None or not storage.is_current():
                if storage is not None:
                    # Writes to a deleted file would vanish: its studies learn it is closed.
                    storage.close()
                storage = self._open[key] = SQLiteStorage(key)
            return storage

    def close_all(self) -> None:
        """Close every storage of this registry."""
        with self._lock:
            for storage in self._open.values():
                storage.close()
            self._open.clear()


STORAGES = StorageRegistry()
"""The registry of this process, used by :func:`make_storage`."""


def make_storage(storage: str | os.PathLike | Storage | None) -> Storage:
    """``None`` -> a new in-memory storage; a path -> the storage of that file in
    :data:`STORAGES` (shared by the studies of this process); a :class:`Storage` -> itself."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise StorageError(f"storage must be a file path or a Storage, got {storage!r}.")
    return STORAGES.open(storage)


def stored_storage(storage: str | os.PathLike | Storage) -> Storage:
    """The storage of studies that were stored before: like :func:`make_storage`, but a path
    that does not exist is an error (a reader never creates a file)."""
    if isinstance(storage, (str, os.PathLike)):
        path = os.fspath(storage)
        where = "Check the path; studies are stored where --storage pointed when they ran."
        if not os.path.exists(path):
            raise StorageError(f"There is no study file at {path!r}. {where}")
        if os.path.isfile(path) and os.path.getsize(path) == 0:
            # Opened, it would become a study database: a reader writes nothing.
            raise StorageError(f"The file {path!r} is empty: no study was ever stored in it. "
                               f"{where}")
    return make_storage(storage)


def space_to_json(space: dict[str, Distribution]) -> dict[str, Any]:
    return {k: d.to_json() for k, d in space.items()}


def space_from_json(data: dict[str, Any]) -> dict[str, Distribution]:
    return {k: from_json(v) for k, v in data.items()}
