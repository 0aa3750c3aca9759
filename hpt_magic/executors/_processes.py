"""Local worker processes for parallel trials: one pipe per process, replaced when it dies.

``concurrent.futures.ProcessPoolExecutor`` and loky both fail every running task when one
worker dies (``BrokenProcessPool`` / ``TerminatedWorkerError``); owning the processes lets a
killed worker fail only its own trial. Workers start from the ``forkserver`` (``spawn`` where
there is none), never by forking the kernel with its threads, and ignore ``SIGINT``: the
kernel's interrupt reaches the whole process group, and the kernel alone decides what stops.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from multiprocessing.connection import Connection, wait
from typing import Any

from ..distributions import Distribution
from ..trial import Trial
from ._base import Executor
from ._worker import dump_outcome, dumps, loads, run_remote, trial_spec, with_worker

__all__ = ["ProcessPool", "worker_main", "prestart"]


class _PipeChannel:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def request(self, message: tuple) -> tuple:
        self.conn.send_bytes(dumps(message))
        return loads(self.conn.recv_bytes())


def _exit_with_the_kernel(alive: Connection) -> None:
    """Wait until the kernel's end of ``alive`` closes (it never writes: only its death or
    the pool's close does that), then end this process at once: a kernel killed with SIGKILL
    cannot stop its workers, and the next kernel re-runs the trial they are running."""
    try:
        alive.recv_bytes()
    except (EOFError, OSError):
        pass
    os._exit(1)


def worker_main(conn: Connection, blob: bytes, alive: Connection,
                environ: dict[str, str] | None = None) -> None:
    """Body of a worker process: take on the kernel's environment variables (``environ``),
    load the objective once, then run the trials it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if environ is not None:
        # The fork server's are those of the kernel when it started (at %load_ext): a
        # variable a later cell sets (CUDA_VISIBLE_DEVICES, an API key) would be missing.
        for key in set(os.environ) - set(environ):
            del os.environ[key]
        os.environ.update(environ)
    # A thread blocked on a pipe costs the trials nothing (it holds no GIL while it waits).
    threading.Thread(target=_exit_with_the_kernel, args=(alive,), name="hpt-kernel-watch",
                     daemon=True).start()
    try:
        objective = loads(blob)
    except Exception as exc:
        conn.send_bytes(dumps(("broken", None, f"{type(exc).__name__}: {exc}")))
        return
    channel = _PipeChannel(conn)
    while True:
        try:
            spec = loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if spec is None:
            return
        outcome = run_remote(objective, spec, channel)
        conn.send_bytes(dumps(("done", spec["number"], dump_outcome(outcome))))


class _Worker:
    def __init__(self, process: Any, conn: Connection, slot: int) -> None:
        self.process = process
        self.conn = conn
        self.slot = slot  # kept by the process that replaces it: the trial's ``worker``
        self.number: int | None = None  # the trial it runs


def main_module_spec() -> None:
    """Give ``__main__`` a ``__spec__`` attribute when it has none.

    IPython's ``InteractiveShell`` replaces ``__main__`` by a module object without one, and
    ``multiprocessing``'s spawn and forkserver start methods read it (``None`` is what Python
    itself sets for an interactive session, and means: do not re-import ``__main__``).
    """
    main = sys.modules.get("__main__")
    if main is not None and not hasattr(main, "__spec__"):
        main.__spec__ = None


def _context() -> Any:
    main_module_spec()
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["hpt_magic.executors._processes"])
        return ctx
    return multiprocessing.get_context("spawn")


def prestart() -> threading.Thread | None:
    """Start the forkserver in a background thread, once per process.

    Booting it (a fresh interpreter importing numpy and the package) is most of a first
    ``--jobs`` run's start-up, about a second; started early (at ``%load_ext``, or when a cell
    asks for workers, before its first trial is sampled), a later :class:`ProcessPool`
    finds it running, and workers fork from it in milliseconds. Later cells of the kernel
    reuse it. Returns the thread, or ``None`` where there is no forkserver.
    """
    ctx = _context()
    if ctx.get_start_method() != "forkserver":
        return None
    from multiprocessing import forkserver

    thread = threading.Thread(target=forkserver.ensure_running, name="hpt-forkserver",
                              daemon=True)
    thread.start()
    return thread


