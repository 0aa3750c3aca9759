"""Who runs a trial, whether that kernel is still alive, and the heartbeat that shows it.

A running trial in an SQLite file records its owner: the host name, the pid and a token of the
kernel that runs it. The token names the boot, the pid namespace and the start time of that
process (from Linux ``/proc``) plus a random part, so another process on the same host can tell
a dead kernel from a live one even after the pid was reused. Kernels elsewhere (another host,
another pid namespace) are judged by the heartbeat their storage writes every few seconds.
"""

from __future__ import annotations

import functools
import os
import socket
import sqlite3
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from typing import Any

from ._storage_base import params_json

__all__ = ["Owner", "Heartbeat"]


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def _boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").strip("pid:[]")
    except OSError:
        return ""


def _process_start(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks since boot)`` of a process, ``None`` when it is gone."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[0], fields[19]


def _alive(pid: int, started: str) -> bool | None:
    """Whether process ``pid`` (started at ``started`` ticks, when known) still runs on this
    host; ``None`` where that cannot be told (no ``/proc`` and no safe signal 0 on Windows)."""
    if os.path.isdir("/proc/self"):
        now = _process_start(pid)
        return now is not None and now[0] != "Z" and (not started or now[1] == started)
    if os.name == "nt":
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@functools.cache
def _owner_of(pid: int) -> Owner:
    # Keyed by pid, so a forked child gets its own identity.
    started = _process_start(pid) or ("", "")
    token = "/".join((_boot_id()[:8], _pid_namespace(), started[1], uuid.uuid4().hex[:8]))
    return Owner(socket.gethostname(), pid, token)


@dataclass(frozen=True)
class Owner:
    """The kernel that runs a trial: ``host``, ``pid`` and a ``token`` unique to that process."""

    host: str
    pid: int
    token: str

    @classmethod
    def this_process(cls) -> Owner:
        """The owner of the trials this process starts."""
        return _owner_of(os.getpid())

    def death(self, heartbeat: float | None, grace: float) -> str | None:
        """Why this owner is known to be gone (``None`` while it may be alive).

        On this host a process is gone when its pid is free, a zombie, or taken by another
        process; elsewhere when its heartbeat is older than ``grace`` seconds.
        """
        me = Owner.this_process()
        boot, namespace, started = (self.token.split("/") + ["", "", ""])[:3]
        if self.host == me.host and boot == _boot_id()[:8] and namespace == _pid_namespace():
            if self.pid == me.pid:
                return None if self.token == me.token else "died while it ran"
            alive = _alive(self.pid, started)
            if alive is not None:
                return None if alive else "died while it ran"
        age = time.time() - (heartbeat or 0.0)
        if age > grace:
            return f"sent no heartbeat for {age:.0f} s (more than {grace:g} s)"
        return None


def _params_text(trial: Any) -> str | None:
    """The JSON of the parameters ``trial`` has drawn so far, with those the sampler decided
    for it when it was asked (``None``: none yet).

    A trial in a worker process draws its decided values there and tells the kernel with its
    next message, maybe only at its end: saved here, they let the next kernel re-run it if
    this one dies first. Its end replaces them with the values it drew.
    """
    try:
        params = {**getattr(trial, "relative", {}), **trial.params}
        # The decided values are the study's known distributions' (a choice's option by its
        # own stored form), the drawn ones the trial's.
        space = {**getattr(trial._host, "_known", {}), **trial.distributions}
    except RuntimeError:  # changed while copied: the next beat takes it
        return None
    return params_json(params, space) if params else None


class Heartbeat:
    """Writes the time into ``trials.heartbeat`` of the running trials one storage owns, and
    saves the parameters such a trial has drawn so far.

    A daemon thread lives while there are such trials and beats every ``interval`` seconds on
    its own connection with a short busy timeout: a file locked by another process makes it skip
    a beat, and trial writes never wait for more than its one-statement transaction.

    Parameters of a define-by-run trial are otherwise stored with its first report or its end;
    saved within ``params_interval`` seconds here, they let the next kernel re-run a trial
    whose kernel died (see ``Storage.recover_orphans``) at the cost of one write per changed
    trial, never one per parameter.
    """

    def __init__(self, path: str, interval: float, params_interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self.params_interval = min(params_interval, interval)
        #: Running trials to watch, and the parameters (JSON) last saved for each.
        self._trials: dict[int, Any] = {}
        self._saved: dict[int, str] = {}
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, trial_id: int, trial: Any = None) -> None:
        with self._lock:
            self._ids.add(trial_id)
            if trial is not None:
                self._trials[trial_id] = trial
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name=f"hpt-heartbeat {self.path}")
                self._thread.start()

    def discard(self, trial_id: int) -> None:
        with self._lock:
            self._ids.discard(trial_id)
            self._trials.pop(trial_id, None)
            self._saved.pop(trial_id, None)

    def _changed_params(self) -> list[tuple[int, str]]:
        """Trials whose parameters grew since they were last saved, with their JSON (under
        ``_lock``; compared as text, which an array among the values cannot make ambiguous)."""
        out = []
        for trial_id, trial in self._trials.items():
            params = _params_text(trial)
            if params is not None and params != self._saved.get(trial_id):
                out.append((trial_id, params))
        return out

    def stop(self) -> None:
        """End the thread (for good) and wait a moment for it."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _run(self) -> None:
        # mode=rw: a file deleted meanwhile is not created again by a heartbeat.
        try:
            conn = sqlite3.connect(f"file:{urllib.parse.quote(self.path)}?mode=rw", uri=True,
                                   timeout=0.25, isolation_level=None)
        except sqlite3.Error:
            with self._lock:
                self._thread = None
            return
        try:
            last_beat = time.monotonic()
            while not self._stop.wait(self.params_interval):
                with self._lock:
                    ids = list(self._ids)
                    if not ids:
                        self._thread = None
                        return
                    changed = self._changed_params()
                try:
                    for trial_id, params in changed:
                        conn.execute("UPDATE trials SET params=? WHERE id=? AND state='running'",
                                     (params, trial_id))
                        with self._lock:
                            if trial_id in self._trials:
                                self._saved[trial_id] = params
                    if time.monotonic() - last_beat >= self.interval:
                        conn.execute(f"UPDATE trials SET heartbeat=? WHERE id IN "
                                     f"({','.join('?' * len(ids))})", (time.time(), *ids))
                        last_beat = time.monotonic()
                except sqlite3.Error:
                    # A locked or vanished file: skip this beat. The trial writes themselves
                    # report such a file to the user.
                    pass
        finally:
            conn.close()
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