class ProcessPool(Executor):
    """``n_workers`` local processes running trials of one pickled objective.

    Messages come back as tuples: ``("suggest" | "report", number, ...)`` requests that
    await :meth:`reply`, ``("done", number, outcome)``, ``("lost", number, why)`` when the
    process running trial ``number`` died (a fresh process replaces it), and
    ``("broken", None, why)`` when a worker cannot load the objective. A finished trial's
    ``user_attrs["worker"]`` is the slot (0 to ``n_workers - 1``) of the process that ran it.
    """

    def __init__(self, n_workers: int, blob: bytes,
                 catch: bool | tuple[type[Exception], ...] = True) -> None:
        self.size = n_workers
        self._blob = blob
        self._catch = catch
        self._ctx = _context()
        self._inbox: deque[tuple] = deque()
        self._idle_deaths = 0
        # Only this process holds the writing end (non-inheritable, never sent): the workers'
        # ends see EOF the moment it dies, however it dies.
        self._alive, self._alive_w = self._ctx.Pipe(duplex=False)
        self._workers = [self._spawn(slot) for slot in range(n_workers)]

    def _spawn(self, slot: int) -> _Worker:
        ours, theirs = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(target=worker_main,
                                    args=(theirs, self._blob, self._alive, dict(os.environ)),
                                    name="hpt-worker")
        process.start()
        theirs.close()  # so that our end sees EOF when the process dies
        return _Worker(process, ours, slot)

    def submit(self, trial: Trial, known: dict[str, Distribution]) -> None:
        """Run a trial on an idle worker (the caller keeps at most ``size`` running)."""
        worker = next(w for w in self._workers if w.number is None)
        worker.number = trial.number
        _send(worker.conn, trial_spec(trial, known, self._catch))

    def reply(self, number: int, reply: tuple) -> None:
        """Answer the request of the worker running trial ``number``."""
        for worker in self._workers:
            if worker.number == number:
                _send(worker.conn, reply)
                return

    def next_message(self, timeout: float) -> tuple | None:
        """The next message from the workers, or ``None`` after ``timeout`` seconds."""
        if not self._inbox:
            ready = wait([w.conn for w in self._workers], timeout)
            for worker in [w for w in self._workers if w.conn in ready]:
                self._receive(worker)
        return self._inbox.popleft() if self._inbox else None

    def _receive(self, worker: _Worker) -> None:
        try:
            message = loads(worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._replace(worker)
            return
        if message[0] == "done":
            worker.number = None
            message = ("done", message[1], with_worker(loads(message[2]), worker.slot))
        self._inbox.append(message)

    def _replace(self, worker: _Worker) -> None:
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        worker.conn.close()
        if worker.number is not None:
            self._inbox.append(("lost", worker.number, _exit_reason(code)))
        else:
            self._idle_deaths += 1
            if self._idle_deaths > 2 * self.size:  # they die before any trial: do not loop
                self._workers.remove(worker)
                self._inbox.append(("broken", None, f"worker processes keep dying before "
                                                    f"running a trial ({_exit_reason(code)})"))
                return
        self._workers[self._workers.index(worker)] = self._spawn(worker.slot)

    def stop_trial(self, number: int) -> None:
        """Kill the process running trial ``number`` and start a fresh one in its place."""
        for i, worker in enumerate(self._workers):
            if worker.number == number:
                worker.process.kill()
                worker.process.join(timeout=5)
                worker.conn.close()
                self._workers[i] = self._spawn(worker.slot)
                # A message it sent before dying belongs to a trial that is over.
                self._inbox = deque(m for m in self._inbox if m[1] != number)
                return

    def cancel(self) -> None:
        """Kill every worker at once (an interrupt or an error ends the run)."""
        for worker in self._workers:
            worker.process.kill()
        for worker in self._workers:
            worker.process.join(timeout=5)
            worker.conn.close()
        self._workers = []
        self._release()

    def _release(self) -> None:
        """Close the pipe that tells the workers that the kernel lives (they are gone)."""
        self._alive.close()
        self._alive_w.close()

    def close(self) -> None:
        """Let idle workers exit, and kill any that do not within a second."""
        for worker in self._workers:
            _send(worker.conn, None)
        for worker in self._workers:
            worker.process.join(timeout=1)
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join(timeout=5)
            worker.conn.close()
        self._workers = []
        self._release()


def _send(conn: Connection, message: Any) -> None:
    try:
        conn.send_bytes(dumps(message))
    except OSError:
        pass  # the process just died: reading its pipe reports it, with its trial


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
